"""Tasks on the Email Sends database (the send log)."""

from __future__ import annotations

from datetime import datetime

from prefect import task

from campaigns.christmas_campaign.sequence import CAMPAIGN
from campaigns.christmas_campaign.tasks.common import TASK_OPTIONS, Services
from campaigns.idempotency import send_key
from campaigns.models import SendRecord, SendUpdate


@task(name="open-send-log-row", **TASK_OPTIONS)
def open_send_row(
    services: Services,
    email: str,
    email_number: int,
    template_id: str,
    contact_id: str | None,
    scheduled_for: datetime,
) -> SendRecord:
    """The row of (email, email number), created as Scheduled if it does not exist yet."""
    return services.crm.find_or_create_send(
        email=email,
        email_number=email_number,
        template_id=template_id,
        contact_id=contact_id,
        scheduled_for=scheduled_for,
        idempotency_key=send_key(CAMPAIGN, email, email_number),
    )


@task(name="update-send-log-row", **TASK_OPTIONS)
def update_send_row(services: Services, page_id: str, update: SendUpdate) -> SendRecord:
    return services.crm.update_send(page_id, update)
