"""Tasks on the Contacts database."""

from __future__ import annotations

from datetime import datetime

from prefect import task

from campaigns.christmas_campaign.tasks.common import TASK_OPTIONS, FlowServices
from campaigns.models import Contact, Segment, Signup


@task(name="enroll-contact", **TASK_OPTIONS)
def enroll_contact(
    services: FlowServices,
    known: Contact | None,
    signup: Signup,
    segment: Segment,
    enrolled_at: datetime,
) -> Contact:
    """Create or update the contact as Active from `enrolled_at` (one write, or none)."""
    return services.crm.enroll_contact(known, signup, segment, enrolled_at)


@task(name="read-contact", **TASK_OPTIONS)
def read_contact(services: FlowServices, email: str) -> Contact | None:
    """The contact as Notion holds it now (status changes between scheduling and sending)."""
    return services.crm.find_contact(email)


@task(name="record-sent-on-contact", **TASK_OPTIONS)
def record_sent(
    services: FlowServices, page_id: str, email_number: int, at: datetime, *, last: bool
) -> Contact:
    """Move the contact's Last Email Sent on (and mark it Completed after the last email)."""
    return services.crm.record_sent(page_id, email_number, at, last=last)


@task(name="record-late-signup", **TASK_OPTIONS)
def record_late_signup(
    services: FlowServices, known: Contact | None, signup: Signup, segment: Segment
) -> Contact:
    """Record a signup after the campaign's end as `Campaign Ended`, with nothing scheduled."""
    return services.crm.record_late_signup(known, signup, segment)
