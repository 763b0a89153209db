"""The reconciler's pure rules: which runs count as lost, and which steps are overdue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from campaigns.christmas_campaign.flows.reconciler import prefect_unreachable
from campaigns.christmas_campaign.reconcile import (
    RunView,
    Verdict,
    judge_runs,
    needs_pulse,
    overdue_steps,
    pass_in_charge,
)
from campaigns.errors import OrchestratorUnavailable

NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)
LOST_AFTER = timedelta(seconds=300)


def run(
    state_type: str,
    state_name: str = "",
    *,
    age: float = 0,
    created: float = 1000,
    redrive: bool = False,
    message: str = "",
    silent: float | None = None,
) -> RunView:
    """A run whose state began `age` seconds ago, created `created` seconds ago, last seen
    alive `silent` seconds ago (None: not looked up)."""
    return RunView(
        id=f"id-{state_type}-{created}",
        name=f"run-{created:g}",
        state_type=state_type,
        state_name=state_name or state_type.title(),
        state_since=NOW - timedelta(seconds=age),
        created=NOW - timedelta(seconds=created),
        redrive=redrive,
        message=message,
        alive_at=None if silent is None else NOW - timedelta(seconds=silent),
    )


@pytest.mark.parametrize(
    ("runs", "verdict", "why"),
    [
        ([], Verdict.LOST, "no run exists"),
        ([run("SCHEDULED", "Scheduled")], Verdict.ON_IT, "is Scheduled"),
        ([run("SCHEDULED", "Late", age=86400)], Verdict.ON_IT, "is Late"),
        ([run("SCHEDULED", "AwaitingRetry")], Verdict.ON_IT, "is AwaitingRetry"),
        ([run("RUNNING", age=3600)], Verdict.ON_IT, "is Running"),
        ([run("RUNNING", age=3600, silent=299)], Verdict.ON_IT, "is Running"),
        ([run("RUNNING", age=3600, silent=300)], Verdict.LOST, "no heartbeat for 300 s"),
        ([run("RUNNING", age=900, silent=900)], Verdict.LOST, "no heartbeat for 900 s"),
        ([run("PENDING", age=299)], Verdict.ON_IT, "a worker is starting it"),
        ([run("PENDING", age=301)], Verdict.LOST, "Pending for 301 s with no worker"),
        ([run("COMPLETED")], Verdict.DONE, "is Completed"),
        ([run("CRASHED")], Verdict.LOST, "ended Crashed"),
        ([run("FAILED", message="HTTP 503\nmore")], Verdict.LOST, "ended Failed (HTTP 503)"),
        ([run("CANCELLED")], Verdict.LOST, "ended Cancelled"),
        (
            [run("CRASHED", created=2000), run("SCHEDULED", created=10, redrive=True)],
            Verdict.ON_IT,
            "is Scheduled",
        ),
        (
            [run("COMPLETED", created=10, redrive=True), run("CRASHED", created=2000)],
            Verdict.DONE,
            "is Completed",
        ),
        (
            [
                run("CRASHED", created=3000),
                run("FAILED", created=2000, redrive=True),
                run("FAILED", created=1000, redrive=True),
            ],
            Verdict.GIVE_UP,
            "started it again 2 time(s)",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_judge_runs(runs: list[RunView], verdict: Verdict, why: str) -> None:
    """The newest run decides; a run that ended badly is lost until the re-drives run out."""
    finding = judge_runs(runs, now=NOW, lost_after=LOST_AFTER, max_redrives=2)
    assert finding.verdict == verdict
    assert why in finding.reason


def test_stuck_pending_run_is_marked_stale() -> None:
    """A run stuck Pending is flagged so the reconciler marks it Crashed before re-driving."""
    finding = judge_runs([run("PENDING", age=900)], now=NOW, lost_after=LOST_AFTER, max_redrives=3)
    assert finding.verdict == Verdict.LOST and finding.stale


def test_silent_running_run_is_marked_stale() -> None:
    """A Running run with no sign of life is flagged so the reconciler marks it Crashed."""
    finding = judge_runs(
        [run("RUNNING", age=900, silent=900)], now=NOW, lost_after=LOST_AFTER, max_redrives=3
    )
    assert finding.verdict == Verdict.LOST and finding.stale


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        (run("RUNNING", age=299), False),
        (run("RUNNING", age=300), True),
        (run("RUNNING", age=3600, silent=10), False),
        (run("PENDING", age=3600), False),
        (run("SCHEDULED", "Late", age=3600), False),
    ],
    ids=["running-briefly", "running-long", "already-looked-up", "pending", "late"],
)
def test_needs_pulse(candidate: RunView, expected: bool) -> None:
    """Only a run Running for LOST_RUN_AFTER_SECONDS, not yet looked up, costs an events query."""
    assert needs_pulse(candidate, now=NOW, lost_after=LOST_AFTER) is expected


def _pass(run_id: str, running_for: float) -> RunView:
    return RunView(
        id=run_id,
        name=f"pass-{run_id}",
        state_type="RUNNING",
        state_name="Running",
        state_since=NOW - timedelta(seconds=running_for),
        created=NOW - timedelta(seconds=running_for + 1),
    )


@pytest.mark.parametrize(
    ("passes", "in_charge"),
    [
        ([_pass("me", 1)], None),
        ([], None),
        ([_pass("me", 1), _pass("b", 0.5)], None),
        ([_pass("me", 1), _pass("a", 2)], "a"),
        ([_pass("me", 1), _pass("a", 1)], "a"),
        ([_pass("me", 1), _pass("z", 1)], None),
        ([_pass("me", 1), _pass("a", 300)], None),
        ([_pass("me", 400), _pass("a", 2)], None),
        ([_pass("a", 2)], "a"),
    ],
    ids=[
        "alone",
        "not-listed-yet",
        "first",
        "second",
        "tie-lower-id-wins",
        "tie-higher-id-loses",
        "first-ran-too-long",
        "mine-ran-long-but-i-am-here",
        "only-another",
    ],
)
def test_pass_in_charge(passes: list[RunView], in_charge: str | None) -> None:
    """Of passes Running at once, the one Running the longest works; a pass that ran past
    LOST_RUN_AFTER_SECONDS no longer holds the others back."""
    found = pass_in_charge("me", passes, now=NOW, lost_after=LOST_AFTER)
    assert (found.id if found else None) == in_charge


def test_cancelled_signup_is_left_alone() -> None:
    """An orchestrator run a person cancelled is not started again."""
    finding = judge_runs(
        [run("CANCELLED")],
        now=NOW,
        lost_after=LOST_AFTER,
        max_redrives=3,
        cancelled_is_lost=False,
    )
    assert finding.verdict == Verdict.DONE


def test_zero_redrives_allowed_reports_at_once() -> None:
    """With RECONCILE_MAX_REDRIVES 0 a lost run is reported, never started again."""
    finding = judge_runs([run("CRASHED")], now=NOW, lost_after=LOST_AFTER, max_redrives=0)
    assert finding.verdict == Verdict.GIVE_UP


def _due(*hours: float | None) -> list[tuple[int, datetime | None]]:
    """Due times `hours` before NOW (negative: in the future), steps numbered from 1."""
    return [
        (n, None if h is None else NOW - timedelta(hours=h)) for n, h in enumerate(hours, start=1)
    ]


@pytest.mark.parametrize(
    ("due", "cursor", "grace_hours", "expected"),
    [
        (_due(48, 1, -1), None, 0, [1, 2]),
        (_due(48, 1, -1), 1, 0, [2]),
        (_due(48, 1, -1), 2, 0, []),
        (_due(48, 1, -1), 1, 2, []),
        (_due(48, 2, -1), 0, 2, [1, 2]),
        (_due(48, None, 1), 1, 0, [3]),
        (_due(48, 1, 0), 3, 0, []),
    ],
)
def test_overdue_steps(
    due: list[tuple[int, datetime | None]],
    cursor: int | None,
    grace_hours: float,
    expected: list[int],
) -> None:
    """Steps after the cursor that are due plus the grace; a dropped step is never overdue."""
    grace = timedelta(hours=grace_hours)
    assert overdue_steps(due, cursor, now=NOW, grace=grace) == expected


def test_prefect_api_failure_is_one_sentence() -> None:
    """A Prefect API failure inside the reconciler becomes OrchestratorUnavailable naming it."""
    with (
        pytest.raises(OrchestratorUnavailable, match=r"while reading runs \(ConnectError\)"),
        prefect_unreachable("reading runs"),
    ):
        raise httpx.ConnectError("connection refused")
