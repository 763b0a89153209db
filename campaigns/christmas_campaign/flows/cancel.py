"""Cancelling the rest of a contact's sequence: used by unsubscribe, bounce, complaint, booking.

Two layers, so no email slips through: not-yet-started runs are moved to Cancelled on Prefect,
and the contact's `Sequence Status` is changed in Notion, which every send re-reads before
sending (a run already starting when the cancel arrives still skips).
"""

from __future__ import annotations

from prefect import flow, get_run_logger

from campaigns.christmas_campaign.tasks.scheduling import cancel_not_started_runs
from campaigns.christmas_campaign.topology import CANCEL_FLOW_NAME
from campaigns.errors import CampaignError
from campaigns.idempotency import contact_ref
from campaigns.models import (
    STOP_RANK,
    SendStatus,
    SendUpdate,
    SequenceStatus,
    StopStatus,
    outranks,
)
from campaigns.notion_crm import NotionCRM
from campaigns.settings import NOTION, Settings, load_settings


def cancel_contact_sequence(
    settings: Settings, email: str, status: SequenceStatus = SequenceStatus.CANCELLED
) -> int:
    """Mark the contact, cancel its scheduled runs and their log rows; return runs cancelled."""
    crm = NotionCRM.from_settings(settings.require(*NOTION))
    return cancel_remaining(crm, email, record_stop(crm, email, status))


def record_stop(crm: NotionCRM, email: str, status: SequenceStatus) -> SequenceStatus:
    """Write the stop on the contact unless a stronger one is there; return the one in force.

    Notion first: from this moment on, every send skips, whatever Prefect does next. A stronger
    stop already recorded (Complained, say) is kept: it is the consent record.
    """
    if status not in STOP_RANK:
        raise ValueError(f"{status.value} does not stop a sequence")
    contact = crm.find_contact(email)
    if contact is None:
        raise CampaignError(f"No contact {contact_ref(email)} in Notion; nothing to cancel.")
    current = contact.sequence_status
    if current is not None and outranks(current, status):
        return current
    crm.set_contact_status(contact.page_id, status)
    return status


def cancel_remaining(crm: NotionCRM, email: str, status: SequenceStatus) -> int:
    """Cancel the not-started runs and Skip the Scheduled rows of a contact already stopped
    with `status` (the webhook service records the stop itself, then calls only this)."""
    reason = f"Sequence stopped: contact is {status.value}."
    cancelled = cancel_not_started_runs(email, reason)
    _skip_scheduled_rows(crm, email, reason)
    return len(cancelled)


def _skip_scheduled_rows(crm: NotionCRM, email: str, reason: str) -> None:
    """Rows still Scheduled (written by earlier versions, which logged every step ahead)."""
    for row in crm.find_sends(email).values():
        if row.status == SendStatus.SCHEDULED:
            crm.update_send(row.page_id, SendUpdate(status=SendStatus.SKIPPED, detail=reason))


@flow(name=CANCEL_FLOW_NAME)
def christmas_cancel_sequence(email: str, status: StopStatus = StopStatus.CANCELLED) -> int:
    """Stop a contact's remaining Christmas emails (from the UI or a webhook)."""
    count = cancel_contact_sequence(load_settings(), email, SequenceStatus(status))
    get_run_logger().info(
        "Cancelled %d scheduled run(s) of contact %s; status is now %s.",
        count,
        contact_ref(email),
        status.value,
    )
    return count
