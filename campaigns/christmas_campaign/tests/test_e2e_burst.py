"""End to end under a burst: 20 signups at once, Prefect on PostgreSQL with two workers.

The Notion stand-in enforces Notion's 3 requests/s; every email must still arrive exactly once,
no run may be left Failed or Crashed, and a signup may cost at most 36 Notion requests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from campaigns.benchmarks.burst import NOTION_RATE, TIME_SCALE, burst_signups, run_burst
from campaigns.local_stack import LocalStack, running_stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]
SIGNUPS = 20


@pytest.fixture(scope="module")
def pg_stack(tmp_path_factory: pytest.TempPathFactory, postgres_url: str) -> Iterator[LocalStack]:
    with running_stack(
        Path(tmp_path_factory.mktemp("burst")),
        time_scale=TIME_SCALE,
        database_url=postgres_url,
        workers=2,
        worker_limit=3,
        notion_rate=NOTION_RATE,
    ) as local:
        yield local


def test_twenty_signups_at_once_send_every_email_exactly_once(pg_stack: LocalStack) -> None:
    """20 signups at once: 140 emails, none twice, no failed run, at most 36 requests a signup."""
    figures = run_burst(pg_stack, burst_signups(SIGNUPS, "burst"), timeout=900)
    report = "\n".join(figures.lines())
    assert figures.sent == figures.expected == 140, report
    assert figures.duplicated == 0 and figures.lost == 0, report
    assert figures.unresolved_runs == [], report
    assert figures.requests_per_signup <= 36, report
