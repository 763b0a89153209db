"""Tasks on the Contacts database."""

from __future__ import annotations

from datetime import datetime

from prefect import task

from campaigns.christmas_campaign.tasks.common import TASK_OPTIONS, Services
from campaigns.models import Contact, Segment, SequenceStatus, Signup


@task(name="find-or-create-contact", **TASK_OPTIONS)
def find_or_create_contact(
    services: Services, signup: Signup, known: Contact | None = None
) -> Contact:
    return services.crm.find_or_create_contact(signup, known)


@task(name="enroll-contact", **TASK_OPTIONS)
def enroll_contact(
    services: Services, contact: Contact, signup: Signup, segment: Segment, enrolled_at: datetime
) -> Contact:
    return services.crm.enroll_contact(contact, signup, segment, enrolled_at)


@task(name="read-contact", **TASK_OPTIONS)
def read_contact(services: Services, email: str) -> Contact | None:
    """The contact as Notion holds it now (status changes between scheduling and sending)."""
    return services.crm.find_contact(email)


@task(name="set-contact-status", **TASK_OPTIONS)
def set_contact_status(services: Services, page_id: str, status: SequenceStatus) -> Contact:
    return services.crm.set_contact_status(page_id, status)


@task(name="record-last-email", **TASK_OPTIONS)
def record_last_email(services: Services, page_id: str, email_number: int, at: datetime) -> None:
    services.crm.record_last_email(page_id, email_number, at)
