"""The reconciler flow on a Prefect test server with the stand-ins: what it starts again."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import stamina
from prefect import flow, get_client
from prefect.client.schemas.filters import (
    ArtifactCollectionFilter,
    ArtifactCollectionFilterKey,
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import FlowRun
from prefect.states import Completed, Crashed, Failed, Running

from campaigns.christmas_campaign.flows.orchestrator import christmas_email_sequence_orchestrator
from campaigns.christmas_campaign.flows.reconciler import (
    REPORT_KEY,
    Report,
    christmas_reconcile,
    judge,
    reconcile_signups,
)
from campaigns.christmas_campaign.flows.send_email import christmas_send_email
from campaigns.christmas_campaign.reconcile import Verdict
from campaigns.christmas_campaign.tasks.step_runs import last_sign_of_life
from campaigns.christmas_campaign.topology import (
    ORCHESTRATOR_DEPLOYMENT,
    ORCHESTRATOR_FLOW_NAME,
    SEND_FLOW_NAME,
    contact_tag,
)
from campaigns.cli.orchestration import trigger_orchestrator
from campaigns.idempotency import contact_ref
from campaigns.models import Segment, SendStatus, Signup, TemplateStatus
from campaigns.notion_crm import NotionCRM
from campaigns.settings import load_settings
from campaigns.standins.notion import NotionStandIn
from campaigns.standins.resend import ResendStandIn
from campaigns.testing import unique_signup

pytestmark = pytest.mark.usefixtures("send_deployments", "orchestrator_deployment")


@pytest.fixture(scope="module")
def orchestrator_deployment(prefect_server: None) -> str:
    """The orchestrator's deployment, which the reconciler starts a lost signup from."""
    deployment = christmas_email_sequence_orchestrator.to_deployment(name=ORCHESTRATOR_DEPLOYMENT)
    deployment.apply()  # type: ignore[union-attr]  # sync here: no event loop is running
    return ORCHESTRATOR_DEPLOYMENT


@pytest.fixture
def reconcile_env(campaign_env: NotionCRM, monkeypatch: pytest.MonkeyPatch) -> NotionCRM:
    """A step counts as overdue the moment it is due (no grace), as in a compressed test."""
    monkeypatch.setenv("RECONCILE_GRACE_SECONDS", "0")
    return campaign_env


def _signup() -> Signup:
    return unique_signup(Segment.URGENT)


def _runs(flow_name: str, email: str) -> list[FlowRun]:
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])),
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[contact_tag(email)])),
        )
    return sorted(runs, key=lambda run: run.created or 0)


def _step_runs(email: str, number: int) -> list[FlowRun]:
    return [r for r in _runs(SEND_FLOW_NAME, email) if r.parameters["email_number"] == number]


def _set_state(run: FlowRun, state: Any) -> None:
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(run.id, state, force=True)


def _report() -> list[dict[str, Any]]:
    """The rows of the newest reconciler artifact."""
    with get_client(sync_client=True) as client:
        (latest,) = client.read_latest_artifacts(
            artifact_filter=ArtifactCollectionFilter(
                key=ArtifactCollectionFilterKey(any_=[REPORT_KEY])
            )
        )
    data = latest.data
    return list(json.loads(data) if isinstance(data, str) else data)


def _enrolled(signup: Signup) -> None:
    """Enroll in-process; in TESTING_MODE at scale 1 only email 1 is due at once."""
    state = christmas_email_sequence_orchestrator(
        **signup.model_dump(mode="json", exclude_none=True), return_state=True
    )
    assert state.is_completed(), state.message


def test_crashed_step_is_started_again_and_sends_once(
    reconcile_env: NotionCRM, resend_standin: ResendStandIn
) -> None:
    """A due step whose run Crashed gets a new run, noted on its row, that sends exactly once."""
    signup = _signup()
    _enrolled(signup)
    (lost,) = _step_runs(signup.email, 1)
    _set_state(lost, Crashed(message="worker killed"))

    state = christmas_reconcile(return_state=True)

    assert state.is_completed(), state.message
    lost_again, new = _step_runs(signup.email, 1)
    assert lost_again.id == lost.id
    assert new.idempotency_key == f"{lost.idempotency_key}/redrive-1"
    assert new.parameters["send_log_read"] is False
    row = reconcile_env.find_send(signup.email, 1)
    assert row is not None and row.status == SendStatus.SCHEDULED
    assert row.flow_run_id == str(new.id) and "Crashed" in (row.detail or "")
    sent = christmas_send_email(**new.parameters, return_state=True)
    assert sent.is_completed(), sent.message
    assert len(resend_standin.emails) == 1
    assert christmas_send_email(**new.parameters, return_state=True).is_completed()
    assert len(resend_standin.emails) == 1


def test_second_pass_does_not_start_a_second_run(reconcile_env: NotionCRM) -> None:
    """While the new run is Scheduled, another pass leaves the step alone."""
    signup = _signup()
    _enrolled(signup)
    (lost,) = _step_runs(signup.email, 1)
    _set_state(lost, Crashed(message="worker killed"))
    assert christmas_reconcile(return_state=True).is_completed()
    state = christmas_reconcile(return_state=True)
    assert state.is_completed(), state.message
    assert len(_step_runs(signup.email, 1)) == 2


def test_scheduled_and_completed_steps_are_left_alone(reconcile_env: NotionCRM) -> None:
    """A due run still Scheduled (late) and a Completed one are not started again."""
    signup = _signup()
    _enrolled(signup)
    state = christmas_reconcile(return_state=True)
    assert state.is_completed(), state.message
    (first,) = _step_runs(signup.email, 1)
    _set_state(first, Completed(message="skipped on purpose"))
    assert christmas_reconcile(return_state=True).is_completed()
    assert len(_step_runs(signup.email, 1)) == 1


def test_a_step_lost_too_often_is_left_for_a_person(
    reconcile_env: NotionCRM, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After RECONCILE_MAX_REDRIVES new runs that fail too, the step is reported, not retried."""
    monkeypatch.setenv("RECONCILE_MAX_REDRIVES", "1")
    signup = _signup()
    _enrolled(signup)
    (lost,) = _step_runs(signup.email, 1)
    _set_state(lost, Failed(message="Resend rejected the address"))
    assert christmas_reconcile(return_state=True).is_completed()
    _, again = _step_runs(signup.email, 1)
    _set_state(again, Failed(message="Resend rejected the address"))

    state = christmas_reconcile(return_state=True)

    assert state.is_completed(), state.message
    assert len(_step_runs(signup.email, 1)) == 2
    rows = [row for row in _report() if row["contact"] == contact_ref(signup.email)]
    assert [row["verdict"] for row in rows] == ["needs a person"]
    assert "Resend rejected the address" in rows[0]["why"]


def test_a_run_silent_for_too_long_is_lost(reconcile_env: NotionCRM) -> None:
    """A Running run with no heartbeat or state change for LOST_RUN_AFTER_SECONDS is lost."""
    signup = _signup()
    _enrolled(signup)
    (run,) = _step_runs(signup.email, 1)
    _set_state(run, Running())
    (running,) = _step_runs(signup.email, 1)
    timing = load_settings().reconciler
    later = datetime.now(UTC) + timedelta(seconds=timing.lost_after_seconds + 60)

    assert judge([running], Report(now=datetime.now(UTC), timing=timing)).verdict == Verdict.ON_IT
    finding = judge([running], Report(now=later, timing=timing))

    assert finding.verdict == Verdict.LOST and finding.stale
    assert "Running with no heartbeat" in finding.reason


@flow
def _signup_pass_at(now: datetime) -> list[dict[str, str]]:
    """One signup pass of the reconciler as if the clock said `now`."""
    report = Report(now=now, timing=load_settings().reconciler)
    reconcile_signups(report)
    return report.rows


def test_a_signup_run_silent_for_too_long_is_started_again(reconcile_env: NotionCRM) -> None:
    """An orchestrator run left Running with no heartbeat is marked Crashed and started again;
    one that has just started is left alone."""
    signup = _signup()
    lost = trigger_orchestrator(signup, source="test")
    _set_state(lost, Running())
    timing = load_settings().reconciler

    assert _signup_pass_at(datetime.now(UTC)) == []
    later = datetime.now(UTC) + timedelta(seconds=timing.lost_after_seconds + 60)
    (row,) = _signup_pass_at(later)

    assert row["verdict"] == "re-driven" and "Running with no heartbeat" in row["why"]
    first, again = _runs(ORCHESTRATOR_FLOW_NAME, signup.email)
    assert first.id == lost.id and first.state is not None and first.state.is_crashed()
    assert again.parameters == lost.parameters


def test_last_sign_of_life_is_the_runs_newest_event(reconcile_env: NotionCRM) -> None:
    """The events query finds the run's own Running event, not an older time or another run's."""
    signup = _signup()
    _enrolled(signup)
    one, two = (_step_runs(signup.email, n)[0] for n in (1, 2))
    since = datetime.now(UTC) - timedelta(minutes=1)
    _set_state(one, Running())
    started = datetime.now(UTC)
    for attempt in stamina.retry_context(on=AssertionError, attempts=20, wait_max=1, timeout=30):
        with attempt:  # the server stores events a moment after it emits them
            seen = last_sign_of_life(str(one.id), since=since)
            assert seen > since
    assert started - timedelta(seconds=5) <= seen <= datetime.now(UTC)
    assert last_sign_of_life(str(two.id), since=started) == started


def test_a_pass_leaves_the_work_to_one_already_running(reconcile_env: NotionCRM) -> None:
    """While another pass is Running, a new pass ends at once and starts nothing."""
    signup = _signup()
    _enrolled(signup)
    (lost,) = _step_runs(signup.email, 1)
    _set_state(lost, Crashed(message="worker killed"))
    with get_client(sync_client=True) as client:
        other = client.create_flow_run(christmas_reconcile, state=Running())
    try:
        state = christmas_reconcile(return_state=True)
        assert state.is_completed() and other.name in str(state.message)
        assert len(_step_runs(signup.email, 1)) == 1
    finally:
        _set_state(other, Completed())
    assert christmas_reconcile(return_state=True).is_completed()
    assert len(_step_runs(signup.email, 1)) == 2


def test_failed_signup_is_started_again_with_its_parameters(reconcile_env: NotionCRM) -> None:
    """An orchestrator run that ended Failed gets one new run with the same signup."""
    signup = _signup()
    lost = trigger_orchestrator(signup, source="test")
    _set_state(lost, Failed(message="Notion was down for an hour"))

    assert christmas_reconcile(return_state=True).is_completed()
    assert christmas_reconcile(return_state=True).is_completed()

    runs = _runs(ORCHESTRATOR_FLOW_NAME, signup.email)
    assert len(runs) == 2 and runs[0].id == lost.id
    assert runs[1].parameters == lost.parameters
    assert "source:reconciler" in runs[1].tags
    state = christmas_email_sequence_orchestrator(**runs[1].parameters, return_state=True)
    assert state.is_completed(), state.message
    _set_state(runs[1], state)
    assert christmas_reconcile(return_state=True).is_completed()
    assert len(_runs(ORCHESTRATOR_FLOW_NAME, signup.email)) == 2


@pytest.mark.usefixtures("no_adapter_retries")
def test_notion_outage_fails_the_pass_with_a_sentence(
    reconcile_env: NotionCRM, notion_standin: NotionStandIn
) -> None:
    """When Notion cannot list the Active contacts, the pass ends Failed saying so."""
    notion_standin.inject_failure(
        method="POST", path="/query$", status=503, code="service_unavailable", count=None
    )
    state = christmas_reconcile(return_state=True)
    assert state.is_failed()
    assert "Active contacts" in str(state.message) and "503" in str(state.message)


def test_signup_failed_for_a_person_is_reported_not_started_again(reconcile_env: NotionCRM) -> None:
    """An orchestrator run that failed on a Draft template is reported, never started again."""
    reconcile_env.upsert_template(
        reconcile_env.get_template("christmas_email_4").model_copy(
            update={"status": TemplateStatus.DRAFT}
        )
    )
    signup = _signup()
    state = christmas_email_sequence_orchestrator(
        **signup.model_dump(mode="json", exclude_none=True), return_state=True
    )
    assert state.is_failed()

    assert christmas_reconcile(return_state=True).is_completed()

    assert len(_runs(ORCHESTRATOR_FLOW_NAME, signup.email)) == 0
    rows = [row for row in _report() if row["contact"] == contact_ref(signup.email)]
    assert [row["verdict"] for row in rows] == ["needs a person"]
    assert "Draft" in rows[0]["why"]
