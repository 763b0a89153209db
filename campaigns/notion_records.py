"""Reading Notion page objects into the contract's models (the inverse of `notion_crm` writes).

A value Notion holds that the contract does not allow (a select option someone typed by hand)
is read as None rather than crashing the whole read: the flow decides what None means.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeVar

from campaigns import notion_properties as p
from campaigns.models import (
    Contact,
    EmailTemplate,
    Segment,
    SendRecord,
    SendStatus,
    SequenceStatus,
    TemplateSegment,
    TemplateStatus,
)

E = TypeVar("E", bound=StrEnum)


def _enum(kind: type[E], value: str | None) -> E | None:
    try:
        return kind(value) if value is not None else None
    except ValueError:
        return None


def contact_from_page(page: dict[str, Any]) -> Contact:
    props = page.get("properties", {})
    return Contact(
        page_id=str(page["id"]),
        email=p.read_email(props, "Email"),
        first_name=p.read_text(props, "Name"),
        business_name=p.read_text(props, "Business Name"),
        segment=_enum(Segment, p.read_select(props, "Segment")),
        assessment_score=p.read_int(props, "Assessment Score"),
        red_systems=p.read_int(props, "Red Systems"),
        orange_systems=p.read_int(props, "Orange Systems"),
        yellow_systems=p.read_int(props, "Yellow Systems"),
        green_systems=p.read_int(props, "Green Systems"),
        sequence_status=_enum(SequenceStatus, p.read_select(props, "Sequence Status")),
        enrolled_at=p.read_date(props, "Enrolled At"),
        last_email_sent=p.read_int(props, "Last Email Sent"),
        last_email_sent_at=p.read_date(props, "Last Email Sent At"),
        time_zone=p.read_text(props, "Time Zone"),
    )


def template_from_page(page: dict[str, Any]) -> EmailTemplate:
    props = page.get("properties", {})
    return EmailTemplate(
        page_id=str(page["id"]),
        template_id=p.read_text(props, "Template ID") or "(untitled)",
        subject=p.read_text(props, "Subject"),
        preview_text=p.read_text(props, "Preview Text"),
        body_html=p.read_text(props, "Body HTML"),
        email_number=p.read_int(props, "Email Number") or 1,
        segment=_enum(TemplateSegment, p.read_select(props, "Segment")) or TemplateSegment.ALL,
        status=_enum(TemplateStatus, p.read_select(props, "Status")) or TemplateStatus.DRAFT,
    )


def send_from_page(page: dict[str, Any]) -> SendRecord:
    props = page.get("properties", {})
    relation = p.read_relation(props, "Contact")
    return SendRecord(
        page_id=str(page["id"]),
        email=p.read_email(props, "Email"),
        email_number=p.read_int(props, "Email Number") or 0,
        template_id=p.read_text(props, "Template ID"),
        status=_enum(SendStatus, p.read_select(props, "Status")),
        contact_id=relation[0] if relation else None,
        scheduled_for=p.read_date(props, "Scheduled For"),
        sent_at=p.read_date(props, "Sent At"),
        resend_email_id=p.read_text(props, "Resend Email ID"),
        idempotency_key=p.read_text(props, "Idempotency Key"),
        flow_run_id=p.read_text(props, "Flow Run ID"),
        detail=p.read_text(props, "Detail"),
    )
