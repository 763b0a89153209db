"""Flow `christmas-send-email`: send one email of one contact's sequence, exactly once.

It re-reads the contact at send time (an unsubscribe an hour ago must win over a schedule made
ten days ago), skips a step whose log row already says Sent, and sends with the step's fixed
idempotency key, so a retried task, a retried flow or a manual re-run cannot send twice.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from prefect import flow, get_run_logger, runtime
from prefect.client.schemas.objects import State
from prefect.states import Completed

from campaigns.christmas_campaign.sequence import CAMPAIGN, EMAIL_COUNT
from campaigns.christmas_campaign.tasks.common import Services
from campaigns.christmas_campaign.tasks.contacts import (
    read_contact,
    record_last_email,
    set_contact_status,
)
from campaigns.christmas_campaign.tasks.delivery import deliver, send_tags
from campaigns.christmas_campaign.tasks.send_log import (
    ALREADY_SENT,
    open_send_row,
    update_send_row,
    wait_for_previous,
)
from campaigns.christmas_campaign.tasks.templates import render_email, unsubscribe_link
from campaigns.errors import CampaignError
from campaigns.idempotency import contact_ref, send_key
from campaigns.models import Segment, SendStatus, SendUpdate, SequenceStatus, Signup
from campaigns.settings import CONTENT, NOTION, RESEND, load_settings

_MAX_EARLY_WAIT = 300.0  # seconds; a worker may pick a run up slightly before it is due


# One flow retry, a minute later, for what outlived the tasks' own retries (a Notion outage).
@flow(name="christmas-send-email", retries=1, retry_delay_seconds=60)
def christmas_send_email(
    email: str,
    email_number: int,
    template_id: str,
    segment: Segment,
    scheduled_for: datetime,
    signup: Signup,
) -> str | State:
    """Send email `email_number` of the Christmas sequence to `email`, or skip it and say why."""
    logger = get_run_logger()
    if signup.email != email.strip().lower():
        raise CampaignError(f"Parameter email does not match signup.email for step {email_number}.")
    services = Services(load_settings().require(*NOTION, *CONTENT, *RESEND))
    ref = f"email {email_number} of contact {contact_ref(email)}"
    _wait_until_due(scheduled_for)
    if email_number > 1:
        wait_for_previous(services, email, email_number)
    contact = read_contact(services, email)
    row = open_send_row(
        services,
        email,
        email_number,
        template_id,
        contact.page_id if contact else None,
        scheduled_for,
    )
    if row.status in ALREADY_SENT:
        return _skipped(f"Skipped {ref}: the send log already records it as {row.status}.")
    status = contact.sequence_status if contact else None
    if status != SequenceStatus.ACTIVE:
        reason = f"Sequence Status is {status.value if status else 'missing (no contact)'}"
        update_send_row(services, row.page_id, SendUpdate(status=SendStatus.SKIPPED, detail=reason))
        return _skipped(f"Skipped {ref}: {reason}.")
    try:
        rendered = render_email(services, template_id, signup, segment, scheduled_for)
        sent = deliver(
            services,
            email,
            rendered,
            unsubscribe_link(services.settings, email),
            send_tags(CAMPAIGN, email_number, segment, template_id),
            send_key(CAMPAIGN, email, email_number),
        )
    except CampaignError as exc:
        _record_failure(services, row.page_id, exc)
        raise
    sent_at = datetime.now(UTC)
    update_send_row(
        services,
        row.page_id,
        SendUpdate(
            status=SendStatus.SENT,
            sent_at=sent_at,
            resend_email_id=sent.id,
            flow_run_id=str(runtime.flow_run.id or ""),
            detail="",
        ),
    )
    assert contact is not None  # an Active status implies a contact row
    record_last_email(services, contact.page_id, email_number, sent_at)
    if email_number == EMAIL_COUNT:
        set_contact_status(services, contact.page_id, SequenceStatus.COMPLETED)
    logger.info("Sent %s as Resend email %s after %d attempt(s).", ref, sent.id, sent.attempts)
    return sent.id


def _wait_until_due(scheduled_for: datetime) -> None:
    """Never send before the due time, even if a worker started the run a little early."""
    early = (scheduled_for.astimezone(UTC) - datetime.now(UTC)).total_seconds()
    if 0 < early <= _MAX_EARLY_WAIT:
        time.sleep(early)


def _skipped(message: str) -> State:
    get_run_logger().info(message)
    return Completed(message=message)


def _record_failure(services: Services, page_id: str, exc: CampaignError) -> None:
    """Best effort: note the error on the log row; the run fails with the original error."""
    try:
        update_send_row.fn(services, page_id, SendUpdate(status=SendStatus.FAILED, detail=str(exc)))
    except CampaignError:
        get_run_logger().warning("Could not record the failure on send-log row %s.", page_id)
