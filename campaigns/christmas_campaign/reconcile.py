"""What the reconciler does with one step or one signup, decided from its runs alone.

Pure: the runs Prefect holds for one send step of one enrollment (or for one contact's
signups), the time and the limits go in; a verdict and its reason come out. The reconciler
flow (`flows/reconciler.py`) reads the runs and acts on the verdicts.

The rules, newest run first (a step's or signup's newest run is the one that counts):
- Scheduled, Late, AwaitingRetry, Paused, Running, Cancelling: a run is on it; leave it.
- Running with no sign of life (a heartbeat or a state change) for longer than `lost_after`: its
  process died; it is lost. Prefect's automation on missing heartbeats
  (`deploy_all.ensure_silent_run_automation`) usually marks such a run Crashed first; this rule
  catches the runs it misses. The reconciler looks up a Running run's last sign of life only
  when the run has been Running that long (`needs_pulse`).
- Pending for longer than `lost_after`: no worker started it (a worker killed between taking
  the run and starting its process); it is lost.
- Completed: the run decided (sent, skipped, deferred, not re-enrolled); nothing to do.
- Crashed or Failed (after its own retries), or a send step's run Cancelled while the contact
  is still Active: lost. It is started again, up to `max_redrives` times, then left for a person.
  A run that failed for a reason a person must fix (a Draft template, a bad signup: tagged
  `failure:permanent` by the flow) is left for a person at once.
- No run at all for a send step that is due (plus a grace period): lost (its run was never
  created, or was deleted).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Verdict(StrEnum):
    ON_IT = "a run is on it"
    DONE = "done"
    LOST = "re-driven"
    GIVE_UP = "needs a person"


# Prefect state types (`StateType` values), kept as strings so this module imports nothing.
_ON_IT = frozenset({"SCHEDULED", "PAUSED", "RUNNING", "CANCELLING"})
_ENDED_BADLY = frozenset({"FAILED", "CRASHED", "CANCELLED"})


@dataclass(frozen=True)
class RunView:
    """What the reconciler needs of one flow run."""

    id: str
    name: str
    state_type: str  # a Prefect StateType value: "SCHEDULED", "FAILED", ...
    state_name: str  # what the UI shows: "Late", "AwaitingRetry", "Crashed", ...
    state_since: datetime
    created: datetime
    redrive: bool = False  # started by the reconciler
    message: str = ""
    permanent: bool = False  # failed for a reason a person must fix (`PERMANENT_FAILURE_TAG`)
    due: datetime | None = None  # when a Scheduled run is due to start
    alive_at: datetime | None = None  # a Running run's last heartbeat or state change, if looked up


@dataclass(frozen=True)
class Finding:
    verdict: Verdict
    reason: str
    newest: RunView | None = None  # the run the verdict is about (None: there is none)
    redrives: int = 0  # how many runs the reconciler has started for this step or signup
    stale: bool = False  # no process will finish the newest run: mark it Crashed, then re-drive


def judge_runs(
    runs: Iterable[RunView],
    *,
    now: datetime,
    lost_after: timedelta,
    max_redrives: int,
    cancelled_is_lost: bool = True,
) -> Finding:
    """The verdict on one step (or one signup) from all its runs; see the module docstring."""
    runs = list(runs)
    newest = newest_run(runs)
    if newest is None:
        return Finding(Verdict.LOST, "no run exists")
    redrives = sum(run.redrive for run in runs)
    kind = newest.state_type
    if kind == "PENDING":
        waited = now - newest.state_since
        if waited < lost_after:
            return Finding(Verdict.ON_IT, "Pending: a worker is starting it", newest, redrives)
        reason = f"run {newest.name} has been Pending for {_seconds(waited)} with no worker"
        return _lost_or_give_up(newest, redrives, max_redrives, reason, stale=True)
    if kind == "RUNNING" and newest.alive_at is not None:
        silent = now - newest.alive_at
        if silent >= lost_after:
            reason = f"run {newest.name} has been Running with no heartbeat for {_seconds(silent)}"
            return _lost_or_give_up(newest, redrives, max_redrives, reason, stale=True)
    if kind in _ON_IT:
        return Finding(Verdict.ON_IT, f"run {newest.name} is {newest.state_name}", newest, redrives)
    if kind == "COMPLETED":
        return Finding(Verdict.DONE, f"run {newest.name} is Completed", newest, redrives)
    if kind == "CANCELLED" and not cancelled_is_lost:
        return Finding(
            Verdict.DONE, f"run {newest.name} was Cancelled by a person", newest, redrives
        )
    if kind in _ENDED_BADLY:
        reason = f"run {newest.name} ended {newest.state_name}"
        if newest.message:
            reason += f" ({_first_line(newest.message)})"
        if newest.permanent:
            reason += "; a person must fix the cause, then start it again"
            return Finding(Verdict.GIVE_UP, reason, newest, redrives)
        return _lost_or_give_up(newest, redrives, max_redrives, reason)
    return Finding(Verdict.ON_IT, f"run {newest.name} is {newest.state_name}", newest, redrives)


def newest_run(runs: Sequence[RunView]) -> RunView | None:
    """The run that counts for a step or signup: the one created last."""
    return max(runs, key=lambda run: run.created, default=None)


def needs_pulse(run: RunView, *, now: datetime, lost_after: timedelta) -> bool:
    """Whether `run` has been Running long enough that its last sign of life must be looked up."""
    running_long = run.state_type == "RUNNING" and now - run.state_since >= lost_after
    return running_long and run.alive_at is None


def pass_in_charge(
    me: str, passes: Sequence[RunView], *, now: datetime, lost_after: timedelta
) -> RunView | None:
    """The reconciler pass that should do the work when several run at once (after an outage
    every Late pass starts together): the one Running the longest, by run id on a tie. A pass
    Running for `lost_after` or more does not count (it died, or is slow enough to overlap).
    `me` is this pass's run id; None means this pass is in charge."""
    live = [run for run in passes if run.id == me or now - run.state_since < lost_after]
    first = min(live, key=lambda run: (run.state_since, run.id), default=None)
    return None if first is None or first.id == me else first


def overdue_steps(
    due_times: Sequence[tuple[int, datetime | None]],
    last_email_sent: int | None,
    *,
    now: datetime,
    grace: timedelta,
) -> list[int]:
    """The steps after the contact's cursor whose due time plus `grace` has passed.

    `due_times` is the contact's schedule as (email number, due time); a step without a due
    time was dropped from the schedule and is never overdue.
    """
    cursor = last_email_sent or 0
    return [
        number
        for number, due_at in due_times
        if number > cursor and due_at is not None and due_at + grace <= now
    ]


def _lost_or_give_up(
    newest: RunView, redrives: int, max_redrives: int, reason: str, *, stale: bool = False
) -> Finding:
    if redrives >= max_redrives:
        reason += f"; the reconciler already started it again {redrives} time(s)"
        return Finding(Verdict.GIVE_UP, reason, newest, redrives, stale)
    return Finding(Verdict.LOST, reason, newest, redrives, stale)


def _seconds(delta: timedelta) -> str:
    return f"{delta.total_seconds():.0f} s"


def _first_line(message: str, limit: int = 160) -> str:
    line = message.strip().splitlines()[0] if message.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"
