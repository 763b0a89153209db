"""Ending a contact's sequence from a webhook: unsubscribe, bounce, complaint, booked call.

The request writes the contact's `Sequence Status` in Notion and only then answers: from that
moment every send skips, because each send re-reads the status. Cancelling the not-started
Prefect runs and marking their log rows Skipped (`cancel_contact_sequence`, a dozen calls at
Notion's three per second) runs after the answer, as a background task; if Prefect or Notion
fails there, it is logged and the runs still skip when they start.

A status is never replaced by a weaker one: a person who unsubscribed and then books a call stays
Unsubscribed (consent withdrawn outlives a conversion), a complaint outranks everything.
"""

from __future__ import annotations

import logging

from fastapi import BackgroundTasks

from campaigns.idempotency import contact_ref
from campaigns.models import SequenceStatus, outranks
from campaigns.webhook_service.services import CancelRuns, Services

log = logging.getLogger("campaigns.webhooks")


async def stop_sequence(
    services: Services, email: str, status: SequenceStatus, background: BackgroundTasks
) -> bool:
    """Set the contact's status and schedule the cancel; False when nothing had to change."""
    ref = contact_ref(email)
    contact = await services.notion(services.crm.find_contact, email)
    if contact is None:
        log.info("No contact %s in Notion; nothing to stop for %s.", ref, status.value)
        return False
    current = contact.sequence_status
    if outranks(current, status):
        log.info("Contact %s is already %s; %s changes nothing.", ref, _name(current), status.value)
        return False
    await services.notion(services.crm.set_contact_status, contact.page_id, status)
    log.info("Contact %s is now %s (was %s).", ref, status.value, _name(current))
    background.add_task(cancel_rest, services.cancel_runs, email, status)
    return True


def cancel_rest(cancel_runs: CancelRuns, email: str, status: SequenceStatus) -> None:
    """Background task: cancel what is still scheduled; log, never raise (the answer is sent)."""
    ref = contact_ref(email)
    try:
        count = cancel_runs(email, status)
    except Exception as exc:  # a failure here must not look like a failed request
        log.warning(
            "Could not cancel the scheduled runs of contact %s (%s: %s); they will skip at send "
            "time because the contact is %s.",
            ref,
            type(exc).__name__,
            exc,
            status.value,
        )
        return
    log.info("Cancelled %d scheduled run(s) of contact %s (%s).", count, ref, status.value)


def _name(status: SequenceStatus | None) -> str:
    return status.value if status is not None else "unset"
