"""Send, skip or wait: what a send run does with one step, decided from the contact alone.

Pure: the contact as Notion holds it now, the step, the previous step's due time and `now` go
in; a decision and its reason come out. The contact's `Last Email Sent` is the sequence's
cursor: the send flow moves it on right after the step's send-log row says Sent, so a step at
or below it has gone out (or was overtaken on purpose) and is never sent again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from campaigns.models import Contact, SequenceStatus


class Action(StrEnum):
    SEND = "send"
    SKIP = "skip"  # the contact must not get it: recorded on the send log as Skipped
    ALREADY_SENT = "already sent"  # nothing to do and nothing to record
    WAIT = "wait"  # the previous step is due and not sent yet


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str


def decide_send(
    contact: Contact | None,
    email_number: int,
    *,
    previous_due_at: datetime | None,
    now: datetime,
) -> Decision:
    """What to do with step `email_number` of this contact at `now`, and why."""
    if contact is None:
        return Decision(Action.SKIP, "no contact with this address in Notion")
    sent = contact.last_email_sent or 0
    if sent >= email_number:
        return Decision(Action.ALREADY_SENT, f"the contact's Last Email Sent is already {sent}")
    status = contact.sequence_status
    if status != SequenceStatus.ACTIVE:
        return Decision(Action.SKIP, f"Sequence Status is {status.value if status else 'not set'}")
    if sent < email_number - 1 and previous_due_at is not None and previous_due_at <= now:
        return Decision(Action.WAIT, f"email {email_number - 1} is due and not sent yet")
    return Decision(Action.SEND, "the contact is Active and the previous step is done")
