"""Faults, end to end: a killed worker, a stopped server, a Notion outage, a failed submission.

One real Prefect server (SQLite) and worker run the compressed sequence (TESTING_MODE at scale 45:
email 7 is due 36 s after the signup) with the reconciler deployed as in production (every 30 s
in TESTING_MODE, runs silent for 90 s marked Crashed). Each scenario signs up its own contacts,
breaks something mid-sequence, and checks at the Resend stand-in that every contact received
each of its seven emails exactly once. The figures of each scenario are printed.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from campaigns.benchmarks.burst import burst_signups
from campaigns.christmas_campaign.sequence import EMAIL_COUNT
from campaigns.cli.orchestration import trigger_orchestrator
from campaigns.local_stack import LocalStack, running_stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]
TIME_SCALE = 45.0
CONTACTS = 1
RECOVERY_TIMEOUT = 480.0  # heartbeat timeout 90 s + reconciler 30 s + deferrals + slack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with running_stack(Path(tmp_path_factory.mktemp("faults")), time_scale=TIME_SCALE) as local:
        yield local


@dataclass
class Outcome:
    """What one scenario's contacts received, counted at the Resend stand-in."""

    scenario: str
    expected: int
    sent: int
    duplicated: int
    seconds_to_last: float

    def line(self) -> str:
        return (
            f"{self.scenario}: emails expected {self.expected}, sent {self.sent}, duplicated "
            f"{self.duplicated}, last email {self.seconds_to_last:.0f} s after the fault began."
        )


class Scenario:
    """One fault: its own contacts, signed up just before it, and when the fault began."""

    def __init__(self, stack: LocalStack, label: str) -> None:
        self.stack, self.label = stack, label
        self.signups = burst_signups(CONTACTS, label)
        self.addresses = {s.email for s in self.signups}
        self.began = 0.0

    def sign_up(self) -> None:
        for signup in self.signups:
            trigger_orchestrator(signup, source="test")

    def wait_for_emails(self, count: int, timeout: float = 120) -> None:
        """Until `count` of this scenario's emails arrived: the sequence is in flight."""
        deadline = time.monotonic() + timeout
        while len(self.received()) < count and time.monotonic() < deadline:
            time.sleep(0.2)

    def received(self) -> list[dict[str, Any]]:
        return [e for e in self.stack.resend.emails if e["to"][0] in self.addresses]

    def outcome(self) -> Outcome:
        mine = self.received()
        counts = Counter((e["to"][0], _tag(e, "email_number")) for e in mine)
        return Outcome(
            scenario=self.label,
            expected=len(self.addresses) * EMAIL_COUNT,
            sent=len(mine),
            duplicated=sum(n - 1 for n in counts.values()),
            seconds_to_last=max((_at(e) for e in mine), default=self.began) - self.began,
        )


def _tag(email: dict[str, Any], name: str) -> str:
    return next(str(t["value"]) for t in email["tags"] if t["name"] == name)


def _at(email: dict[str, Any]) -> float:
    return datetime.fromisoformat(email["received_at"].replace("Z", "+00:00")).timestamp()


def kill_worker(stack: LocalStack, scenario: Scenario) -> None:
    """SIGKILL to the worker's process group while send runs are in flight; a new worker."""
    scenario.wait_for_emails(CONTACTS * 2)
    worker = stack.processes["worker-1"]
    scenario.began = time.time()
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    stack.start_worker(1)


def stop_server(stack: LocalStack, scenario: Scenario, seconds: float, after: int) -> None:
    """Stop the Prefect server for `seconds` once `after` of the scenario's emails arrived."""
    scenario.wait_for_emails(after)
    scenario.began = time.time()
    stack.stop_server()
    time.sleep(seconds)
    stack.start_server()
    _keep_worker_up(stack)


def notion_outage(stack: LocalStack, scenario: Scenario, seconds: float) -> None:
    """Every Notion request answers 503 for `seconds`, mid-sequence."""
    scenario.wait_for_emails(CONTACTS * 2)
    scenario.began = time.time()
    stack.notion.inject_failure(status=503, code="service_unavailable", count=None)
    time.sleep(seconds)
    stack.notion.clear_failures()


def _keep_worker_up(stack: LocalStack) -> None:
    """A worker that gave up while the server was away is started again, as systemd would."""
    if stack.processes["worker-1"].poll() is not None:
        stack.start_worker(1)


def test_every_email_is_sent_exactly_once_through_four_faults(stack: LocalStack) -> None:
    """A killed worker, a server down 60 s, Notion down 90 s, a failed submission: each
    scenario's contacts still get each of their seven emails exactly once."""
    killed = Scenario(stack, "killed-worker")
    server_down = Scenario(stack, "server-down")
    notion_down = Scenario(stack, "notion-down")
    submission = Scenario(stack, "submission-failed")
    killed.sign_up()
    kill_worker(stack, killed)
    server_down.sign_up()
    stop_server(stack, server_down, seconds=60, after=CONTACTS * 2)
    notion_down.sign_up()
    notion_outage(stack, notion_down, seconds=90)
    submission.sign_up()
    # The email 1s went out and the email 2s are due within seconds: the worker fails to submit
    # them (or to start their processes) while the server is away.
    stop_server(stack, submission, seconds=20, after=CONTACTS)

    scenarios = [killed, server_down, notion_down, submission]
    expected = sum(len(s.addresses) for s in scenarios) * EMAIL_COUNT
    deadline = time.monotonic() + RECOVERY_TIMEOUT
    while time.monotonic() < deadline:
        if sum(len(s.received()) for s in scenarios) >= expected:
            break
        time.sleep(2)
    time.sleep(10)  # a duplicate would arrive right after the last email
    outcomes = [s.outcome() for s in scenarios]
    report = "\n".join(o.line() for o in outcomes) + f"\nLogs: {stack.state_dir / 'logs'}"
    print(report)
    (stack.state_dir / "fault-figures.txt").write_text(report + "\n")  # kept with the logs
    assert all(o.duplicated == 0 for o in outcomes), report
    assert all(o.sent == o.expected for o in outcomes), report
