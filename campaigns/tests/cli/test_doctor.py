"""`campaign doctor`: settings, the Notion schemas, Resend (Prefect is covered with the server)."""

from __future__ import annotations

from pathlib import Path

import pytest
from notion_client import Client

from campaigns.cli.doctor import Check, Result, run_doctor
from campaigns.cli.doctor_services import notion_checks, resend_checks
from campaigns.notion_crm import NotionCRM
from campaigns.standins.notion import NotionStandIn
from campaigns.testing import NOTION_TOKEN
from campaigns.tests.cli.conftest import no_traceback, run


def _failed(checks: list[Check], area: str | None = None) -> list[Check]:
    return [c for c in checks if c.result == Result.FAIL and (area is None or c.area == area)]


def _rename(notion: NotionStandIn, crm: NotionCRM, key: str, old: str, new: str) -> None:
    source = crm.data_source(key)
    client = Client(auth=NOTION_TOKEN, base_url=notion.url)
    client.data_sources.update(data_source_id=source, properties={old: {"name": new}})


def test_a_renamed_property_is_reported_exactly(
    cli_env: NotionCRM, notion_standin: NotionStandIn
) -> None:
    """One renamed column gives one failed check naming it, its type and the rename to make."""
    _rename(notion_standin, cli_env, "contacts", "Email", "E-mail")
    checks = run_doctor([notion_checks, resend_checks])
    assert _failed(checks) == [
        Check(
            "Notion",
            "Contacts schema",
            Result.FAIL,
            "property 'Email' (email) is missing: rename 'E-mail' (email) to 'Email'",
        )
    ]
    result = run("doctor")
    assert result.exit_code == 1
    no_traceback(result)
    assert "rename 'E-mail' (email) to 'Email'" in result.output
    assert "Email Templates schema" in result.output and "Email Sends schema" in result.output


def test_a_retyped_property_says_which_type(
    cli_env: NotionCRM, notion_standin: NotionStandIn
) -> None:
    """A property of the wrong type is reported with the type it must have."""
    source = cli_env.data_source("sends")
    client = Client(auth=NOTION_TOKEN, base_url=notion_standin.url)
    client.data_sources.update(data_source_id=source, properties={"Sent At": {"rich_text": {}}})
    failed = _failed(run_doctor([notion_checks]))
    assert [c.detail for c in failed] == [
        "property 'Sent At' is rich_text: change its type to date"
    ]


def test_everything_right_passes(cli_env: NotionCRM) -> None:
    """With every setting and the stand-ins, Notion and Resend pass (the domain is unchecked)."""
    checks = run_doctor([notion_checks, resend_checks])
    assert _failed(checks) == []
    passed = {(c.area, c.name) for c in checks if c.result == Result.PASS}
    assert {
        ("Notion", "NOTION_TOKEN"),
        ("Notion", "Contacts schema"),
        ("Notion", "Email Templates schema"),
        ("Notion", "Email Sends schema"),
        ("Resend", "RESEND_API_KEY"),
        ("Settings", "EMAIL_FROM format"),
    } <= passed
    warned = {c.name for c in checks if c.result == Result.WARN}
    assert "sender domain review.example" in warned and "TESTING_MODE" in warned


def test_missing_settings_each_fail_by_name(bare_env: Path) -> None:
    """Every missing required setting is one failed row; the service checks are skipped."""
    result = run("doctor")
    assert result.exit_code == 1
    no_traceback(result)
    checks = run_doctor([notion_checks, resend_checks])
    failed = {c.name for c in _failed(checks, "Settings")}
    assert {
        "NOTION_TOKEN",
        "RESEND_API_KEY",
        "EMAIL_FROM",
        "POSTAL_ADDRESS",
        "BOOKING_URL",
    } <= failed
    assert {c.area for c in checks if c.result == Result.SKIP} == {"Notion", "Resend"}


@pytest.mark.parametrize(
    ("name", "value", "check", "expected"),
    [
        ("NOTION_TOKEN", "ntn_wrong", "NOTION_TOKEN", "refused (401)"),
        ("RESEND_API_KEY", "re_wrong", "RESEND_API_KEY", "refused (403 invalid_api_key)"),
        ("EMAIL_FROM", "Systems Review hello-at-review", "EMAIL_FROM format", "must be"),
        ("SIGNUP_WEBHOOK_SECRET", "plain-secret", "SIGNUP_WEBHOOK_SECRET", "whsec_"),
    ],
)
def test_a_wrong_value_fails_its_check(
    cli_env: NotionCRM,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    value: str,
    check: str,
    expected: str,
) -> None:
    """A refused token or key, a malformed sender or secret fails the check that owns it."""
    monkeypatch.setenv(name, value)
    failed = [c for c in _failed(run_doctor([notion_checks, resend_checks])) if c.name == check]
    assert len(failed) == 1 and expected in failed[0].detail


def test_an_invalid_setting_is_a_failed_check(
    cli_env: NotionCRM, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A setting pydantic refuses is reported as a failed check, not a crash."""
    monkeypatch.setenv("SEQUENCE_TIME_SCALE", "-1")
    result = run("doctor")
    assert result.exit_code == 1
    no_traceback(result)
    assert "SEQUENCE_TIME_SCALE" in result.output and "FAIL" in result.output
