"""`campaign preview`: one email rendered exactly as the send flow renders it."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from campaigns.christmas_campaign.samples import SAMPLE_SIGNUPS
from campaigns.christmas_campaign.tasks.common import FlowServices
from campaigns.christmas_campaign.tasks.templates import render_email
from campaigns.models import Segment, TemplateStatus
from campaigns.notion_crm import NotionCRM
from campaigns.settings import load_settings
from campaigns.tests.cli.conftest import no_traceback, run

AT = "2025-12-03T08:00:00+00:00"


def test_preview_matches_what_the_send_flow_renders(cli_env: NotionCRM, tmp_path: Path) -> None:
    """Subject, HTML file and text equal the send flow's own rendering of the same step."""
    out_dir = tmp_path / "previews"
    result = run(
        "preview", "--email-number", "2", "--segment", "URGENT", "--at", AT,
        "--out-dir", str(out_dir),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    signup = SAMPLE_SIGNUPS[Segment.URGENT]
    expected = render_email.fn(
        FlowServices(load_settings()),
        "christmas_email_2b_urgent",
        signup,
        Segment.URGENT,
        datetime.fromisoformat(AT),
    )
    html_file = out_dir / "christmas_email_2b_urgent-urgent.html"
    assert html_file.read_text(encoding="utf-8") == expected.html
    assert f"Subject: {expected.subject}" in result.output
    assert expected.text.strip().splitlines()[0] in result.output
    assert html_file.resolve().as_uri() in result.output
    assert "List-Unsubscribe: <https://hooks.review.example/unsubscribe?token=" in result.output
    assert "To: tom@brightpathaccounting.example" in result.output


def test_preview_from_the_repository_files(cli_env: NotionCRM, tmp_path: Path) -> None:
    """`--source files` renders the checked-in template without reading Notion's copy."""
    result = run(
        "preview", "--email-number", "7", "--segment", "CRITICAL", "--source", "files",
        "--out-dir", str(tmp_path),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    html = (tmp_path / "christmas_email_7a_critical-critical.html").read_text(encoding="utf-8")
    assert "Maria" in html and "{{" not in html


def test_preview_with_a_contact_file(cli_env: NotionCRM, tmp_path: Path) -> None:
    """A JSON contact is validated and used; a segment mismatch is pointed out."""
    contact = SAMPLE_SIGNUPS[Segment.OPTIMIZE].model_dump(mode="json") | {"first_name": "Zoe"}
    path = tmp_path / "zoe.json"
    path.write_text(json.dumps(contact), encoding="utf-8")
    result = run(
        "preview", "--email-number", "1", "--segment", "CRITICAL", "--contact-json", str(path),
        "--out-dir", str(tmp_path),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Subject: Zoe, your business systems results are in" in result.output
    assert "colours put it in OPTIMIZE, not CRITICAL" in result.output


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "is not valid JSON"),
        (
            json.dumps({"email": "x@example.com"}),
            "is not a valid signup: first_name: Field required",
        ),
    ],
)
def test_preview_refuses_a_bad_contact_file(
    cli_env: NotionCRM, tmp_path: Path, content: str, expected: str
) -> None:
    """A contact file that is not JSON, or not a signup, is one error line."""
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    result = run(
        "preview", "--email-number", "1", "--segment", "URGENT", "--contact-json", str(path)
    )
    assert result.exit_code == 1
    no_traceback(result)
    assert result.output.startswith("Error: ") and expected in result.output


def test_preview_of_a_draft_template_says_why(cli_env: NotionCRM, tmp_path: Path) -> None:
    """A Draft template in Notion is refused, as the send flow would refuse it."""
    template = cli_env.find_template("christmas_email_3")
    assert template is not None
    cli_env.upsert_template(template.model_copy(update={"status": TemplateStatus.DRAFT}))
    result = run("preview", "--email-number", "3", "--segment", "URGENT")
    assert result.exit_code == 1
    no_traceback(result)
    assert "christmas_email_3 has Status Draft" in result.output
    assert "campaign templates check" in result.output


def test_preview_needs_the_content_settings(
    cli_env: NotionCRM, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without POSTAL_ADDRESS the footer cannot be rendered: the error names the setting."""
    monkeypatch.delenv("POSTAL_ADDRESS")
    result = run("preview", "--email-number", "1", "--segment", "URGENT")
    assert result.exit_code == 1
    no_traceback(result)
    assert "POSTAL_ADDRESS" in result.output


def test_preview_refuses_an_unknown_source(cli_env: NotionCRM) -> None:
    """`--source` takes notion or files only."""
    result = run("preview", "--email-number", "1", "--segment", "URGENT", "--source", "s3")
    assert result.exit_code == 1
    assert "--source must be notion or files" in result.output
