"""Flow `christmas-reconcile`: find signups and emails whose run was lost, and start them again.

Deployed as `christmas-reconciler` on a schedule (`RECONCILE_EVERY_SECONDS`: 5 minutes, 30 s in
TESTING_MODE). Only one pass works at a time: after an outage every Late pass starts at once,
and all but the one Running the longest end at once (`reconcile.pass_in_charge`). Each pass:

1. Signups: orchestrator runs of the look-back window (`RECONCILE_LOOKBACK_DAYS`) that ended
   Failed or Crashed, sit Pending with no worker, or are Running with no heartbeat, and have no
   newer run for the same contact that is on it or Completed, are started again with the same
   parameters (the signup lives only there).
2. Emails: for every Active contact in Notion, each step after its Last Email Sent that is due
   (plus `RECONCILE_GRACE_SECONDS`) is judged from its runs (`reconcile.judge_runs`); a lost one
   is scheduled again, due now, with its own idempotency key, and its send-log row says so.
   The send run itself then applies the timing rules (order, gap, window, campaign end).
3. It publishes a table artifact `christmas-reconciler` (what it found, what it started again,
   why) and ends Completed with a one-line summary, or Failed with a sentence when it could not
   read Notion or Prefect, so an automation can alert on it.

A run whose process died stays Running until Prefect's automation on missing heartbeats
(`deploy_all.ensure_silent_run_automation`, `LOST_RUN_AFTER_SECONDS`) marks it Crashed, or until
a pass finds it Running with no heartbeat or state change for LOST_RUN_AFTER_SECONDS (the
automation misses some: a process killed before its first heartbeat reached the server). Either
way the pass marks or finds it Crashed and re-drives it. So a lost email is sent again within
about LOST_RUN_AFTER_SECONDS + RECONCILE_EVERY_SECONDS (15 minutes in production, 3 in
TESTING_MODE).

Exactly once still holds: a re-driven step reads its send-log row first and sends with the same
Resend idempotency key (campaign, contact, email number). What remains: a run that crashed after
Resend accepted the email and before the Sent row was written, re-driven more than 24 h later
(Resend keeps keys 24 h), would send again; at production timings it is re-driven within minutes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from prefect.client.schemas.objects import FlowRun, State
from prefect.exceptions import PrefectHTTPStatusError
from prefect.runtime import flow_run
from prefect.states import Completed

from campaigns.christmas_campaign.reconcile import (
    Finding,
    RunView,
    Verdict,
    judge_runs,
    needs_pulse,
    newest_run,
    overdue_steps,
    pass_in_charge,
)
from campaigns.christmas_campaign.sequence import CAMPAIGN, template_id_for
from campaigns.christmas_campaign.tasks.common import FlowServices
from campaigns.christmas_campaign.tasks.send_log import ALREADY_SENT
from campaigns.christmas_campaign.tasks.step_runs import (
    contact_send_runs,
    contact_signup_runs,
    enrollment_runs,
    last_sign_of_life,
    mark_crashed,
    running_runs,
    start_signup_again,
    start_step_again,
    step_runs,
    troubled_signup_runs,
    view,
)
from campaigns.christmas_campaign.timing import contact_plan
from campaigns.christmas_campaign.topology import RECONCILER_FLOW_NAME
from campaigns.errors import OrchestratorUnavailable
from campaigns.idempotency import (
    contact_ref,
    enrollment_key,
    redrive_key,
    send_key,
    signup_run_key,
    step_run_key,
)
from campaigns.models import Contact, NewSend, SendStatus, SendUpdate, SequenceStatus
from campaigns.settings import NotionAccess, ReconcilerTiming, Settings, load_settings

REPORT_KEY = "christmas-reconciler"


@flow(name=RECONCILER_FLOW_NAME, log_prints=False)
def christmas_reconcile() -> State:
    """Start again every signup and due email whose run was lost; report what was done."""
    settings = load_settings().require(NotionAccess)
    timing = settings.reconciler
    report = Report(now=datetime.now(UTC), timing=timing)
    with prefect_unreachable("reading the other passes"):
        other = another_pass_in_charge(report)
    if other is not None:
        return Completed(message=f"Pass {other.name} is running; this one leaves the work to it.")
    try:
        with prefect_unreachable("reading and starting runs"):
            waiting = reconcile_signups(report)
            reconcile_steps(_services(settings), report, waiting)
    finally:
        report.publish()
    return Completed(message=report.summary())


@dataclass
class Report:
    """What one pass found and did, as the artifact's rows and the run's closing sentence."""

    now: datetime
    timing: ReconcilerTiming
    rows: list[dict[str, str]] = field(default_factory=list)
    contacts_checked: int = 0
    overdue: int = 0

    @property
    def lost_after(self) -> timedelta:
        return timedelta(seconds=self.timing.lost_after_seconds)

    def add(self, what: str, email: str, finding: Finding, new_run: FlowRun | None = None) -> None:
        self.rows.append(
            {
                "what": what,
                "contact": contact_ref(email),
                "verdict": finding.verdict.value,
                "why": finding.reason,
                "new run": new_run.name if new_run else "",
            }
        )
        logger = get_run_logger()
        if finding.verdict == Verdict.GIVE_UP:
            logger.warning(
                "The %s of contact %s needs a person: %s.", what, contact_ref(email), finding.reason
            )
        elif new_run is not None:
            logger.info(
                "Started the %s of contact %s again as run %s: %s.",
                what,
                contact_ref(email),
                new_run.name,
                finding.reason,
            )
        else:
            logger.info(
                "The %s of contact %s is overdue (%s): %s.",
                what,
                contact_ref(email),
                finding.verdict.value,
                finding.reason,
            )

    def count(self, verdict: Verdict) -> int:
        return sum(row["verdict"] == verdict.value for row in self.rows)

    def summary(self) -> str:
        return (
            f"Checked {self.contacts_checked} Active contact(s) and the failed signups of the "
            f"last {self.timing.lookback_days:g} day(s): {self.overdue} overdue step(s), "
            f"{self.count(Verdict.LOST)} started again, {self.count(Verdict.GIVE_UP)} need a "
            "person."
        )

    def publish(self) -> None:
        create_table_artifact(
            key=REPORT_KEY,
            table=self.rows or [{"what": "nothing lost", "contact": "", "verdict": "", "why": ""}],
            description=self.summary(),
        )


def another_pass_in_charge(report: Report) -> RunView | None:
    """The pass that does the work if it is not this one: two passes at once would both start
    a lost step (one run, by its key) and both write its send-log row (two rows)."""
    me = str(flow_run.id)
    passes = [view(run) for run in running_runs(RECONCILER_FLOW_NAME)]
    return pass_in_charge(me, passes, now=report.now, lost_after=report.lost_after)


def judge(runs: list[FlowRun], report: Report, *, cancelled_is_lost: bool = True) -> Finding:
    """`judge_runs` on these runs, with the newest run's last sign of life looked up when it
    has been Running for LOST_RUN_AFTER_SECONDS (one events query, only for such a run)."""
    views = [view(run) for run in runs]
    newest = newest_run(views)
    if newest is not None and needs_pulse(newest, now=report.now, lost_after=report.lost_after):
        alive_at = last_sign_of_life(newest.id, since=newest.state_since)
        views[views.index(newest)] = replace(newest, alive_at=alive_at)
    return judge_runs(
        views,
        now=report.now,
        lost_after=report.lost_after,
        max_redrives=report.timing.max_redrives,
        cancelled_is_lost=cancelled_is_lost,
    )


def reconcile_signups(report: Report) -> set[str]:
    """Start again each lost signup; return the contacts whose signup has a run on it now."""
    since = report.now - timedelta(days=report.timing.lookback_days)
    by_email: dict[str, list[FlowRun]] = defaultdict(list)
    for run in troubled_signup_runs(since, running_since=report.now - report.lost_after):
        email = run.parameters.get("email")
        if isinstance(email, str) and email.strip():
            by_email[email.strip().lower()].append(run)
    on_it: set[str] = set()
    for email, troubled in by_email.items():
        runs = {str(run.id): run for run in [*troubled, *contact_signup_runs(email)]}
        finding = judge(list(runs.values()), report, cancelled_is_lost=False)
        if finding.verdict == Verdict.ON_IT:
            on_it.add(email)
        if finding.verdict in (Verdict.ON_IT, Verdict.DONE) or finding.newest is None:
            continue
        if finding.verdict == Verdict.GIVE_UP:
            report.add("signup", email, finding)
            continue
        lost = runs[finding.newest.id]
        if finding.stale:
            mark_crashed(finding.newest.id, f"The reconciler found it {finding.reason}.")
        key = signup_run_key(CAMPAIGN, email, finding.newest.id)
        report.add("signup", email, finding, start_signup_again(email, lost.parameters, key))
        on_it.add(email)
    return on_it


def reconcile_steps(services: FlowServices, report: Report, signups_on_it: set[str]) -> None:
    """Judge every overdue step of every Active contact; start the lost ones again."""
    settings = services.settings
    grace = timedelta(seconds=report.timing.grace_seconds)
    for contact in services.crm.contacts_with_status(SequenceStatus.ACTIVE):
        report.contacts_checked += 1
        if contact.enrolled_at is None or contact.segment is None:
            continue  # not enrolled by the orchestrator (typed in by hand): nothing is due
        plan = contact_plan(settings, contact.enrolled_at, contact.segment, contact.time_zone)
        due_at = {step.email_number: step.due_at for step in plan}
        steps = overdue_steps(
            list(due_at.items()), contact.last_email_sent, now=report.now, grace=grace
        )
        if not steps:
            continue
        report.overdue += len(steps)
        key = enrollment_key(CAMPAIGN, contact.email, contact.enrolled_at)
        runs = enrollment_runs(contact_send_runs(contact.email), key)
        for number in steps:
            due = due_at[number]
            assert due is not None  # overdue_steps never returns a dropped step
            _reconcile_step(services, report, contact, number, due, runs, signups_on_it)


def _reconcile_step(
    services: FlowServices,
    report: Report,
    contact: Contact,
    number: int,
    due_at: datetime,
    runs: list[FlowRun],
    signups_on_it: set[str],
) -> None:
    assert contact.enrolled_at is not None and contact.segment is not None
    what = f"email {number}"
    base = step_run_key(CAMPAIGN, contact.email, contact.enrolled_at, number)
    mine = step_runs(runs, base)
    finding = judge(mine, report)
    if finding.verdict != Verdict.LOST:
        report.add(what, contact.email, finding)  # overdue, and why nothing is started
        return
    source = mine or runs  # the lost run's parameters, or a sibling step's (same signup)
    if not source:
        if contact.email.strip().lower() in signups_on_it:
            return  # its orchestrator run is being started again and will create this run
        report.add(
            what,
            contact.email,
            Finding(
                Verdict.GIVE_UP,
                "no run of this enrollment exists to take the signup from; run the signup again",
            ),
        )
        return
    if finding.stale and finding.newest is not None:
        mark_crashed(finding.newest.id, f"The reconciler found it {finding.reason}.")
    parameters: dict[str, Any] = {
        **source[-1].parameters,
        "email_number": number,
        "template_id": template_id_for(number, contact.segment),
        "scheduled_for": due_at.isoformat(),
        "send_log_row_id": None,
        "send_log_read": False,  # the new run reads the step's row before anything else
    }
    attempt = finding.redrives + 1
    key = base if finding.newest is None else redrive_key(base, attempt)
    new_run = start_step_again(contact.email, number, parameters, key, attempt)
    _note_on_send_log(services, contact, number, due_at, new_run, finding.reason)
    report.add(what, contact.email, finding, new_run)


def _note_on_send_log(
    services: FlowServices,
    contact: Contact,
    number: int,
    due_at: datetime,
    new_run: FlowRun,
    reason: str,
) -> None:
    """Say on the step's row that it was started again (a row saying Sent is left alone)."""
    crm = services.crm
    row = crm.find_send(contact.email, number)
    if row is not None and row.status in ALREADY_SENT:
        return  # the new run finds the row and only moves the contact's cursor on
    assert contact.segment is not None
    crm.write_send(
        NewSend(
            email=contact.email,
            email_number=number,
            template_id=template_id_for(number, contact.segment),
            contact_id=contact.page_id,
            scheduled_for=due_at,
            idempotency_key=send_key(CAMPAIGN, contact.email, number),
        ),
        SendUpdate(
            status=SendStatus.SCHEDULED,
            flow_run_id=str(new_run.id),
            detail=f"Started again by the reconciler as run {new_run.name}: {reason}."[:2000],
        ),
        row.page_id if row else None,
    )


@contextmanager
def prefect_unreachable(doing: str) -> Iterator[None]:
    """Turn a Prefect API failure into one sentence that names what the reconciler was doing."""
    try:
        yield
    except (httpx.TransportError, PrefectHTTPStatusError) as exc:
        raise OrchestratorUnavailable(
            f"The reconciler could not reach the Prefect API while {doing} "
            f"({type(exc).__name__}); the next pass tries again."
        ) from exc


def _services(settings: Settings) -> FlowServices:
    """Notion calls retry for one reconciler interval at most: the next pass is the retry."""
    budget = min(settings.notion_retry_budget_seconds, settings.reconciler.every_seconds)
    return FlowServices(settings.model_copy(update={"notion_retry_budget_seconds": budget}))
