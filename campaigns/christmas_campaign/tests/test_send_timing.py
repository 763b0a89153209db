"""The send flow's timing on a Prefect test server: defer for order and gap, skip after the end."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags
from prefect.client.schemas.objects import FlowRun
from prefect.states import Failed

from campaigns.christmas_campaign.flows.orchestrator import christmas_email_sequence_orchestrator
from campaigns.christmas_campaign.flows.send_email import christmas_send_email
from campaigns.christmas_campaign.topology import PERMANENT_FAILURE_TAG, contact_tag
from campaigns.models import Segment, SendStatus, SequenceStatus, Signup
from campaigns.notion_crm import NotionCRM
from campaigns.standins.resend import ResendStandIn
from campaigns.testing import unique_signup

pytestmark = pytest.mark.usefixtures("send_deployments")


@pytest.fixture
def fast_env(campaign_env: NotionCRM, monkeypatch: pytest.MonkeyPatch) -> NotionCRM:
    """TESTING_MODE at scale 60: email 2 is due 2 s after enrollment, email 3 after 5 s."""
    monkeypatch.setenv("SEQUENCE_TIME_SCALE", "60")
    return campaign_env


def _enrolled() -> Signup:
    """A new contact enrolled in-process, now."""
    signup = unique_signup(Segment.OPTIMIZE)
    state = christmas_email_sequence_orchestrator(
        **signup.model_dump(mode="json", exclude_none=True), return_state=True
    )
    assert state.is_completed(), state.message
    return signup


def _runs(email: str, number: int) -> list[FlowRun]:
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[contact_tag(email)]))
        )
    mine = [run for run in runs if run.parameters.get("email_number") == number]
    return sorted(mine, key=lambda run: run.created or 0)


def _run_step(email: str, number: int, **changes: Any) -> Any:
    """Run the step's newest run in-process now, as a worker would when it is due."""
    parameters = {**_runs(email, number)[-1].parameters, **changes}
    return christmas_send_email(**parameters, return_state=True)


def test_step_defers_while_the_previous_run_is_on_it(
    fast_env: NotionCRM, resend_standin: ResendStandIn
) -> None:
    """Email 3 starts while email 2 is due, unsent and still Scheduled: it defers, sends nothing."""
    signup = _enrolled()
    assert _run_step(signup.email, 1).is_completed()
    time.sleep(5)

    state = _run_step(signup.email, 3)

    assert state.is_completed() and "Deferred email 3" in str(state.message)
    assert "email 2 is due and not sent yet" in str(state.message)
    first, following = _runs(signup.email, 3)
    assert (
        following.idempotency_key
        == f"{first.idempotency_key}/defer-{state.state_details.flow_run_id}"
    )
    assert following.state is not None and following.state.is_scheduled()
    assert [e["tags"] for e in resend_standin.emails if _number(e) == 3] == []


def test_step_goes_when_the_previous_one_failed_for_a_person(
    fast_env: NotionCRM, resend_standin: ResendStandIn
) -> None:
    """When email 2's run failed for a reason a person must fix, email 3 does not wait for it."""
    signup = _enrolled()
    assert _run_step(signup.email, 1).is_completed()
    time.sleep(5)
    (second,) = _runs(signup.email, 2)
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(second.id, Failed(message="Draft template"), force=True)
        client.update_flow_run(second.id, tags=[*second.tags, PERMANENT_FAILURE_TAG])

    state = _run_step(signup.email, 3)

    assert state.is_completed(), state.message
    assert [_number(e) for e in resend_standin.emails] == [1, 3]


def test_step_too_soon_after_the_last_email_is_deferred_past_the_gap(
    fast_env: NotionCRM, resend_standin: ResendStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Email 2 starting right after email 1 went out waits the minimum gap (60 s here)."""
    monkeypatch.setenv("MIN_EMAIL_GAP", str(60 * 60 * 14400 // 27))  # 60 s at this scale
    signup = _enrolled()
    assert _run_step(signup.email, 1).is_completed()
    sent_at = fast_env.find_contact(signup.email).last_email_sent_at  # type: ignore[union-attr]

    state = _run_step(signup.email, 2, scheduled_for=datetime.now(UTC).isoformat())

    assert state.is_completed() and "Deferred email 2" in str(state.message)
    _, following = _runs(signup.email, 2)
    assert following.state is not None and following.state.state_details.scheduled_time is not None
    gap = following.state.state_details.scheduled_time - sent_at
    assert timedelta(seconds=59) <= gap <= timedelta(seconds=62)
    row = fast_env.find_send(signup.email, 2)
    assert row is not None and row.status == SendStatus.SCHEDULED
    assert row.flow_run_id == str(following.id) and "minimum gap" in (row.detail or "")
    assert [_number(e) for e in resend_standin.emails] == [1]


def test_run_after_the_campaign_end_skips_and_closes_the_contact(
    fast_env: NotionCRM, resend_standin: ResendStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last email's run starting after CAMPAIGN_ENDS_AT sends nothing and says why."""
    ends_at = datetime.now(UTC) + timedelta(seconds=12)  # seven steps fit, 1.7 s apart
    monkeypatch.setenv("CAMPAIGN_ENDS_AT", ends_at.isoformat())
    signup = _enrolled()
    contact = fast_env.find_contact(signup.email)
    assert contact is not None
    fast_env.record_sent(contact.page_id, 6, datetime.now(UTC), last=False)
    time.sleep(max(0.0, (ends_at - datetime.now(UTC)).total_seconds()) + 0.5)

    state = _run_step(signup.email, 7)

    assert state.is_completed() and "the campaign ended" in str(state.message)
    assert resend_standin.emails == []
    row = fast_env.find_send(signup.email, 7)
    assert row is not None and row.status == SendStatus.SKIPPED
    contact = fast_env.find_contact(signup.email)
    assert contact is not None and contact.sequence_status == SequenceStatus.CAMPAIGN_ENDED


def _number(email: dict[str, Any]) -> int:
    return int(next(t["value"] for t in email["tags"] if t["name"] == "email_number"))
