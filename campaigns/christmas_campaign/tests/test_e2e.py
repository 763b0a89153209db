"""End to end on a real Prefect server: deploy_all.py, a real worker, the stand-ins, 21 emails.

The sequence runs in TESTING_MODE with SEQUENCE_TIME_SCALE=45, so the 27-minute table takes 36 s.
"""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags

from campaigns.christmas_campaign.flows.cancel import cancel_contact_sequence
from campaigns.christmas_campaign.samples import SAMPLE_SIGNUPS
from campaigns.christmas_campaign.sequence import classify_segment, template_id_for
from campaigns.christmas_campaign.topology import (
    ORCHESTRATOR_DEPLOYMENT,
    ORCHESTRATOR_FLOW_NAME,
    ORCHESTRATOR_QUEUE,
    WORK_POOL,
    contact_tag,
)
from campaigns.local_stack import LocalStack, running_stack
from campaigns.models import Segment, SendStatus, SequenceStatus, Signup

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]
TIME_SCALE = 45.0
CANCELLED = Signup.model_validate(
    SAMPLE_SIGNUPS[Segment.URGENT].model_dump() | {"email": "leaving@brightpath.example"}
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with running_stack(Path(tmp_path_factory.mktemp("stack")), time_scale=TIME_SCALE) as local:
        yield local


def _trigger(signup: Signup) -> str:
    """Create an orchestrator run through the Prefect API, as the website's webhook does."""
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(
            f"{ORCHESTRATOR_FLOW_NAME}/{ORCHESTRATOR_DEPLOYMENT}"
        )
        run = client.create_flow_run_from_deployment(
            deployment.id, parameters=signup.model_dump(mode="json")
        )
    return str(run.id)


def _emails_by_contact(stack: LocalStack) -> dict[str, list[dict[str, Any]]]:
    by_contact: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for email in stack.resend.emails:
        by_contact[email["to"][0]].append(email)
    return by_contact


def _tag(email: dict[str, Any], name: str) -> str:
    return next(str(t["value"]) for t in email["tags"] if t["name"] == name)


def _wait_for(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def test_three_segments_run_to_completion_exactly_once(stack: LocalStack) -> None:
    """21 emails arrive once each, in order, never early, with the right variant; Notion agrees."""
    signups = list(SAMPLE_SIGNUPS.values())
    for signup in signups:
        _trigger(signup)
    _trigger(signups[0])  # the same signup again, as a double-click or a webhook replay would
    _trigger(CANCELLED)

    _wait_for(lambda: len(_emails_by_contact(stack)[CANCELLED.email]) >= 2, 180, "email 2")
    cancel_contact_sequence(stack.settings(), CANCELLED.email, SequenceStatus.UNSUBSCRIBED)

    def done() -> bool:
        by_contact = _emails_by_contact(stack)
        return all(len(by_contact[s.email]) >= 7 for s in signups)

    _wait_for(done, 240, "21 emails")
    time.sleep(8)  # anything that would arrive twice, or after a cancel, arrives by now

    by_contact = _emails_by_contact(stack)
    crm = stack.crm()
    for signup in signups:
        emails = by_contact[signup.email]
        segment = Segment(_tag(emails[0], "segment"))
        assert [int(_tag(e, "email_number")) for e in emails] == [1, 2, 3, 4, 5, 6, 7]
        assert [_tag(e, "template") for e in emails] == [
            template_id_for(n, segment) for n in range(1, 8)
        ]
        assert segment == _segment_of(signup)
        for number, email in enumerate(emails, start=1):
            row = crm.find_send(signup.email, number)
            assert row is not None and row.status == SendStatus.SENT
            assert row.resend_email_id == email["id"]
            assert row.scheduled_for is not None
            arrived = datetime.fromisoformat(email["received_at"].replace("Z", "+00:00"))
            assert arrived >= row.scheduled_for.astimezone(UTC), f"email {number} early"
            assert "{{" not in email["subject"] + email["html"] + email["text"]
            assert email["headers"]["List-Unsubscribe"].startswith("<https://")
            assert email["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        contact = crm.find_contact(signup.email)
        assert contact is not None and contact.sequence_status == SequenceStatus.COMPLETED

    assert [int(_tag(e, "email_number")) for e in by_contact[CANCELLED.email]] == [1, 2]
    stopped = crm.find_contact(CANCELLED.email)
    assert stopped is not None and stopped.sequence_status == SequenceStatus.UNSUBSCRIBED
    assert len(stack.resend.emails) == 23


def _segment_of(signup: Signup) -> Segment:
    return classify_segment(signup.red_systems, signup.orange_systems)


def _pause_queue(name: str, paused: bool) -> None:
    with get_client(sync_client=True) as client:
        queue = client.read_work_queue_by_name(name, work_pool_name=WORK_POOL)
        client.update_work_queue(queue.id, is_paused=paused)


def test_pausing_a_step_queue_holds_that_step_and_keeps_order(stack: LocalStack) -> None:
    """With queue christmas-email-2 paused, email 2 waits; later steps wait for it, in order."""
    held = Signup.model_validate(
        SAMPLE_SIGNUPS[Segment.OPTIMIZE].model_dump() | {"email": "held@northlight.example"}
    )
    _pause_queue("christmas-email-2", True)
    try:
        _trigger(held)
        _wait_for(lambda: len(_emails_by_contact(stack)[held.email]) >= 1, 120, "email 1")
        time.sleep(12)  # email 2 was due 2.7 s after enrollment, email 3 at 6.7 s
        assert [int(_tag(e, "email_number")) for e in _emails_by_contact(stack)[held.email]] == [1]
    finally:
        _pause_queue("christmas-email-2", False)
    _wait_for(lambda: len(_emails_by_contact(stack)[held.email]) >= 7, 240, "7 emails")
    numbers = [int(_tag(e, "email_number")) for e in _emails_by_contact(stack)[held.email]]
    assert numbers == [1, 2, 3, 4, 5, 6, 7]


# An 8 s minimum gap at this scale, wider than every gap of the scaled table (at most 7.2 s), so
# it binds between every two emails: MIN_EMAIL_GAP is a production duration, shrunk like the
# table (27 min for 240 h) and then by the time scale.
GAP_SECONDS = 8.0
GAP_ENV = {"MIN_EMAIL_GAP": str(int(GAP_SECONDS * TIME_SCALE * 240 * 60 / 27))}


def test_late_runs_keep_the_minimum_gap_when_the_worker_returns(stack: LocalStack) -> None:
    """With no worker for the send steps until three are overdue, the seven emails still go
    once each and never closer together than the minimum gap."""
    late = Signup.model_validate(
        SAMPLE_SIGNUPS[Segment.CRITICAL].model_dump() | {"email": "late@harbourline.example"}
    )
    stack.stop_worker(1)
    try:
        # Only the orchestrator runs: it plans the steps 15 s apart and schedules them.
        stack.start_worker(2, queues=[ORCHESTRATOR_QUEUE.name], extra_env=GAP_ENV)
        _trigger(late)
        _wait_for(lambda: _scheduled_steps(late.email) == 7, 120, "seven scheduled steps")
        stack.stop_worker(2)
        time.sleep(2 * GAP_SECONDS + 5)  # emails 1, 2 and 3 are overdue now
        assert _emails_by_contact(stack)[late.email] == []
    finally:
        stack.start_worker(1, extra_env=GAP_ENV)
    try:
        _wait_for(lambda: len(_emails_by_contact(stack)[late.email]) >= 7, 400, "7 emails")
        time.sleep(5)  # a duplicate would arrive right after
    finally:
        stack.start_worker(1)  # the other tests run without the gap
    emails = _emails_by_contact(stack)[late.email]
    assert sorted(int(_tag(e, "email_number")) for e in emails) == [1, 2, 3, 4, 5, 6, 7]
    times = sorted(_received_at(e) for e in emails)
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps) >= GAP_SECONDS, gaps


def _scheduled_steps(email: str) -> int:
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[contact_tag(email)]))
        )
    return sum(1 for run in runs if "email_number" in run.parameters)


def _received_at(email: dict[str, Any]) -> float:
    return datetime.fromisoformat(email["received_at"].replace("Z", "+00:00")).timestamp()
