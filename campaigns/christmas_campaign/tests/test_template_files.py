"""The campaign's template files: the eleven templates load, check and render for every segment."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from campaigns.christmas_campaign.emails import render_template
from campaigns.christmas_campaign.samples import SAMPLE_SIGNUPS
from campaigns.christmas_campaign.sequence import EMAIL_COUNT, classify_segment, template_id_for
from campaigns.christmas_campaign.template_files import load_templates
from campaigns.christmas_campaign.variables import build_variables
from campaigns.models import EmailTemplate, Segment, Signup, TemplateSegment, TemplateStatus
from campaigns.notion_properties import TEXT_ITEM_LIMIT

BOOKING_URL = "https://book.example/call?ref=xmas"
UNSUBSCRIBE_URL = "https://hooks.example/unsubscribe?token=tok123"
POSTAL_ADDRESS = "Systems Review Ltd, 1 Main Street, Springfield"
NOW = datetime(2024, 12, 1, 10, 0, tzinfo=UTC)

EXPECTED = [
    # (template id, email number, template segment)
    ("christmas_email_1", 1, TemplateSegment.ALL),
    ("christmas_email_2a_critical", 2, TemplateSegment.CRITICAL),
    ("christmas_email_2b_urgent", 2, TemplateSegment.URGENT),
    ("christmas_email_2c_optimize", 2, TemplateSegment.OPTIMIZE),
    ("christmas_email_3", 3, TemplateSegment.ALL),
    ("christmas_email_4", 4, TemplateSegment.ALL),
    ("christmas_email_5", 5, TemplateSegment.ALL),
    ("christmas_email_6", 6, TemplateSegment.ALL),
    ("christmas_email_7a_critical", 7, TemplateSegment.CRITICAL),
    ("christmas_email_7b_urgent", 7, TemplateSegment.URGENT),
    ("christmas_email_7c_optimize", 7, TemplateSegment.OPTIMIZE),
]

MINIMAL_SIGNUPS = {
    Segment.CRITICAL: (2, 0, 3, 3),
    Segment.URGENT: (0, 2, 3, 3),
    Segment.OPTIMIZE: (0, 1, 3, 4),
}


@pytest.fixture(scope="module")
def templates() -> dict[str, EmailTemplate]:
    return {template.template_id: template for template in load_templates()}


def minimal_signup(segment: Segment) -> Signup:
    """A signup of this segment that answered none of the optional questions."""
    red, orange, yellow, green = MINIMAL_SIGNUPS[segment]
    return Signup(
        email="min@example.com",
        first_name="Min",
        business_name="Minimal Co",
        assessment_score=50,
        red_systems=red,
        orange_systems=orange,
        yellow_systems=yellow,
        green_systems=green,
    )


def test_load_templates_gives_the_eleven_in_order() -> None:
    """load_templates returns the contract's eleven templates in step order."""
    loaded = load_templates()
    assert [t.template_id for t in loaded] == [template_id for template_id, _, _ in EXPECTED]


@pytest.mark.parametrize(
    ("template_id", "email_number", "segment"),
    [pytest.param(*row, id=row[0]) for row in EXPECTED],
)
def test_template_metadata(
    templates: dict[str, EmailTemplate],
    template_id: str,
    email_number: int,
    segment: TemplateSegment,
) -> None:
    """Each template has its step's email number, its segment, Active status and a subject."""
    template = templates[template_id]
    assert template.email_number == email_number
    assert template.segment is segment
    assert template.status is TemplateStatus.ACTIVE
    assert template.subject.strip()
    assert template.preview_text.strip()


@pytest.mark.parametrize("template_id", [row[0] for row in EXPECTED])
def test_every_body_carries_the_footer_placeholders(
    templates: dict[str, EmailTemplate], template_id: str
) -> None:
    """Every stored body contains the unsubscribe link and postal address placeholders."""
    body = templates[template_id].body_html
    assert "{{ unsubscribe_url }}" in body
    assert "{{ postal_address }}" in body
    assert "<!-- CONTENT -->" not in body


def test_a_body_is_longer_than_one_notion_text_item(templates: dict[str, EmailTemplate]) -> None:
    """At least one body exceeds 2,000 characters, so seeding exercises rich-text splitting."""
    assert TEXT_ITEM_LIMIT == 2000
    assert max(len(t.body_html) for t in templates.values()) > TEXT_ITEM_LIMIT


def _assert_sendable(html: str, text: str, subject: str, first_name: str) -> None:
    for leftover in ("{{", "{%", "}}", "%}"):
        assert leftover not in html
        assert leftover not in text
        assert leftover not in subject
    assert UNSUBSCRIBE_URL in html
    assert UNSUBSCRIBE_URL in text
    assert POSTAL_ADDRESS in html
    assert POSTAL_ADDRESS in text
    assert BOOKING_URL in html
    assert BOOKING_URL in text
    assert "\n" not in subject
    assert first_name in html


STEPS = [
    pytest.param(segment, number, id=f"{segment.value.lower()}-email{number}")
    for segment in Segment
    for number in range(1, EMAIL_COUNT + 1)
]


@pytest.mark.parametrize(("segment", "email_number"), STEPS)
def test_sample_contact_renders_every_step(
    templates: dict[str, EmailTemplate], segment: Segment, email_number: int
) -> None:
    """Each sample contact's template at each step renders fully, with footer and booking link."""
    signup = SAMPLE_SIGNUPS[segment]
    variables = build_variables(
        signup,
        segment,
        booking_url=BOOKING_URL,
        unsubscribe_url=UNSUBSCRIBE_URL,
        postal_address=POSTAL_ADDRESS,
        now=NOW,
    )
    template = templates[template_id_for(email_number, segment)]
    rendered = render_template(template, variables)
    _assert_sendable(rendered.html, rendered.text, rendered.subject, signup.first_name)


@pytest.mark.parametrize(("segment", "email_number"), STEPS)
def test_minimal_contact_renders_every_step(
    templates: dict[str, EmailTemplate], segment: Segment, email_number: int
) -> None:
    """A contact without optional answers still gets every step, so optional values are guarded."""
    signup = minimal_signup(segment)
    variables = build_variables(
        signup,
        segment,
        booking_url=BOOKING_URL,
        unsubscribe_url=UNSUBSCRIBE_URL,
        postal_address=POSTAL_ADDRESS,
        now=NOW,
    )
    assert "revenue_leak_monthly" not in variables
    template = templates[template_id_for(email_number, segment)]
    rendered = render_template(template, variables)
    _assert_sendable(rendered.html, rendered.text, rendered.subject, signup.first_name)


def test_sample_signups_cover_each_segment() -> None:
    """SAMPLE_SIGNUPS holds one contact per segment, each actually in that segment."""
    assert set(SAMPLE_SIGNUPS) == set(Segment)
    for segment, signup in SAMPLE_SIGNUPS.items():
        assert classify_segment(signup.red_systems, signup.orange_systems) is segment
