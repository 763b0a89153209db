"""Tasks on the Email Sends database (the send log)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from campaigns.christmas_campaign.sequence import CAMPAIGN, ScheduledEmail
from campaigns.christmas_campaign.tasks.common import TASK_OPTIONS, Services
from campaigns.idempotency import contact_ref, send_key
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
    key = send_key(CAMPAIGN, email, email_number)
    return services.crm.find_or_create_send(
        NewSend(
            email=email,
            email_number=email_number,
            template_id=template_id,
            contact_id=contact_id,
            scheduled_for=scheduled_for,
            idempotency_key=key,
        )
    )


@task(name="schedule-send-log-rows", **TASK_OPTIONS)
def schedule_send_rows(
    services: Services, email: str, schedule: list[ScheduledEmail], contact_id: str
) -> list[SendRecord]:
    """One Scheduled row per step at its due time, reading the contact's log once.

    A re-enrolled contact (after a Cancelled sequence) finds its old rows: one that was never
    sent is set back to Scheduled at the new time; one that was sent stays as it is, and the
    send flow will skip that step.
    """
    existing = services.crm.find_sends(email)
    rows = []
    for step in schedule:
        row = existing.get(step.email_number)
        if row is None:
            row = services.crm.create_send(
                NewSend(
                    email=email,
                    email_number=step.email_number,
                    template_id=step.template_id,
                    contact_id=contact_id,
                    scheduled_for=step.due_at,
                    idempotency_key=send_key(CAMPAIGN, email, step.email_number),
                )
            )
        elif row.status not in ALREADY_SENT and (
            row.status != SendStatus.SCHEDULED or row.scheduled_for != step.due_at
        ):
            update = SendUpdate(status=SendStatus.SCHEDULED, scheduled_for=step.due_at, detail="")
            row = services.crm.update_send(row.page_id, update)
        rows.append(row)
    return rows


@task(name="update-send-log-row", **TASK_OPTIONS)
def update_send_row(services: Services, page_id: str, update: SendUpdate) -> SendRecord:
    return services.crm.update_send(page_id, update)


ORDER_WAIT_SECONDS = 120.0
_POLL_SECONDS = 2.0


@task(name="wait-for-previous-email", cache_policy=NO_CACHE, persist_result=False)
def wait_for_previous(services: Services, email: str, email_number: int) -> str:
    """Keep the sequence in order: while the previous step is due but not yet done, wait.

    Runs that fall due while no worker is up are all started at once when one comes back, in
    no particular order; without this, email 5 could overtake email 4. A previous step that is
    not yet due (a run started by hand) or never resolves within the bound does not block.
    """
    deadline = time.monotonic() + ORDER_WAIT_SECONDS
    while True:
        previous = services.crm.find_send(email, email_number - 1)
        due = (
            previous is not None
            and previous.status == SendStatus.SCHEDULED
            and (previous.scheduled_for is None or previous.scheduled_for <= datetime.now(UTC))
        )
        if not due:
            return "previous step done or not yet due"
        if time.monotonic() >= deadline:
            get_run_logger().warning(
                "Email %d of contact %s is still Scheduled after %.0f s; sending email %d anyway.",
                email_number - 1,
                contact_ref(email),
                ORDER_WAIT_SECONDS,
                email_number,
            )
            return "previous step still pending; not waiting longer"
        time.sleep(_POLL_SECONDS)
