"""Flow `christmas-send-email`: send one email of one contact's sequence, exactly once.

It reads the contact at send time (an unsubscribe an hour ago must win over a schedule made ten
days ago) and decides from it (`send_decision`): the contact's Last Email Sent is the sequence's
cursor, so a step already sent is skipped without reading the send log. Then the timing rules
(`timing`): a run that starts after the campaign's end skips its step; one that starts less than
the minimum gap after the contact's last email, or outside the send window, defers it. While the
previous step of the plan is due and not sent, and its run is still on it (or lost, and the
reconciler will start it again), the step defers too (after watching a running previous run for
up to a minute, since it is usually about to send), so emails never overtake each other and a
late backlog never arrives in a bunch. After any wait the contact is read again, so a stop that
arrived meanwhile wins. Deferring creates the step's next run, due later, with
its own idempotency key, and ends this one Completed saying until when; no worker slot is held.

It sends with the step's fixed Resend idempotency key, writes the step's send-log row, then
moves the cursor on. A crash between those writes is healed by the run's retry, or by the
reconciler's new run, which read the row first; a crash between Resend's answer and the row
write is healed by the same key within Resend's 24 h (after that, a retry would send again).

Notion requests per sent email: read the contact, read the template, write the row, move the
cursor (and, after the last email of the plan, mark the contact Completed in the same write).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from prefect import flow, get_run_logger, runtime
from prefect.client.schemas.objects import State
from prefect.states import Completed

from campaigns.christmas_campaign.reconcile import Verdict, judge_runs
from campaigns.christmas_campaign.send_decision import Action, Decision, decide_send, decide_timing
from campaigns.christmas_campaign.sequence import CAMPAIGN
from campaigns.christmas_campaign.tasks.common import (
    FlowServices,
    retry_only_transient,
)
from campaigns.christmas_campaign.tasks.contacts import read_contact, record_sent
from campaigns.christmas_campaign.tasks.delivery import deliver, send_tags
from campaigns.christmas_campaign.tasks.send_log import (
    ALREADY_SENT,
    read_send_row,
    write_send_row,
)
from campaigns.christmas_campaign.tasks.step_runs import (
    contact_send_runs,
    defer_step,
    step_runs,
    view,
)
from campaigns.christmas_campaign.tasks.templates import render_email
from campaigns.christmas_campaign.timing import (
    PlannedStep,
    Timing,
    contact_plan,
    last_planned,
    previous_planned,
)
from campaigns.christmas_campaign.topology import SEND_FLOW_NAME
from campaigns.christmas_campaign.variables import unsubscribe_link
from campaigns.errors import CampaignError
from campaigns.idempotency import contact_ref, defer_key, send_key, step_run_key
from campaigns.models import (
    Contact,
    Segment,
    SendStatus,
    SendUpdate,
    SequenceStatus,
    Signup,
    iana_zone,
)
from campaigns.settings import SEND_GROUPS, Settings, load_settings

_MAX_EARLY_WAIT = 300.0  # seconds; a worker may pick a run up slightly before it is due
_SHORT_WAIT = 10.0  # seconds; a deferral this short is slept through instead of re-scheduled
_POLL_SECONDS = 2.0  # while the previous step's run is running, how often it is looked at
_MAX_WATCH_SECONDS = 60.0  # at most this long (or one reconciler interval) holding the slot
_STARTED = frozenset({"PENDING", "RUNNING"})  # Prefect state types of a run that has started


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
    """Send email `email_number` of the Christmas sequence to `email`, or skip or defer it.

    `send_log_read` says the orchestrator read the send log when it scheduled this run, and
    `send_log_row_id` is the step's row it found then (None: there was none); a run scheduled
    without them (an older version, the reconciler) looks the row up.
    """
    parameters = dict(locals())
    with retry_only_transient():
        if signup.email != email.strip().lower():
            raise CampaignError(
                f"Parameter email does not match signup.email for step {email_number}."
            )
        settings = load_settings().require(*SEND_GROUPS)
        services = FlowServices(settings)
        ref = f"email {email_number} of contact {contact_ref(email)}"
        _wait_until_due(scheduled_for)
        step, decision = _decide(services, email, email_number)
        if decision.action == Action.ALREADY_SENT:
            return _completed(f"Skipped {ref}: {decision.reason}.")
        contact = step.contact
        log = StepLog(services, email, email_number, template_id, scheduled_for, contact)
        log.row_id, log.last = send_log_row_id, email_number == step.last
        if decision.action == Action.WAIT:  # only a later run may see the previous step sent
            return _defer(log, step, parameters, decision, ref)
        if not send_log_read or (runtime.flow_run.run_count or 1) > 1:
            done = log.find_row()  # a retry: the last try may have written the row already
            if done is not None:
                return _completed(f"Skipped {ref}: the send log already records it as {done}.")
        if decision.action == Action.SKIP:
            log.write(SendUpdate(status=SendStatus.SKIPPED, detail=decision.reason))
            step.close_if_last(services)
            return _completed(f"Skipped {ref}: {decision.reason}.")
        if decision.action == Action.DEFER:
            return _defer(log, step, parameters, decision, ref)
        assert step.contact is not None  # only a contact can be sent to
        try:
            rendered = render_email(services, template_id, signup, segment, scheduled_for)
            sent = deliver(
                services,
                email,
                rendered,
                unsubscribe_link(services.settings.content, email),
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


def _decide(services: FlowServices, email: str, email_number: int) -> tuple[Step, Decision]:
    """Read the contact and decide; a timing deferral of a few seconds (the gap) is slept
    through and decided again, from the contact as it is then."""
    for _ in range(3):
        step = Step(services.settings, email_number, read_contact(services, email), services)
        decided_at = datetime.now(UTC)
        decision = step.decide(decided_at)
        short = decision.until is not None and (
            decision.until - decided_at <= timedelta(seconds=_SHORT_WAIT)
        )
        if decision.action != Action.DEFER or not short:
            break
        assert decision.until is not None
        _sleep_until(decision.until)
    return step, decision


@dataclass
class Step:
    """One step of a contact's plan, and what may be done with it now."""

    settings: Settings
    email_number: int
    contact: Contact | None
    services: FlowServices | None = None  # to re-read the contact while the previous step runs

    @property
    def plan(self) -> list[PlannedStep]:
        contact = self.contact
        if contact is None or contact.enrolled_at is None or contact.segment is None:
            return []
        return contact_plan(self.settings, contact.enrolled_at, contact.segment, contact.time_zone)

    @property
    def last(self) -> int:
        """The last step of the plan (7 unless the campaign's end dropped steps)."""
        return last_planned(self.plan) or self.email_number

    def decide(self, now: datetime) -> Decision:
        """Send, skip, already sent, or defer (the previous step or the timing rules)."""
        previous = previous_planned(self.plan, self.email_number)
        decision = decide_send(
            self.contact,
            self.email_number,
            previous_due_at=previous.due_at if previous else None,
            previous_email_number=previous.email_number if previous else 0,
            now=now,
        )
        if decision.action == Action.WAIT and previous is not None:
            decision = self._wait_for(previous.email_number, now)  # WAIT until, or SEND
            now = datetime.now(UTC)  # it may have watched the previous run for a while
        if decision.action != Action.SEND:
            return decision
        assert self.contact is not None
        timing = Timing.from_settings(self.settings, now=self.contact.enrolled_at or now)
        zone = iana_zone(self.contact.time_zone) if self.contact.time_zone else timing.zone
        return decide_timing(
            self.email_number,
            now=now,
            last_sent_at=self.contact.last_email_sent_at,
            timing=timing,
            zone=zone,
        )

    def _wait_for(self, previous: int, now: datetime) -> Decision:
        """The previous step is due and unsent. While its run is running, watch that run on
        Prefect for a little while (it is usually about to send); send once it has ended (sent
        or not); otherwise defer: until a while after its run is due, or, when it is lost, one
        reconciler interval (the reconciler starts it again)."""
        contact = self.contact
        assert contact is not None and contact.enrolled_at is not None
        key = step_run_key(CAMPAIGN, contact.email, contact.enrolled_at, previous)
        timing = self.settings.reconciler
        every = timedelta(seconds=timing.every_seconds)
        deadline = time.monotonic() + min(timing.every_seconds, _MAX_WATCH_SECONDS)
        while True:
            finding = judge_runs(
                [view(run) for run in step_runs(contact_send_runs(contact.email), key)],
                now=now,
                lost_after=timedelta(seconds=timing.lost_after_seconds),
                max_redrives=self.settings.reconcile_max_redrives,
            )
            newest = finding.newest
            running = newest is not None and newest.state_type in _STARTED
            if not running or time.monotonic() >= deadline:
                break
            time.sleep(_POLL_SECONDS)
            now = datetime.now(UTC)
        if finding.verdict in (Verdict.DONE, Verdict.GIVE_UP):
            return self._after_previous_ended(previous, finding.reason)
        due = newest.due if newest is not None else None
        if finding.verdict == Verdict.LOST:
            until = now + every
        elif due is not None and due > now:
            until = due + every / 3
        else:
            until = now + every / 3
        return Decision(
            Action.WAIT, f"email {previous} is due and not sent yet ({finding.reason})", until
        )

    def _after_previous_ended(self, previous: int, why: str) -> Decision:
        """The previous step's run ended: read the contact again (its cursor and last send time
        moved if it sent) and go, saying so when it ended without sending."""
        contact = self.contact
        assert contact is not None and self.services is not None
        fresh = read_contact(self.services, contact.email)
        self.contact = fresh
        # Decide again from what Notion says now: the contact may have stopped meanwhile.
        again = decide_send(fresh, self.email_number, previous_due_at=None, now=datetime.now(UTC))
        if again.action != Action.SEND:
            return again
        assert fresh is not None  # a missing contact is a SKIP above
        if (fresh.last_email_sent or 0) >= previous:
            return Decision(Action.SEND, f"email {previous} was sent meanwhile")
        get_run_logger().info(
            "Email %d of contact %s goes without email %d, which ended unsent: %s.",
            self.email_number,
            contact_ref(contact.email),
            previous,
            why,
        )
        return Decision(Action.SEND, f"email {previous} ended without being sent")

    def close_if_last(self, services: FlowServices) -> None:
        """After skipping the plan's last step because the campaign ended, say so on the contact."""
        contact = self.contact
        if (
            contact is not None
            and self.email_number == self.last
            and contact.sequence_status == SequenceStatus.ACTIVE
        ):
            services.crm.set_contact_status(contact.page_id, SequenceStatus.CAMPAIGN_ENDED)


def _defer(
    log: StepLog, step: Step, parameters: dict[str, Any], decision: Decision, ref: str
) -> State:
    """Create the step's next run, due at `decision.until`; note it on the row when the timing
    rules moved the step (DEFER); a WAIT for the previous step is not worth a Notion write."""
    contact, until = step.contact, decision.until
    assert contact is not None and contact.enrolled_at is not None and until is not None
    key = step_run_key(CAMPAIGN, contact.email, contact.enrolled_at, step.email_number)
    own = str(runtime.flow_run.id or "")
    following = {**parameters, "send_log_row_id": log.row_id, "send_log_read": False}
    run = defer_step(
        contact.email, step.email_number, _as_json(following), defer_key(key, own), until
    )
    if decision.action == Action.DEFER:
        log.write(
            SendUpdate(
                status=SendStatus.SCHEDULED,
                scheduled_for=until,
                flow_run_id=str(run.id),
                detail=f"Deferred: {decision.reason}.",
            )
        )
    return _completed(
        f"Deferred {ref} until {until.isoformat()} (run {run.name}): {decision.reason}."
    )


def _as_json(parameters: dict[str, Any]) -> dict[str, Any]:
    signup = parameters["signup"]
    return {
        **parameters,
        "segment": str(parameters["segment"]),
        "scheduled_for": parameters["scheduled_for"].isoformat(),
        "signup": signup.model_dump(mode="json") if isinstance(signup, Signup) else signup,
    }


@dataclass
class StepLog:
    """The step's send-log row and the contact's cursor, written as the step goes."""

    services: FlowServices
    email: str
    email_number: int
    template_id: str
    scheduled_for: datetime
    contact: Contact | None
    row_id: str | None = None
    last: bool = False  # the plan's last step: sending it completes the contact

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
        """Last Email Sent moves on (and the contact is Completed after the plan's last step)."""
        contact = self.contact
        if contact is not None and (contact.last_email_sent or 0) < self.email_number:
            record_sent(self.services, contact.page_id, self.email_number, at, last=self.last)

    def record_failure(self, exc: CampaignError) -> None:
        """Best effort: note the error on the row; the run fails with the original error."""
        try:
            self.write(SendUpdate(status=SendStatus.FAILED, detail=str(exc)))
        except CampaignError:
            get_run_logger().warning("Could not record the failure on the send log.")


def _wait_until_due(scheduled_for: datetime) -> None:
    """Never send before the due time, even if a worker started the run a little early."""
    early = (scheduled_for.astimezone(UTC) - datetime.now(UTC)).total_seconds()
    if 0 < early <= _MAX_EARLY_WAIT:
        time.sleep(early)


def _sleep_until(at: datetime) -> None:
    time.sleep(max(0.0, (at - datetime.now(UTC)).total_seconds()))


def _completed(message: str) -> State:
    get_run_logger().info(message)
    return Completed(message=message)
