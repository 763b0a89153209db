"""The outbox page the Resend stand-in serves: 21 real emails (rendered and sent as the flow
does) listed and rendered."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from campaigns.christmas_campaign.emails import render_template
from campaigns.christmas_campaign.samples import SAMPLE_SIGNUPS
from campaigns.christmas_campaign.sequence import CAMPAIGN, build_schedule, classify_segment
from campaigns.christmas_campaign.tasks.delivery import send_tags
from campaigns.christmas_campaign.template_files import load_templates
from campaigns.christmas_campaign.variables import unsubscribe_link, variables_for
from campaigns.idempotency import send_key
from campaigns.mailer import OutgoingEmail, ResendMailer
from campaigns.notion_crm import NotionCRM
from campaigns.settings import load_settings
from campaigns.standins.outbox_page import render_page
from campaigns.standins.resend import ResendStandIn
from campaigns.tests import chromium
from campaigns.tests.cli.conftest import no_traceback, run

needs_chromium = pytest.mark.skipif(
    chromium.find_chromium() is None,
    reason="Chromium is not installed (CI installs Debian's chromium package)",
)


def send_the_sequence(mailer: ResendMailer) -> None:
    """The three sample contacts' seven emails each, rendered and sent as the send flow does."""
    settings = load_settings()
    templates = {t.template_id: t for t in load_templates()}
    start = datetime.now(UTC) - timedelta(minutes=30)
    for signup in SAMPLE_SIGNUPS.values():
        segment = classify_segment(signup.red_systems, signup.orange_systems)
        for step in build_schedule(start, segment, testing_mode=True):
            rendered = render_template(
                templates[step.template_id], variables_for(settings, signup, segment, step.due_at)
            )
            email = OutgoingEmail(
                to=signup.email,
                subject=rendered.subject,
                html=rendered.html,
                text=rendered.text,
                unsubscribe_url=unsubscribe_link(settings.content, signup.email),
                tags=send_tags(CAMPAIGN, step.email_number, segment, step.template_id),
            )
            mailer.send(email, send_key(CAMPAIGN, signup.email, step.email_number))


@pytest.fixture
def outbox(
    unseeded_env: NotionCRM, mailer: ResendMailer, resend_standin: ResendStandIn
) -> Iterator[str]:
    """The outbox page of a Resend stand-in that accepted the 21 emails; its URL."""
    send_the_sequence(mailer)
    yield resend_standin.outbox_url


def test_the_page_lists_every_email(outbox: str, resend_standin: ResendStandIn) -> None:
    """All 21 emails appear, grouped by recipient, each with its HTML, text and headers."""
    page = httpx.get(outbox).text
    articles = re.findall(r'<article class="email" data-email-number="(\d)" '
                          r'data-segment="(\w+)" data-to="([^"]+)"', page)  # fmt: skip
    assert len(articles) == 21
    for signup in SAMPLE_SIGNUPS.values():
        numbers = [int(n) for n, _, to in articles if to == signup.email]
        assert numbers == [1, 2, 3, 4, 5, 6, 7]
    assert page.count("<iframe sandbox ") == 21
    assert page.count("Plain-text part") == 21
    assert "List-Unsubscribe-Post" in page
    assert 'data-email-count="21"' in page
    assert httpx.get(outbox.removesuffix("outbox/") + "emails").status_code == 401  # API: key


def test_each_email_opens_alone(outbox: str, resend_standin: ResendStandIn) -> None:
    """`/outbox/emails/<id>` serves the email's own HTML, under a policy that loads nothing
    external."""
    first = resend_standin.emails[0]
    reply = httpx.get(f"{outbox}emails/{first['id']}")
    assert reply.text == first["html"]
    assert "default-src 'none'" in reply.headers["content-security-policy"]
    assert httpx.get(f"{outbox}emails/nope").status_code == 404
    assert httpx.get(f"{outbox}count").json() == {"count": 21}


def test_hostile_values_are_escaped() -> None:
    """Markup in a subject, address or body cannot break out of its place on the page."""
    email: dict[str, Any] = {
        "id": '"><script>alert(1)</script>',
        "to": ["<b>x</b>@example.com"],
        "from": "a@example.com",
        "subject": "<script>alert('s')</script>",
        "html": '<p>hi</p>"></iframe><script>alert(2)</script>',
        "text": "</pre><script>alert(3)</script>",
        "tags": [{"name": "email_number", "value": '1"><script>'}],
        "headers": {"X": "<script>"},
        "received_at": "2025-12-01T09:00:00.000Z",
    }
    page = render_page([email])
    assert "<script>alert" not in page
    assert 'srcdoc="&lt;p&gt;hi&lt;/p&gt;&quot;&gt;&lt;/iframe&gt;' in page


@needs_chromium
def test_chromium_renders_the_21_emails(outbox: str, tmp_path: Path) -> None:
    """Headless Chromium loads the page and finds the 21 emails, each with its content."""
    dom = chromium.dump_dom(outbox)
    assert len(re.findall(r'<article class="email"', dom)) == 21
    assert "<title>Outbox: 21 emails</title>" in dom
    for signup in SAMPLE_SIGNUPS.values():
        assert dom.count(f'data-to="{signup.email}"') == 7
    shot = chromium.screenshot(outbox, tmp_path / "outbox.png", width=1200, height=1600)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_outbox_command_serves_a_saved_sandbox(
    bare_env: Path, unseeded_env: NotionCRM, mailer: ResendMailer, resend_standin: ResendStandIn
) -> None:
    """`campaign outbox` serves what a sandbox's Resend stand-in saved."""
    send_the_sequence(mailer)
    state = bare_env / "sandbox"
    state.mkdir()
    (state / "resend.json").write_text(json.dumps({"emails": resend_standin.emails}))
    result = run("outbox", "--state-dir", str(state), "--port", "0", "--for", "0.2")
    assert result.exit_code == 0, result.output
    assert re.search(r"21 emails at http://127\.0\.0\.1:\d+/outbox/", result.output)


def test_outbox_command_without_a_sandbox(bare_env: Path) -> None:
    """Without a saved outbox, the command says to run the demo first."""
    result = run("outbox", "--state-dir", str(bare_env / "nothing"))
    assert result.exit_code == 1
    no_traceback(result)
    assert "run `campaign demo` first" in result.output
