"""The template seeder against the Notion stand-in: eleven Active templates that all render."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from campaigns.christmas_campaign.emails import render_template
from campaigns.christmas_campaign.samples import SAMPLE_SIGNUPS
from campaigns.christmas_campaign.seed_templates import seed_templates
from campaigns.christmas_campaign.sequence import EMAIL_COUNT, all_template_ids, template_id_for
from campaigns.christmas_campaign.template_files import load_templates
from campaigns.christmas_campaign.variables import build_variables
from campaigns.models import Segment, TemplateStatus
from campaigns.notion_crm import NotionCRM
from campaigns.standins.notion import NotionStandIn

UNSUBSCRIBE = "https://hooks.review.example/unsubscribe?token=abc"


def test_seeding_twice_leaves_eleven_active_templates(
    notion_crm: NotionCRM, notion_standin: NotionStandIn
) -> None:
    """The first run creates eleven rows; the second updates the same eleven."""
    first = seed_templates(notion_crm)
    second = seed_templates(notion_crm)
    assert (len(first.created), len(first.updated)) == (11, 0)
    assert (len(second.created), len(second.updated)) == (0, 11)
    rows = notion_standin.rows(notion_crm.database_ids["templates"])
    assert sorted(row["Template ID"] for row in rows) == sorted(all_template_ids())
    assert all(row["Status"] == TemplateStatus.ACTIVE.value for row in rows)


def test_seeded_bodies_round_trip_intact(notion_crm: NotionCRM) -> None:
    """Every stored body, all over 2,000 characters, reads back exactly as the files compose it."""
    seed_templates(notion_crm)
    for template in load_templates():
        stored = notion_crm.get_template(template.template_id)
        assert len(stored.body_html) > 2000
        assert (stored.subject, stored.preview_text, stored.body_html) == (
            template.subject,
            template.preview_text,
            template.body_html,
        )


@pytest.mark.parametrize("segment", list(Segment), ids=lambda s: s.value)
def test_every_seeded_template_renders_for_each_segment(
    notion_crm: NotionCRM, segment: Segment
) -> None:
    """A sample contact of each segment gets seven complete emails from the seeded templates."""
    seed_templates(notion_crm)
    signup = SAMPLE_SIGNUPS[segment]
    variables = build_variables(
        signup,
        segment,
        booking_url="https://cal.review.example/christmas",
        unsubscribe_url=UNSUBSCRIBE,
        postal_address="1 Market Street, Springfield",
        now=datetime(2026, 12, 15, 9, tzinfo=UTC),
    )
    for number in range(1, EMAIL_COUNT + 1):
        template = notion_crm.get_template(template_id_for(number, segment))
        email = render_template(template, variables)
        assert signup.first_name in email.html
        assert "{{" not in email.html + email.subject + email.text
        assert UNSUBSCRIBE.replace("&", "&amp;") in email.html
