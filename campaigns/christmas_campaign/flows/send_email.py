"""Flow `christmas-send-email`: send one email of one contact's sequence, exactly once.

It reads the contact at send time (an unsubscribe an hour ago must win over a schedule made ten
days ago) and decides from it alone (`send_decision.decide_send`): the contact's Last Email
Sent is the sequence's cursor, so a step already sent is skipped without reading the send log.
It sends with the step's fixed Resend idempotency key, writes the step's send-log row, then
moves the cursor on. A crash between those writes is healed by the run's retry, which reads
the row first; a crash between Resend's answer and the row write is healed by the same key
within Resend's 24 h (after that, a retry would send again).

Notion requests per sent email: read the contact, read the template, write the row, move the
cursor (and, after email 7, mark the contact Completed in the same write).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from prefect import flow, get_run_logger, runtime, task
from prefect.client.schemas.objects import State
from prefect.states import Completed

from campaigns.christmas_campaign.send_decision import Action, Decision, decide_send
from campaigns.christmas_campaign.sequence import CAMPAIGN, EMAIL_COUNT, offset_for
from campaigns.christmas_campaign.tasks.common import (
    TASK_OPTIONS,
    Services,
    retry_only_transient,
)
from campaigns.christmas_campaign.tasks.contacts import record_sent
from campaigns.christmas_campaign.tasks.delivery import deliver, send_tags
from campaigns.christmas_campaign.tasks.send_log import (
    ALREADY_SENT,
    read_send_row,
    write_send_row,
)
from campaigns.christmas_campaign.tasks.templates import render_email, unsubscribe_link
from campaigns.christmas_campaign.topology import SEND_FLOW_NAME
from campaigns.errors import CampaignError
from campaigns.idempotency import contact_ref, send_key
from campaigns.models import Contact, Segment, SendStatus, SendUpdate, Signup
from campaigns.settings import CONTENT, NOTION, RESEND, load_settings

_MAX_EARLY_WAIT = 300.0  # seconds; a worker may pick a run up slightly before it is due
ORDER_WAIT_SECONDS = 120.0
_ORDER_POLL_SECONDS = 3.0


# One flow retry, a minute later, for what outlived the adapters' own retries (a long outage).
# It is safe: the retry reads the send log before anything else and sends with the same key.
@flow(name=SEND_FLOW_NAME, retries=1, retry_delay_seconds=60)
def christmas_send_email(
    email: str,
    email_number: int,
    template_id: str,
    segment: Segment,
    scheduled_for: datetime,
    signup: Signup,
    send_log_row_id: str | None = None,
    send_log_read: bool = False,
) -> str | State:
    """Send email `email_number` of the Christmas sequence to `email`, or skip it and say why.

    `send_log_read` says the orchestrator read the send log when it scheduled this run, and
    `send_log_row_id` is the step's row it found then (None: there was none); a run scheduled
    without them (an older version) looks the row up.
    """
    with retry_only_transient():
        if signup.email != email.strip().lower():
            raise CampaignError(
                f"Parameter email does not match signup.email for step {email_number}."
            )
        services = Services(load_settings().require(*NOTION, *CONTENT, *RESEND))
        ref = f"email {email_number} of contact {contact_ref(email)}"
        _wait_until_due(scheduled_for)
        contact, decision = check_contact(services, email, email_number)
        if decision.action == Action.ALREADY_SENT:
            return _completed(f"Skipped {ref}: {decision.reason}.")
        log = StepLog(services, email, email_number, template_id, scheduled_for, contact)
        log.row_id = send_log_row_id
        if not send_log_read or (runtime.flow_run.run_count or 1) > 1:
            done = log.find_row()  # a retry: the last try may have written the row already
            if done is not None:
                return _completed(f"Skipped {ref}: the send log already records it as {done}.")
        if decision.action == Action.SKIP:
            log.write(SendUpdate(status=SendStatus.SKIPPED, detail=decision.reason))
            return _completed(f"Skipped {ref}: {decision.reason}.")
        assert contact is not None  # only a contact can be sent to
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
            log.record_failure(exc)
            raise
        log.mark_sent(sent.id)
        get_run_logger().info(
            "Sent %s as Resend email %s after %d attempt(s).", ref, sent.id, sent.attempts
        )
        return sent.id


@dataclass
class StepLog:
    """The step's send-log row and the contact's cursor, written as the step goes."""

    services: Services
    email: str
    email_number: int
    template_id: str
    scheduled_for: datetime
    contact: Contact | None
    row_id: str | None = None

    def find_row(self) -> SendStatus | None:
        """Look the row up; when it already says the email left, move the cursor and say so."""
        row = read_send_row(self.services, self.email, self.email_number)
        self.row_id = row.page_id if row else None
        if row is None or row.status not in ALREADY_SENT:
            return None
        self.move_cursor(row.sent_at or datetime.now(UTC))
        return row.status

    def write(self, update: SendUpdate) -> None:
        contact_id = self.contact.page_id if self.contact else None
        row = write_send_row(
            self.services,
            self.email,
            self.email_number,
            self.template_id,
            contact_id,
            self.scheduled_for,
            update,
            self.row_id,
        )
        self.row_id = row.page_id

    def mark_sent(self, resend_email_id: str) -> None:
        """The row says Sent, then the contact's Last Email Sent moves on (in that order)."""
        sent_at = datetime.now(UTC)
        self.write(
            SendUpdate(
                status=SendStatus.SENT,
                sent_at=sent_at,
                resend_email_id=resend_email_id,
                flow_run_id=str(runtime.flow_run.id or ""),
                detail="",
            )
        )
        self.move_cursor(sent_at)

    def move_cursor(self, at: datetime) -> None:
        contact = self.contact
        if contact is not None and (contact.last_email_sent or 0) < self.email_number:
            last = self.email_number == EMAIL_COUNT
            record_sent(self.services, contact.page_id, self.email_number, at, last=last)

    def record_failure(self, exc: CampaignError) -> None:
        """Best effort: note the error on the row; the run fails with the original error."""
        try:
            self.write(SendUpdate(status=SendStatus.FAILED, detail=str(exc)))
        except CampaignError:
            get_run_logger().warning("Could not record the failure on the send log.")


@task(name="check-contact", **TASK_OPTIONS)
def check_contact(
    services: Services, email: str, email_number: int
) -> tuple[Contact | None, Decision]:
    """Read the contact and decide; while the previous email is due and unsent, wait for it.

    Runs that fall due while no worker is up start together when one comes back; without the
    wait, email 5 could overtake email 4. After `ORDER_WAIT_SECONDS` it sends anyway.
    """
    deadline = time.monotonic() + ORDER_WAIT_SECONDS
    while True:
        contact = services.crm.find_contact(email)
        decision = decide_send(
            contact,
            email_number,
            previous_due_at=_previous_due_at(services, contact, email_number),
            now=datetime.now(UTC),
        )
        if decision.action != Action.WAIT:
            return contact, decision
        if time.monotonic() >= deadline:
            get_run_logger().warning(
                "Email %d of contact %s is still not sent after %.0f s; sending email %d anyway.",
                email_number - 1,
                contact_ref(email),
                ORDER_WAIT_SECONDS,
                email_number,
            )
            return contact, Decision(Action.SEND, "the previous step did not resolve in time")
        time.sleep(_ORDER_POLL_SECONDS)


def _previous_due_at(
    services: Services, contact: Contact | None, email_number: int
) -> datetime | None:
    if contact is None or contact.enrolled_at is None or email_number == 1:
        return None
    settings = services.settings
    return contact.enrolled_at + offset_for(
        email_number - 1,
        testing_mode=settings.testing_mode,
        time_scale=settings.sequence_time_scale,
    )


def _wait_until_due(scheduled_for: datetime) -> None:
    """Never send before the due time, even if a worker started the run a little early."""
    early = (scheduled_for.astimezone(UTC) - datetime.now(UTC)).total_seconds()
    if 0 < early <= _MAX_EARLY_WAIT:
        time.sleep(early)


def _completed(message: str) -> State:
    get_run_logger().info(message)
    return Completed(message=message)
