"""`campaign report` against the Notion stand-in: the figures, in few requests, as text, JSON
and a self-contained HTML page with a funnel per segment."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from campaigns.christmas_campaign.samples import SAMPLE_SIGNUPS
from campaigns.christmas_campaign.sequence import classify_segment, template_id_for
from campaigns.idempotency import send_key
from campaigns.models import NewSend, Segment, SendStatus, SendUpdate, SequenceStatus
from campaigns.notion_crm import NotionCRM
from campaigns.standins.notion import NotionStandIn
from campaigns.tests import chromium
from campaigns.tests.cli.conftest import no_traceback, run

WHEN = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
# Per sample contact: the statuses of its send-log rows, and what became of it.
HISTORY = {
    Segment.CRITICAL: ([SendStatus.CLICKED, SendStatus.OPENED], SequenceStatus.CONVERTED),
    Segment.URGENT: ([SendStatus.DELIVERED, SendStatus.BOUNCED], SequenceStatus.BOUNCED),
    Segment.OPTIMIZE: ([SendStatus.SENT, SendStatus.SCHEDULED], SequenceStatus.ACTIVE),
}


@pytest.fixture
def campaign_in_notion(unseeded_env: NotionCRM) -> NotionCRM:
    """The three sample contacts enrolled, with two send-log rows each (`HISTORY`)."""
    crm = unseeded_env
    for segment, (statuses, outcome) in HISTORY.items():
        signup = SAMPLE_SIGNUPS[segment]
        assert classify_segment(signup.red_systems, signup.orange_systems) == segment
        contact = crm.enroll_contact(None, signup, segment, WHEN)
        for number, status in enumerate(statuses, start=1):
            crm.write_send(
                NewSend(
                    email=signup.email,
                    email_number=number,
                    template_id=template_id_for(number, segment),
                    contact_id=contact.page_id,
                    scheduled_for=WHEN,
                    idempotency_key=send_key("christmas-2026", signup.email, number),
                ),
                SendUpdate(status=status),
            )
        crm.record_sent(contact.page_id, len(statuses), WHEN, last=False)
        crm.set_contact_status(contact.page_id, outcome)
    return crm


def test_the_figures_come_from_two_queries(
    campaign_in_notion: NotionCRM, notion_standin: NotionStandIn
) -> None:
    """Per step and segment figures, booked calls, and the Notion requests it took."""
    before = len(notion_standin.requests)
    result = run("report", "--json")
    no_traceback(result)
    figures = json.loads(result.output)
    assert figures["contacts"] == 3 and figures["send_log_rows"] == 6
    assert figures["by_step"]["1"]["sent"] == 3 and figures["by_step"]["1"]["delivered"] == 2
    assert figures["by_step"]["2"]["scheduled"] == 1 and figures["by_step"]["2"]["bounced"] == 1
    assert figures["by_step"]["2"]["converted"] == 1  # the CRITICAL contact, after email 2
    assert figures["by_segment"]["CRITICAL"]["clicked"] == 1
    assert figures["conversion"]["CRITICAL"] == {"enrolled": 1, "converted": 1, "rate": 1.0}
    assert figures["total"]["rates"]["open rate"] == pytest.approx(2 / 3)
    queries = [r for r in notion_standin.requests[before:] if r["path"].endswith("/query")]
    assert len(queries) == 2 and figures["notion_requests"] <= 4


def test_the_text_report_names_its_cost(campaign_in_notion: NotionCRM) -> None:
    """The plain report shows the tables and says what it read."""
    result = run("report")
    no_traceback(result)
    assert "By email" in result.output and "By segment" in result.output
    assert re.search(r"Read 3 contacts and 6 send-log rows in \d Notion requests\.", result.output)


@pytest.mark.skipif(chromium.find_chromium() is None, reason="Chromium is not installed")
def test_the_html_report_draws_a_funnel_per_segment(
    campaign_in_notion: NotionCRM, tmp_path: Path
) -> None:
    """Headless Chromium opens the page and finds three funnels with the right bars."""
    page = tmp_path / "report.html"
    result = run("report", "--html", str(page))
    no_traceback(result)
    dom = chromium.dump_dom(page.as_uri())
    assert dom.count('<svg xmlns="http://www.w3.org/2000/svg" class="funnel"') == 3
    critical = dom[dom.index('data-segment="CRITICAL"') :]
    critical = critical[: critical.index("</svg>")]
    bars = dict(re.findall(r'data-stage="(\w+)" data-value="(\d+)"', critical))
    assert bars == {"sent": "2", "delivered": "2", "opened": "2", "clicked": "1", "converted": "1"}
    own = page.read_text().replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert not re.search(r"https?://|src=|href=", own)  # nothing from outside
