"""Cancelling the rest of a contact's sequence: used by unsubscribe, bounce, complaint, booking.

Two layers, so no email slips through: not-yet-started runs are moved to Cancelled on Prefect,
and the contact's `Sequence Status` is changed in Notion, which every send re-reads before
sending (a run already starting when the cancel arrives still skips).
"""

from __future__ import annotations

from dataclasses import dataclass

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
from campaigns.settings import NotionAccess, Settings, load_settings


def cancel_contact_sequence(
    settings: Settings, email: str, status: SequenceStatus = SequenceStatus.CANCELLED
) -> tuple[Stop, int]:
    """Mark the contact, cancel its scheduled runs and their log rows; return the stop in force
    and how many runs were cancelled."""
    crm = NotionCRM.from_settings(settings.require(NotionAccess))
    stop = record_stop(crm, email, status)
    if stop is None:
        raise CampaignError(f"No contact {contact_ref(email)} in Notion; nothing to cancel.")
    return stop, cancel_remaining(crm, email, stop.status)


@dataclass(frozen=True)
class Stop:
    """What `record_stop` found on the contact and left there."""

    status: SequenceStatus  # the stop in force now: the one asked for, or a stronger one
    was: SequenceStatus | None  # the contact's status before
    written: bool  # False: a stop at least as strong was already there
    overwritten_by: SequenceStatus | None = None  # a weaker status another writer put over ours


def record_stop(crm: NotionCRM, email: str, status: SequenceStatus) -> Stop | None:
    """Write the stop on the contact unless one at least as strong is there; None when there is
    no such contact. The one way a stop is written (cancel flow, `campaign cancel`, webhooks).

    Notion first: from this moment on, every send skips, whatever Prefect does next. A stronger
    stop already recorded (Complained, say) is kept: it is the consent record. Notion offers no
    conditional write, so after writing the contact is read again, and a weaker status another
    process wrote meanwhile is replaced by ours once more. (Inside one process, the webhook
    service also makes the stops of one contact take turns.)
    """
    if status not in STOP_RANK:
        raise ValueError(f"{status.value} does not stop a sequence")
    contact = crm.find_contact(email)
    if contact is None:
        return None
    was = contact.sequence_status
    if was is not None and outranks(was, status):
        return Stop(was, was, written=False)
    crm.set_contact_status(contact.page_id, status)
    after = crm.find_contact(email)
    now = after.sequence_status if after else None
    if after is None or (now is not None and outranks(now, status)):
        return Stop(now or status, was, written=True)  # ours, a stronger one, or deleted
    crm.set_contact_status(contact.page_id, status)
    return Stop(status, was, written=True, overwritten_by=now)


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
    stop, count = cancel_contact_sequence(load_settings(), email, SequenceStatus(status))
    get_run_logger().info(
        "Cancelled %d scheduled run(s) of contact %s; status is now %s.",
        count,
        contact_ref(email),
        stop.status.value,
    )
    return count
