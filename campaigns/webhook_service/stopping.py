"""Ending a contact's sequence from a webhook: unsubscribe, bounce, complaint, booked call.

The request writes the contact's `Sequence Status` in Notion and only then answers: from that
moment every send skips, because each send re-reads the status. Cancelling the not-started
Prefect runs and marking their log rows Skipped (`flows.cancel.cancel_remaining`, a dozen calls at
Notion's three per second) runs after the answer, as a background task; if Prefect or Notion
fails there, it is logged and the runs still skip when they start.

A status is never replaced by a weaker one: a person who unsubscribed and then books a call stays
Unsubscribed (consent withdrawn outlives a conversion), a complaint outranks everything. Notion
offers no conditional write, so precedence is kept in two steps:
- in this process, the stops of one contact take turns (a lock per contact), so each reads what
  the one before it wrote;
- `flows.cancel.record_stop`, the one function that writes a stop, reads the contact back after
  writing and replaces a weaker status that another process wrote meanwhile.
A stop this process wrote or found is remembered for a while (`WebhookServices.recent_stops`), so a
repeated unsubscribe or a late booking of a stopped contact costs no Notion call at all.
"""

from __future__ import annotations

import logging

from fastapi import BackgroundTasks

from campaigns.christmas_campaign.flows.cancel import record_stop
from campaigns.idempotency import contact_ref
from campaigns.models import SequenceStatus, outranks
from campaigns.webhook_service.concurrency import Lane
from campaigns.webhook_service.services import CancelRuns, WebhookServices

log = logging.getLogger("campaigns.webhooks")


async def stop_sequence(
    services: WebhookServices,
    email: str,
    status: SequenceStatus,
    background: BackgroundTasks,
    lane: Lane = Lane.WEBHOOKS,
) -> bool:
    """Set the contact's status and schedule the cancel; False when nothing had to change."""
    ref = contact_ref(email)
    if _already(services, ref, status):
        return False
    async with services.contact_locks.hold(ref):
        if _already(services, ref, status):  # the stop this one waited for did it
            return False
        stop = await services.notion(record_stop, services.crm, email, status, lane=lane)
        if stop is None:
            log.info("No contact %s in Notion; nothing to stop for %s.", ref, status.value)
            return False
        services.recent_stops.put(ref, stop.status)
        if not stop.written:
            _unchanged(ref, stop.status, status)
            return False
        log.info("Contact %s is now %s (was %s).", ref, stop.status.value, _name(stop.was))
        if stop.overwritten_by is not None:
            log.warning(
                "Contact %s became %s right after it was set to %s (another writer); set %s again.",
                ref,
                stop.overwritten_by.value,
                status.value,
                status.value,
            )
    background.add_task(cancel_rest, services.cancel_runs, email, status)
    return True


def _already(services: WebhookServices, ref: str, status: SequenceStatus) -> bool:
    """True when this process knows the contact already says "stop" at least as strongly."""
    known = services.recent_stops.get(ref)
    if known is None or not outranks(known, status):
        return False
    _unchanged(ref, known, status)
    return True


def _unchanged(ref: str, current: SequenceStatus, status: SequenceStatus) -> None:
    log.info("Contact %s is already %s; %s changes nothing.", ref, current.value, status.value)


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
