"""`campaign templates seed` and `campaign templates check` against the Notion stand-in."""

from __future__ import annotations

from pathlib import Path

import pytest
from notion_client import Client

from campaigns.models import TemplateStatus
from campaigns.notion_crm import NotionCRM
from campaigns.standins.notion import NotionStandIn
from campaigns.testing import NOTION_TOKEN
from campaigns.tests.cli.conftest import no_traceback, run


def test_seed_creates_then_updates(unseeded_env: NotionCRM) -> None:
    """The first seed creates the eleven templates; the second updates the same eleven."""
    first = run("templates", "seed")
    assert first.exit_code == 0, first.output
    assert "Seeded 11 templates: 11 created, 0 updated." in first.output
    second = run("templates", "seed")
    assert "Seeded 11 templates: 0 created, 11 updated." in second.output


def test_check_passes_after_seeding(cli_env: NotionCRM) -> None:
    """Freshly seeded templates are all ready, for every segment."""
    result = run("templates", "check")
    assert result.exit_code == 0, result.output
    assert "All 11 templates are ready for the three segments." in result.output


def test_check_reports_every_problem_for_every_segment(
    cli_env: NotionCRM, notion_standin: NotionStandIn
) -> None:
    """Missing, Draft, empty and unknown-variable templates are each reported per segment."""
    draft = cli_env.find_template("christmas_email_3")
    empty = cli_env.find_template("christmas_email_2b_urgent")
    unknown = cli_env.find_template("christmas_email_7c_optimize")
    gone = cli_env.find_template("christmas_email_2a_critical")
    assert draft and empty and unknown and gone and gone.page_id
    cli_env.upsert_template(draft.model_copy(update={"status": TemplateStatus.DRAFT}))
    cli_env.upsert_template(empty.model_copy(update={"subject": ""}))
    body = unknown.body_html.replace("</body>", "{{ favourite_colour }}</body>")
    cli_env.upsert_template(unknown.model_copy(update={"body_html": body}))
    Client(auth=NOTION_TOKEN, base_url=notion_standin.url).pages.update(
        page_id=gone.page_id, in_trash=True
    )

    result = run("templates", "check")
    assert result.exit_code == 1
    no_traceback(result)
    lines = set(result.output.splitlines())
    for segment in ("CRITICAL", "URGENT", "OPTIMIZE"):
        draft_line = f"{segment} email 3 (christmas_email_3): Status is Draft"
        assert f"{draft_line}; only Active templates are sent" in lines
    missing = "CRITICAL email 2 (christmas_email_2a_critical): missing"
    assert any(line.startswith(missing) for line in lines)
    assert "URGENT email 2 (christmas_email_2b_urgent): Subject is empty" in lines
    assert any(
        line.startswith("OPTIMIZE email 7 (christmas_email_7c_optimize): uses unknown variable")
        and "favourite_colour" in line
        for line in lines
    )
    problem_lines = [line for line in lines if " email " in line and "): " in line]
    assert len(problem_lines) == 6  # 3 (shared Draft) + 1 + 1 + 1
    assert "4 of 11 templates need fixing." in result.output


def test_check_without_settings_is_one_error_line(bare_env: Path) -> None:
    """No Notion settings: the check cannot run, and says which settings are missing."""
    result = run("templates", "check")
    assert result.exit_code == 1
    no_traceback(result)
    assert result.output.startswith("Error: Missing required setting(s): NOTION_TOKEN")


def test_seed_with_a_wrong_token_is_one_error_line(
    unseeded_env: NotionCRM, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refused token is reported with what to check, not as a traceback."""
    monkeypatch.setenv("NOTION_TOKEN", "ntn_wrong")
    result = run("templates", "seed")
    assert result.exit_code == 1
    no_traceback(result)
    assert "401" in result.output and "NOTION_TOKEN" in result.output
