"""N signups at once on a real local stack: every email exactly once, at the speed Notion allows.

Prints, for each configuration (SQLite + 1 worker, PostgreSQL + 2 workers) and each N:
emails expected / sent / duplicated / lost, flow runs left Failed or Crashed, Notion requests
per signup, 429s the Notion stand-in served, time to drain, the ratio of that time to the
Notion-bound minimum (all Notion requests ÷ the configured rate), and the median
signup-to-email-1 latency against a no-op flow run's trigger-to-completion measured on the
same stack just before.

Run:  python -m campaigns.benchmarks.burst [N ...] [--sqlite-only | --postgres-only]
      (default N = 20 100; N = 100 takes about half an hour per configuration on 2 cores)
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from prefect import get_client
from prefect.client.schemas.filters import (
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import StateType

from campaigns.benchmarks.sequence_figures import baseline
from campaigns.christmas_campaign.samples import SAMPLE_SIGNUPS
from campaigns.christmas_campaign.sequence import CAMPAIGN, EMAIL_COUNT
from campaigns.christmas_campaign.topology import CONTACT_FLOWS, ORCHESTRATOR_PATH
from campaigns.local_stack import LocalStack, running_stack
from campaigns.models import Segment, Signup
from campaigns.postgres_cluster import PostgresCluster

NOTION_RATE = 3.0  # requests/s: Notion's documented average, enforced by the stand-in too
TIME_SCALE = 45.0
_UNRESOLVED = [StateType.FAILED, StateType.CRASHED]
_NOT_FINAL = [StateType.SCHEDULED, StateType.PENDING, StateType.RUNNING, StateType.PAUSED]


@dataclass
class BurstFigures:
    signups: int
    sent: int
    duplicated: int
    unresolved_runs: list[str]
    notion_requests: int
    rate_limited: int
    drain_seconds: float
    notion_rate: float
    first_email_seconds: list[float]
    cpu_busy: float  # the share of the machine's CPU time that was busy during the drain

    @property
    def expected(self) -> int:
        return self.signups * EMAIL_COUNT

    @property
    def lost(self) -> int:
        return self.expected - (self.sent - self.duplicated)

    @property
    def requests_per_signup(self) -> float:
        return self.notion_requests / self.signups

    @property
    def notion_bound_seconds(self) -> float:
        """The least time those requests can take at the configured rate."""
        return self.notion_requests / self.notion_rate

    @property
    def drain_ratio(self) -> float:
        return self.drain_seconds / self.notion_bound_seconds

    def lines(self) -> list[str]:
        return [
            f"Emails expected {self.expected}, sent {self.sent}, duplicated {self.duplicated}, "
            f"lost {self.lost}.",
            f"Flow runs left Failed or Crashed: {len(self.unresolved_runs)}"
            + (f" ({'; '.join(self.unresolved_runs[:3])})" if self.unresolved_runs else "."),
            f"Notion requests: {self.notion_requests} ({self.requests_per_signup:.1f} per signup); "
            f"429s served: {self.rate_limited}.",
            f"Time to drain: {self.drain_seconds:.0f} s; Notion-bound minimum "
            f"{self.notion_bound_seconds:.0f} s at {self.notion_rate:g}/s; "
            f"ratio {self.drain_ratio:.2f}.",
            f"Signup to email 1, median: {statistics.median(self.first_email_seconds):.1f} s.",
            f"Machine CPU busy during the drain: {self.cpu_busy:.0%} of {os.cpu_count()} cores "
            "(near 100%: the drain is bound by CPU, not by Notion).",
        ]


def burst_signups(count: int, label: str) -> list[Signup]:
    """`count` distinct signups, the three segments in turn."""
    segments = list(Segment)
    return [
        SAMPLE_SIGNUPS[segments[i % 3]].model_copy(
            update={"email": f"{label}{i}.{SAMPLE_SIGNUPS[segments[i % 3]].email}"}
        )
        for i in range(count)
    ]


def run_burst(stack: LocalStack, signups: list[Signup], timeout: float) -> BurstFigures:
    """Trigger every signup at once, wait until every run is final, and measure."""
    notion_before = len(stack.notion.requests)
    cpu_before = _cpu_jiffies()
    started = time.time()
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(ORCHESTRATOR_PATH)
        for signup in signups:
            client.create_flow_run_from_deployment(
                deployment.id, parameters=signup.model_dump(mode="json")
            )
    addresses = {s.email for s in signups}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        mine = [e for e in stack.resend.emails if e["to"][0] in addresses]
        if len(mine) >= len(signups) * EMAIL_COUNT and not _runs_in(_NOT_FINAL):
            break
        time.sleep(2)
    drained = time.time()
    busy, total = (after - before for after, before in zip(_cpu_jiffies(), cpu_before, strict=True))
    mine = [e for e in stack.resend.emails if e["to"][0] in addresses]
    counts = Counter((e["to"][0], _tag(e, "email_number")) for e in mine)
    requests = stack.notion.requests[notion_before:]
    return BurstFigures(
        signups=len(signups),
        sent=len(mine),
        duplicated=sum(n - 1 for n in counts.values()),
        unresolved_runs=[
            f"{r.name} {r.state.name if r.state else '?'}: {r.state.message if r.state else ''}"
            for r in _runs_in(_UNRESOLVED)
        ],
        notion_requests=len(requests),
        rate_limited=sum(1 for r in requests if r.get("status") == 429),
        drain_seconds=drained - started,
        notion_rate=float(stack.settings().notion_requests_per_second),
        first_email_seconds=[
            _received(e) - started for e in mine if _tag(e, "email_number") == "1"
        ],
        cpu_busy=busy / total if total else 0.0,
    )


def _cpu_jiffies() -> tuple[float, float]:
    """(busy, all) CPU time of every core since boot, from Linux's /proc/stat."""
    # user nice system idle iowait irq softirq steal (guest time is counted in user already)
    ticks = [float(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = ticks[3] + ticks[4]  # idle and iowait
    return sum(ticks) - idle, sum(ticks)


def _runs_in(states: list[StateType]) -> list[Any]:
    with get_client(sync_client=True) as client:
        return list(
            client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=list(CONTACT_FLOWS))),
                flow_run_filter=FlowRunFilter(
                    tags=FlowRunFilterTags(all_=[CAMPAIGN]),
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=states)),
                ),
                limit=200,
            )
        )


def _tag(email: dict[str, Any], name: str) -> str:
    return next(str(t["value"]) for t in email["tags"] if t["name"] == name)


def _received(email: dict[str, Any]) -> float:
    return datetime.fromisoformat(email["received_at"].replace("Z", "+00:00")).timestamp()


@contextmanager
def burst_stack(folder: Path, *, postgres: bool) -> Iterator[LocalStack]:
    """A stack with the Notion stand-in at `NOTION_RATE`: SQLite and one worker, or PostgreSQL
    and two workers sharing the host's process budget."""
    with ExitStack() as stack:
        database_url = None
        if postgres:
            pg_folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="burst-pg-"))
            database_url = stack.enter_context(PostgresCluster(Path(pg_folder))).url
        yield stack.enter_context(
            running_stack(
                folder,
                time_scale=TIME_SCALE,
                database_url=database_url,
                workers=2 if postgres else 1,
                worker_limit=3 if postgres else 6,
                notion_rate=NOTION_RATE,
            )
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[20, 100])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--sqlite-only", action="store_true")
    which.add_argument("--postgres-only", action="store_true")
    args = parser.parse_args(argv)
    configurations = [False, True]
    if args.sqlite_only:
        configurations = [False]
    if args.postgres_only:
        configurations = [True]
    for postgres in configurations:
        name = "PostgreSQL + 2 workers" if postgres else "SQLite + 1 worker"
        with (
            tempfile.TemporaryDirectory() as folder,
            burst_stack(Path(folder), postgres=postgres) as stack,
        ):
            noop_seconds, _ = baseline(stack)
            print(f"== {name}: no-op flow run, trigger to completion, median: {noop_seconds:.1f} s")
            for size in args.sizes:
                figures = run_burst(stack, burst_signups(size, f"b{size}x"), timeout=size * 60.0)
                print(f"-- {name}, {size} signups at once:")
                for line in figures.lines():
                    print(f"   {line}")
                latency = statistics.median(figures.first_email_seconds)
                print(f"   Signup to email 1 against the no-op run: {latency / noop_seconds:.1f}x.")


if __name__ == "__main__":
    main()
