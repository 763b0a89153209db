"""Without a reachable Prefect API, every command that needs it fails in one line, early."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings

from campaigns.christmas_campaign.samples import SAMPLE_SIGNUPS
from campaigns.cli.orchestration import worker_path
from campaigns.models import Segment, SequenceStatus
from campaigns.notion_crm import NotionCRM
from campaigns.tests.cli.conftest import no_traceback, run

UNREACHABLE = "http://127.0.0.1:9/api"
SIGNUP = [
    "signup", "--email", "nina@example.com", "--first-name", "Nina", "--business-name", "Bakery",
    "--red", "0", "--orange", "2", "--yellow", "3", "--green", "3", "--score", "70",
]  # fmt: skip


@pytest.fixture
def no_prefect() -> Iterator[None]:
    """Point Prefect at a port nothing listens on (whatever harness may be running)."""
    with temporary_settings(updates={PREFECT_API_URL: UNREACHABLE}):
        yield


@pytest.mark.parametrize(
    "args",
    [["deploy"], ["worker"], ["serve"], SIGNUP, ["cancel", "x@example.com"]],
    ids=["deploy", "worker", "serve", "signup", "cancel"],
)
def test_unreachable_api_is_one_error_line(
    no_prefect: None, bare_env: Path, args: list[str]
) -> None:
    """The command names the URL it tried and what to start."""
    result = run(*args)
    assert result.exit_code == 1
    no_traceback(result)
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1
    assert f"The Prefect API at {UNREACHABLE} is not reachable" in errors[0]
    assert "prefect server start" in errors[0]


def test_unset_api_url_says_how_to_set_it(bare_env: Path) -> None:
    """With no PREFECT_API_URL at all, the error shows the export to run."""
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        result = run("deploy")
    assert result.exit_code == 1
    no_traceback(result)
    assert "PREFECT_API_URL is not set" in result.output
    assert "export PREFECT_API_URL=" in result.output


def test_cancel_changes_nothing_when_prefect_is_down(no_prefect: None, cli_env: NotionCRM) -> None:
    """Cancel checks Prefect before writing to Notion, so a failed cancel leaves no half-state."""
    signup = SAMPLE_SIGNUPS[Segment.URGENT]
    contact = cli_env.find_or_create_contact(signup)
    cli_env.enroll_contact(contact, signup, Segment.URGENT, datetime.now(UTC))
    result = run("cancel", signup.email)
    assert result.exit_code == 1
    assert cli_env.contact_status(signup.email) == SequenceStatus.ACTIVE


def test_status_without_prefect_still_shows_notion(no_prefect: None, cli_env: NotionCRM) -> None:
    """Status shows the Notion record and warns that Prefect could not be read."""
    signup = SAMPLE_SIGNUPS[Segment.OPTIMIZE]
    contact = cli_env.find_or_create_contact(signup)
    cli_env.enroll_contact(contact, signup, Segment.OPTIMIZE, datetime.now(UTC))
    result = run("status", signup.email)
    assert result.exit_code == 0, result.output
    assert "Warning: Prefect not read" in result.output
    assert "OPTIMIZE" in result.output and "Active" in result.output
    assert "christmas_email_7c_optimize" in result.output


def test_status_of_an_unknown_contact(cli_env: NotionCRM) -> None:
    """An address with no contact row is one error line pointing to signup."""
    result = run("status", "nobody@example.com")
    assert result.exit_code == 1
    no_traceback(result)
    assert "No contact nobody@example.com" in result.output and "campaign signup" in result.output


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (["--red", "3"], "--red + --orange + --yellow + --green: Value error"),
        (["--email", "not-an-address"], "--email: value is not a valid email address"),
        (["--score", "101"], "--score: Input should be less than or equal to 100"),
        (["--first-name", "{{ x }}"], "--first-name: Value error, must not contain"),
    ],
)
def test_signup_validation_names_the_option(
    bare_env: Path, change: list[str], expected: str
) -> None:
    """An invalid signup never reaches Prefect; the error names the command-line option."""
    args = list(SIGNUP)
    index = args.index(change[0])
    args[index + 1] = change[1]
    with temporary_settings(updates={PREFECT_API_URL: UNREACHABLE}):
        result = run(*args)
    assert result.exit_code == 1
    no_traceback(result)
    assert result.output.startswith("Error: Invalid input: ") and expected in result.output


def test_signup_dry_run_classifies_without_prefect(no_prefect: None, bare_env: Path) -> None:
    """`--dry-run` validates and prints the segment, touching nothing."""
    result = run(*SIGNUP, "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Signup valid: nina@example.com, segment URGENT."


@pytest.mark.parametrize(
    ("path", "expected_rest"),
    [
        ("/usr/bin:/bin", ["/usr/bin", "/bin"]),
        ("", []),
        ("/bin::/usr/bin", ["/bin", "/usr/bin"]),
        (None, os.defpath.split(os.pathsep)),
    ],
    ids=["plain", "empty", "empty-entry", "unset"],
)
def test_worker_path_puts_this_interpreter_first(
    path: str | None, expected_rest: list[str]
) -> None:
    """The worker's runs find this environment's `python` first, its folder only once, and
    never the working directory (an empty entry)."""
    here = str(Path(sys.executable).parent)
    env = {} if path is None else {"PATH": path}
    assert worker_path(env).split(os.pathsep) == [here, *expected_rest]
    assert worker_path({"PATH": worker_path(env)}) == worker_path(env)
