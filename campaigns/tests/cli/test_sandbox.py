"""The demo's sandbox folder: one demo at a time, a run counter, `--fresh` removes only its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaigns.christmas_campaign.samples import SAMPLE_SIGNUPS
from campaigns.cli.demo.sandbox import Sandbox, demo_signups
from campaigns.errors import SandboxError
from campaigns.tests.cli.conftest import no_traceback, run


def test_runs_are_counted(tmp_path: Path) -> None:
    """A new sandbox is run 1; every demo adds one, and the count survives."""
    sandbox = Sandbox(tmp_path / "state")
    with sandbox.locked():
        assert sandbox.next_run() == 1
        assert sandbox.next_run() == 2
    assert Sandbox(tmp_path / "state").next_run() == 3


def test_later_runs_enroll_fresh_addresses() -> None:
    """Run 1 uses the sample addresses; run 3 plus-addresses them, one contact per segment."""
    assert [s.email for s in demo_signups(1)] == [s.email for s in SAMPLE_SIGNUPS.values()]
    third = demo_signups(3)
    assert [s.email for s in third] == [
        "maria+demo3@harbourplumbing.example",
        "tom+demo3@brightpathaccounting.example",
        "ava+demo3@northlightstudio.example",
    ]
    assert [s.first_name for s in third] == ["Maria", "Tom", "Ava"]


def test_a_second_demo_on_the_same_folder_is_refused(tmp_path: Path) -> None:
    """The lock keeps two demos from sharing one Prefect database and one outbox."""
    sandbox = Sandbox(tmp_path)
    with (
        sandbox.locked(),
        pytest.raises(SandboxError, match="--state-dir"),
        Sandbox(tmp_path).locked(),
    ):
        pass
    with Sandbox(tmp_path).locked():  # released again
        pass


def test_the_demo_command_reports_a_busy_sandbox(tmp_path: Path) -> None:
    """`campaign demo` on a folder in use is one error line, before anything starts."""
    with Sandbox(tmp_path).locked():
        result = run("demo", "--no-ui", "--state-dir", str(tmp_path))
    assert result.exit_code == 1
    no_traceback(result)
    assert "Another `campaign demo` is using" in result.output


def test_fresh_removes_only_what_the_demo_made(tmp_path: Path) -> None:
    """Wiping leaves files the demo did not create, such as a user's own notes."""
    for name in ("notion.json", "resend.json", "databases.json", "demo.json"):
        (tmp_path / name).write_text("{}")
    (tmp_path / "prefect").mkdir()
    (tmp_path / "prefect" / "prefect.db").write_text("")
    (tmp_path / "notes.txt").write_text("mine")
    removed = Sandbox(tmp_path).wipe()
    assert set(removed) == {"notion.json", "resend.json", "databases.json", "demo.json", "prefect"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_bad_demo_options_are_refused(tmp_path: Path) -> None:
    """A zero time scale is refused before anything starts."""
    result = run("demo", "--no-ui", "--state-dir", str(tmp_path), "--time-scale", "0")
    assert result.exit_code == 1
    assert "--time-scale and --timeout must be positive" in result.output
