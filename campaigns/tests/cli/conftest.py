"""Fixtures of the `campaign` command tests: a runner, the stand-ins in the environment, Prefect.

`prefect_server` is the session fixture of `campaigns/tests/fixtures.py`, shared with the flow
tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from campaigns.christmas_campaign.seed_templates import seed_templates
from campaigns.cli import output
from campaigns.cli.main import app
from campaigns.notion_crm import NotionCRM
from campaigns.standins.notion import NotionStandIn
from campaigns.standins.resend import ResendStandIn
from campaigns.testing import standin_env

SETTINGS_NAMES = (
    "NOTION_TOKEN",
    "NOTION_CONTACTS_DB_ID",
    "NOTION_TEMPLATES_DB_ID",
    "NOTION_SENDS_DB_ID",
    "NOTION_API_URL",
    "RESEND_API_KEY",
    "RESEND_API_URL",
    "EMAIL_FROM",
    "EMAIL_REPLY_TO",
    "POSTAL_ADDRESS",
    "PUBLIC_BASE_URL",
    "UNSUBSCRIBE_SECRET",
    "BOOKING_URL",
    "SIGNUP_WEBHOOK_SECRET",
    "RESEND_WEBHOOK_SECRET",
    "TESTING_MODE",
    "SEQUENCE_TIME_SCALE",
    "CAMPAIGN_TIMEZONE",
    "CAMPAIGN_ENDS_AT",
    "MIN_EMAIL_GAP",
    "SEND_WINDOW",
    "SEND_WINDOW_IN_TESTING",
)


WIDTH = 250


def run(*args: str) -> Result:
    """Invoke `campaign ARGS` in-process, wide enough that tables keep whole cells."""
    # The consoles read COLUMNS when they are created (a pytest-xdist worker sets it to 80).
    widths = output.out.width, output.err.width
    output.out.width = output.err.width = WIDTH
    try:
        return CliRunner().invoke(
            app, list(args), env={"COLUMNS": str(WIDTH), "CAMPAIGN_DEBUG": None}
        )
    finally:
        output.out.width, output.err.width = widths


def no_traceback(result: Result) -> None:
    """The command handled its failure itself: nothing escaped, nothing printed a traceback."""
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


@pytest.fixture
def bare_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No campaign setting in the environment, and a working directory without a `.env`."""
    for name in SETTINGS_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def unseeded_env(
    monkeypatch: pytest.MonkeyPatch,
    bare_env: Path,
    notion_crm: NotionCRM,
    notion_standin: NotionStandIn,
    resend_standin: ResendStandIn,
) -> NotionCRM:
    """Every setting pointing at fresh stand-ins whose three databases exist but hold nothing."""
    env = standin_env(
        notion_crm.database_ids, notion_standin.url, resend_standin.url, notion_rate=0
    ) | {
        "SIGNUP_WEBHOOK_SECRET": "whsec_c2lnbnVwLXNlY3JldA==",
        "RESEND_WEBHOOK_SECRET": "whsec_cmVzZW5kLXNlY3JldA==",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return notion_crm


@pytest.fixture
def cli_env(unseeded_env: NotionCRM) -> NotionCRM:
    """The stand-ins in the environment, with the campaign's eleven templates seeded."""
    seed_templates(unseeded_env)
    return unseeded_env
