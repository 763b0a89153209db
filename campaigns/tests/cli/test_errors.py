"""How every command reports failure: one line, a hint, status 1; `--debug` shows the traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from campaigns.cli import simulate as simulate_module
from campaigns.cli.main import app
from campaigns.cli.output import message_for, one_line
from campaigns.errors import (
    DeploymentMissing,
    InputError,
    NotionAuthError,
    SettingsError,
)
from campaigns.tests.cli.conftest import no_traceback, run


def test_missing_settings_name_the_variables(bare_env: Path) -> None:
    """A command needing Notion without its settings names them and points to doctor."""
    result = run("status", "someone@example.com")
    assert result.exit_code == 1
    no_traceback(result)
    line = result.output.strip()
    assert line.startswith("Error: Missing required setting(s): NOTION_TOKEN")
    assert "`campaign doctor`" in line and "\n" not in line


def test_debug_lets_the_exception_through(bare_env: Path) -> None:
    """With --debug the original exception escapes, for its traceback."""
    result = CliRunner().invoke(app, ["--debug", "simulate", "--segment", "URGENT", "--tz", "X/Y"])
    assert result.exit_code != 0
    assert isinstance(result.exception, InputError)


def test_unexpected_errors_are_one_line_too(
    bare_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in a command is still one line, pointing to --debug, not a traceback."""

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the timeline is broken")

    monkeypatch.setattr(simulate_module, "timeline", broken)
    result = run("simulate", "--segment", "URGENT", "--tz", "UTC")
    assert result.exit_code == 1
    no_traceback(result)
    assert "Error: Unexpected RuntimeError: the timeline is broken." in result.output
    assert "--debug" in result.output


def test_hints_match_the_error_class() -> None:
    """Each family of errors gets the command that fixes it, unless its message names one."""
    assert "`campaign deploy`" in message_for(DeploymentMissing("christmas-x/christmas-y"))
    assert "`campaign doctor`" in message_for(NotionAuthError("Token refused.", status=401))
    settings = message_for(SettingsError("Set it with `export X=1`."))
    assert settings == "Set it with `export X=1`."


def test_long_multiline_messages_are_flattened() -> None:
    """A subprocess's output inside a message does not break the one-line rule."""
    text = one_line("deploy failed:\n" + "line\n" * 400, limit=100)
    assert "\n" not in text and len(text) == 100 and text.endswith("...")


def test_version_and_help(bare_env: Path) -> None:
    """`--version` prints the package version; no arguments prints the help."""
    assert run("--version").output.startswith("campaign ")
    result = run()
    assert "demo" in result.output and "doctor" in result.output
