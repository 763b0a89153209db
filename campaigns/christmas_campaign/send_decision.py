"""Send, skip or wait: what a send run does with one step, decided from the contact alone.

Pure: the contact as Notion holds it now, the step, the previous step's number and due time and
`now` go in; a decision and its reason come out. The contact's `Last Email Sent` is the sequence's
cursor: the send flow moves it on right after the step's send-log row says Sent, so a step at
or below it has gone out (or was overtaken on purpose) and is never sent again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum

from campaigns.christmas_campaign.timing import Timing, after_end, earliest_send_time
from campaigns.models import Contact, SequenceStatus


class Action(StrEnum):
    SEND = "send"
    SKIP = "skip"  # the contact must not get it: recorded on the send log as Skipped
    ALREADY_SENT = "already sent"  # nothing to do and nothing to record
    WAIT = "wait"  # the previous step is due and not sent yet (the flow checks until when)
    DEFER = "defer"  # the timing rules say not now: the step's next run is due at `until`


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str
    until: datetime | None = None  # for DEFER and WAIT: when to try again


def decide_send(
    contact: Contact | None,
    email_number: int,
    *,
    previous_due_at: datetime | None,
    now: datetime,
    previous_email_number: int | None = None,
) -> Decision:
    """What to do with step `email_number` of this contact at `now`, and why.

    `previous_email_number` is the step before this one in the contact's plan: email_number - 1
    unless the plan dropped steps to fit before the campaign's end (`timing.previous_planned`),
    so a dropped step is never waited for. `previous_due_at` is that step's due time; None (or
    no previous step, 0) means there is nothing to wait for.
    """
    previous = email_number - 1 if previous_email_number is None else previous_email_number
    if contact is None:
        return Decision(Action.SKIP, "no contact with this address in Notion")
    sent = contact.last_email_sent or 0
    if sent >= email_number:
        return Decision(Action.ALREADY_SENT, f"the contact's Last Email Sent is already {sent}")
    status = contact.sequence_status
    if status != SequenceStatus.ACTIVE:
        return Decision(Action.SKIP, f"Sequence Status is {status.value if status else 'not set'}")
    if sent < previous and previous_due_at is not None and previous_due_at <= now:
        return Decision(Action.WAIT, f"email {previous} is due and not sent yet")
    return Decision(Action.SEND, "the contact is Active and the previous step is done")


def decide_timing(
    email_number: int,
    *,
    now: datetime,
    last_sent_at: datetime | None,
    timing: Timing,
    zone: tzinfo,
) -> Decision:
    """Whether a step that may be sent may go now: not after the campaign's end, not sooner than
    the minimum gap after the contact's last email, not outside its send window (email 1 is
    exempt from the window). SEND, SKIP (it can no longer fit) or DEFER until the earliest time.
    """
    if after_end(now, timing):
        return Decision(Action.SKIP, f"the campaign ended at {_when(timing.ends_at, zone)}")
    at = earliest_send_time(email_number, now, last_sent_at, timing, zone)
    if at is None:
        return Decision(
            Action.SKIP,
            "it can no longer go out before the campaign ends "
            f"({_when(timing.ends_at, zone)}) at the minimum gap after the last email",
        )
    if at <= now:
        return Decision(Action.SEND, "it is inside the send window and the minimum gap")
    sent = f"the last email went out at {_when(last_sent_at, zone)}" if last_sent_at else ""
    why = f"{sent}; " if sent else ""
    return Decision(
        Action.DEFER,
        f"{why}the minimum gap and the send window allow it from {_when(at, zone)}",
        until=at,
    )


def _when(at: datetime | None, zone: tzinfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z") if at else "an unknown time"
