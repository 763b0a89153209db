"""Tasks on the Email Sends database (the send log): one row per step that something happened to."""

from __future__ import annotations

from datetime import datetime

from prefect import task

from campaigns.christmas_campaign.sequence import CAMPAIGN
from campaigns.christmas_campaign.tasks.common import TASK_OPTIONS, FlowServices
from campaigns.idempotency import send_key
from campaigns.models import NewSend, SendRecord, SendStatus, SendUpdate

# Statuses meaning the email left: Resend events move a Sent row on to these.
ALREADY_SENT = frozenset(
    {
        SendStatus.SENT,
        SendStatus.DELIVERED,
        SendStatus.OPENED,
        SendStatus.CLICKED,
        SendStatus.BOUNCED,
        SendStatus.COMPLAINED,
    }
)


@task(name="read-send-log", **TASK_OPTIONS)
def read_send_log(services: FlowServices, email: str) -> dict[int, SendRecord]:
    """Every row of this contact, by email number, in one query."""
    return services.crm.find_sends(email)


@task(name="read-send-log-row", **TASK_OPTIONS)
def read_send_row(services: FlowServices, email: str, email_number: int) -> SendRecord | None:
    return services.crm.find_send(email, email_number)


@task(name="write-send-log-row", **TASK_OPTIONS)
def write_send_row(
    services: FlowServices,
    email: str,
    email_number: int,
    template_id: str,
    contact_id: str | None,
    scheduled_for: datetime,
    update: SendUpdate,
    page_id: str | None,
) -> SendRecord:
    """Record the step's outcome on its row: update `page_id`, or create the row when None."""
    new = NewSend(
        email=email,
        email_number=email_number,
        template_id=template_id,
        contact_id=contact_id,
        scheduled_for=scheduled_for,
        idempotency_key=send_key(CAMPAIGN, email, email_number),
    )
    return services.crm.write_send(new, update, page_id)
