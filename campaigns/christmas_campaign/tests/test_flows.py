"""Flow tests: the orchestrator and the send flow on a Prefect test server with the stand-ins."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prefect import get_client
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags

from campaigns.christmas_campaign.flows.cancel import cancel_contact_sequence
from campaigns.christmas_campaign.flows.orchestrator import christmas_email_sequence_orchestrator
from campaigns.christmas_campaign.flows.send_email import christmas_send_email
from campaigns.christmas_campaign.sequence import CAMPAIGN
from campaigns.christmas_campaign.tests.test_transient import prefect_answer
from campaigns.christmas_campaign.topology import contact_tag
from campaigns.models import (
    NewSend,
    Segment,
    SendStatus,
    SequenceStatus,
    Signup,
    TemplateStatus,
)
from campaigns.notion_crm import NotionCRM
from campaigns.settings import load_settings
from campaigns.standins.notion import NotionStandIn
from campaigns.standins.resend import ResendStandIn
from campaigns.testing import unique_signup

pytestmark = pytest.mark.usefixtures("send_deployments")


def _params(signup: Signup) -> dict[str, Any]:
    return signup.model_dump(mode="json")


def _runs_of(email: str) -> list[Any]:
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                tags=FlowRunFilterTags(all_=[CAMPAIGN, contact_tag(email)])
            )
        )
    return sorted(runs, key=lambda run: run.parameters["email_number"])


def _send_step(email: str, number: int, **options: Any) -> Any:
    """Run the send flow in-process with the parameters the orchestrator scheduled."""
    run = _runs_of(email)[number - 1]
    flow = christmas_send_email.with_options(**options) if options else christmas_send_email
    return flow(**run.parameters, return_state=True)


@pytest.mark.parametrize("segment", list(Segment), ids=lambda s: s.value)
def test_orchestrator_routes_each_segment_to_its_variants(
    campaign_env: NotionCRM, segment: Segment
) -> None:
    """Each segment's runs use its own templates at steps 2 and 7 and the shared ones elsewhere."""
    signup = unique_signup(segment)
    state = christmas_email_sequence_orchestrator(**_params(signup), return_state=True)
    assert state.is_completed(), state.message
    runs = _runs_of(signup.email)
    suffix = {"CRITICAL": "a_critical", "URGENT": "b_urgent", "OPTIMIZE": "c_optimize"}[segment]
    assert [r.parameters["template_id"] for r in runs] == [
        "christmas_email_1",
        f"christmas_email_2{suffix}",
        "christmas_email_3",
        "christmas_email_4",
        "christmas_email_5",
        "christmas_email_6",
        f"christmas_email_7{suffix}",
    ]
    assert all(r.state.is_scheduled() for r in runs)
    contact = campaign_env.find_contact(signup.email)
    assert contact is not None and contact.segment == segment
    assert contact.sequence_status == SequenceStatus.ACTIVE
    assert campaign_env.find_sends(signup.email) == {}  # a row is written when a step happens


def test_orchestrator_run_twice_schedules_one_set(campaign_env: NotionCRM) -> None:
    """A second orchestrator run for the same signup finds the same seven runs."""
    signup = unique_signup(Segment.URGENT)
    first = christmas_email_sequence_orchestrator(**_params(signup))
    second = christmas_email_sequence_orchestrator(**_params(signup))
    assert [r.flow_run_id for r in first] == [r.flow_run_id for r in second]
    assert len(_runs_of(signup.email)) == 7


def test_missing_template_fails_before_scheduling(campaign_env: NotionCRM) -> None:
    """A Draft template fails the orchestrator before any run is created or contact enrolled."""
    template = campaign_env.get_template("christmas_email_5")
    campaign_env.upsert_template(template.model_copy(update={"status": TemplateStatus.DRAFT}))
    signup = unique_signup(Segment.CRITICAL)
    state = christmas_email_sequence_orchestrator(**_params(signup), return_state=True)
    assert state.is_failed()
    assert "christmas_email_5" in str(state.message)
    assert _runs_of(signup.email) == []
    contact = campaign_env.find_contact(signup.email)
    assert contact is None or contact.sequence_status != SequenceStatus.ACTIVE


def test_a_busy_prefect_server_while_scheduling_is_retried(
    campaign_env: NotionCRM, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 503 the Prefect client gave up on is retried by the task, and seven runs exist once."""
    create = SyncPrefectClient.create_flow_run_from_deployment
    calls = 0

    def busy_at_the_third(self: SyncPrefectClient, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise prefect_answer(503)
        return create(self, *args, **kwargs)

    monkeypatch.setattr(SyncPrefectClient, "create_flow_run_from_deployment", busy_at_the_third)
    signup = unique_signup(Segment.OPTIMIZE)
    state = christmas_email_sequence_orchestrator(**_params(signup), return_state=True)
    assert state.is_completed(), state.message
    assert calls == 2 + 1 + 7  # the retry finds the first two again by idempotency key
    assert len(_runs_of(signup.email)) == 7


def test_bad_signup_fails_naming_the_field(campaign_env: NotionCRM) -> None:
    """Colours that do not add up to eight fail the run with a message naming them."""
    params = _params(unique_signup(Segment.URGENT)) | {"green_systems": 7}
    state = christmas_email_sequence_orchestrator(**params, return_state=True)
    assert state.is_failed()
    assert "green_systems" in str(state.message)


def test_unsubscribed_contact_is_skipped_at_send_time(
    campaign_env: NotionCRM, resend_standin: ResendStandIn
) -> None:
    """A contact who unsubscribed after scheduling gets no email; the log row says Skipped."""
    signup = unique_signup(Segment.OPTIMIZE)
    christmas_email_sequence_orchestrator(**_params(signup))
    contact = campaign_env.find_contact(signup.email)
    assert contact is not None
    campaign_env.set_contact_status(contact.page_id, SequenceStatus.UNSUBSCRIBED)
    state = _send_step(signup.email, 1)
    assert state.is_completed() and "Unsubscribed" in str(state.message)
    assert resend_standin.emails == []
    row = campaign_env.find_send(signup.email, 1)
    assert row is not None and row.status == SendStatus.SKIPPED


def test_unsubscribed_contact_is_not_reenrolled(campaign_env: NotionCRM) -> None:
    """A new signup of an unsubscribed contact schedules nothing and says why."""
    signup = unique_signup(Segment.URGENT)
    contact = campaign_env.find_or_create_contact(signup)
    campaign_env.set_contact_status(contact.page_id, SequenceStatus.UNSUBSCRIBED)
    state = christmas_email_sequence_orchestrator(**_params(signup), return_state=True)
    assert state.is_completed() and "Unsubscribed" in str(state.message)
    assert _runs_of(signup.email) == []


def test_resend_500_then_success_sends_one_email(
    campaign_env: NotionCRM, resend_standin: ResendStandIn
) -> None:
    """A Resend 500 is retried with the same key and exactly one email arrives."""
    signup = unique_signup(Segment.CRITICAL)
    christmas_email_sequence_orchestrator(**_params(signup))
    resend_standin.inject_failure(
        method="POST", path="^/emails$", status=500, code="application_error", count=1
    )
    state = _send_step(signup.email, 1)
    assert state.is_completed(), state.message
    assert len(resend_standin.emails) == 1
    row = campaign_env.find_send(signup.email, 1)
    assert row is not None and row.status == SendStatus.SENT and row.resend_email_id
    sent = resend_standin.emails[0]
    assert sent["to"] == [signup.email]
    assert "{{" not in sent["html"] and "{{" not in sent["subject"]


@pytest.mark.usefixtures("no_adapter_retries")
def test_failed_log_write_after_send_then_flow_retry_sends_once(
    campaign_env: NotionCRM, notion_standin: NotionStandIn, resend_standin: ResendStandIn
) -> None:
    """The log row cannot be written after the email went out; the retry records one email."""
    signup = unique_signup(Segment.URGENT)
    christmas_email_sequence_orchestrator(**_params(signup))
    notion_standin.inject_failure(
        method="POST", path="^/v1/pages$", status=503, code="service_unavailable", count=1
    )
    state = _send_step(signup.email, 1, retries=1, retry_delay_seconds=0)
    assert state.is_completed(), state.message
    assert len(resend_standin.emails) == 1
    rows = campaign_env.find_sends(signup.email)
    assert list(rows) == [1] and rows[1].status == SendStatus.SENT
    contact = campaign_env.find_contact(signup.email)
    assert contact is not None and contact.last_email_sent == 1


@pytest.mark.usefixtures("no_adapter_retries")
def test_failed_cursor_write_then_flow_retry_keeps_one_row(
    campaign_env: NotionCRM, notion_standin: NotionStandIn, resend_standin: ResendStandIn
) -> None:
    """The row says Sent but the contact could not be moved on; the retry only moves it on."""
    signup = unique_signup(Segment.CRITICAL)
    christmas_email_sequence_orchestrator(**_params(signup))
    contact = campaign_env.find_contact(signup.email)
    assert contact is not None
    notion_standin.inject_failure(
        method="PATCH", path=f"/v1/pages/{contact.page_id}$", status=503, code="service_unavailable"
    )
    state = _send_step(signup.email, 1, retries=1, retry_delay_seconds=0)
    assert state.is_completed() and "already records it as Sent" in str(state.message)
    assert len(resend_standin.emails) == 1
    assert len(campaign_env.find_sends(signup.email)) == 1
    contact = campaign_env.find_contact(signup.email)
    assert contact is not None and contact.last_email_sent == 1


@pytest.mark.usefixtures("no_adapter_retries")
def test_failed_run_then_run_by_hand_sends_once(
    campaign_env: NotionCRM, notion_standin: NotionStandIn, resend_standin: ResendStandIn
) -> None:
    """Without retries the run ends Failed, and a run started by hand still leaves one email."""
    signup = unique_signup(Segment.OPTIMIZE)
    christmas_email_sequence_orchestrator(**_params(signup))
    contact = campaign_env.find_contact(signup.email)
    assert contact is not None
    notion_standin.inject_failure(
        method="PATCH", path=f"/v1/pages/{contact.page_id}$", status=503, code="service_unavailable"
    )
    failed = _send_step(signup.email, 1, retries=0)
    assert failed.is_failed() and "503" in str(failed.message)
    run = _runs_of(signup.email)[0]
    by_hand = {k: v for k, v in run.parameters.items() if not k.startswith("send_log_")}
    again = christmas_send_email(**by_hand, return_state=True)
    assert again.is_completed(), again.message
    assert len(resend_standin.emails) == 1
    assert len(campaign_env.find_sends(signup.email)) == 1


def test_one_signup_costs_at_most_36_notion_requests(
    campaign_env: NotionCRM,
    notion_standin: NotionStandIn,
    resend_standin: ResendStandIn,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Enrolling a new contact and sending its seven emails takes at most 36 Notion requests."""
    monkeypatch.setenv("SEQUENCE_TIME_SCALE", "20000")  # every step due within a tenth of a second
    signup = unique_signup(Segment.URGENT)
    notion_standin.reset()
    christmas_email_sequence_orchestrator(**_params(signup))
    orchestrator = len(notion_standin.requests)
    for number in range(1, 8):
        assert _send_step(signup.email, number).is_completed()
    total = len(notion_standin.requests)
    assert len(resend_standin.emails) == 7
    assert (orchestrator, total) == (3, 3 + 7 * 4), notion_standin.requests
    assert total <= 36


def test_email_seven_completes_the_contact(
    campaign_env: NotionCRM, resend_standin: ResendStandIn
) -> None:
    """After the last email the contact is Completed and Last Email Sent is 7."""
    signup = unique_signup(Segment.CRITICAL)
    christmas_email_sequence_orchestrator(**_params(signup))
    state = _send_step(signup.email, 7)
    assert state.is_completed(), state.message
    contact = campaign_env.find_contact(signup.email)
    assert contact is not None
    assert contact.sequence_status == SequenceStatus.COMPLETED and contact.last_email_sent == 7
    headers = resend_standin.emails[0]["headers"]
    assert headers["List-Unsubscribe"].startswith(
        "<https://hooks.review.example/unsubscribe?token="
    )
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_cancel_moves_scheduled_runs_to_cancelled(campaign_env: NotionCRM) -> None:
    """Cancelling a contact cancels its scheduled runs, marks it, and skips Scheduled rows."""
    signup = unique_signup(Segment.URGENT)
    christmas_email_sequence_orchestrator(**_params(signup))
    legacy = _runs_of(signup.email)[3].parameters  # a row an earlier version logged ahead
    campaign_env.find_or_create_send(
        NewSend(
            email=signup.email,
            email_number=4,
            template_id=legacy["template_id"],
            contact_id=None,
            scheduled_for=legacy["scheduled_for"],
            idempotency_key="legacy",
        )
    )
    stop, count = cancel_contact_sequence(
        load_settings(), signup.email, SequenceStatus.UNSUBSCRIBED
    )
    assert count == 7 and stop.written and stop.status == SequenceStatus.UNSUBSCRIBED
    assert all(run.state.is_cancelled() for run in _runs_of(signup.email))
    contact = campaign_env.find_contact(signup.email)
    assert contact is not None and contact.sequence_status == SequenceStatus.UNSUBSCRIBED
    row = campaign_env.find_send(signup.email, 4)
    assert row is not None and row.status == SendStatus.SKIPPED


def test_reenrollment_after_cancel_never_resends_a_sent_step(
    campaign_env: NotionCRM, resend_standin: ResendStandIn
) -> None:
    """A Cancelled contact who signs up again gets new runs, but a step already Sent is skipped."""
    signup = unique_signup(Segment.CRITICAL)
    first = christmas_email_sequence_orchestrator(**_params(signup))
    assert _send_step(signup.email, 1).is_completed()
    cancel_contact_sequence(load_settings(), signup.email, SequenceStatus.CANCELLED)
    time.sleep(1.1)  # a new enrollment second, so new run keys
    second = christmas_email_sequence_orchestrator(**_params(signup))
    assert {r.flow_run_id for r in first}.isdisjoint(r.flow_run_id for r in second)
    row = campaign_env.find_send(signup.email, 1)
    assert row is not None and row.status == SendStatus.SENT
    new_step_one = next(r for r in _runs_of(signup.email) if r.id == second[0].flow_run_id)
    assert new_step_one.parameters["send_log_row_id"] == row.page_id
    state = christmas_send_email(**new_step_one.parameters, return_state=True)
    assert state.is_completed() and "Last Email Sent is already 1" in str(state.message)
    assert len(resend_standin.emails) == 1


def test_cancel_never_weakens_a_recorded_stop(campaign_env: NotionCRM) -> None:
    """Cancelling a Complained contact cancels its runs but keeps the status Complained."""
    signup = unique_signup(Segment.OPTIMIZE)
    christmas_email_sequence_orchestrator(**_params(signup))
    contact = campaign_env.find_contact(signup.email)
    assert contact is not None
    campaign_env.set_contact_status(contact.page_id, SequenceStatus.COMPLAINED)
    stop, count = cancel_contact_sequence(load_settings(), signup.email, SequenceStatus.CANCELLED)
    assert count == 7 and not stop.written and stop.status == SequenceStatus.COMPLAINED
    contact = campaign_env.find_contact(signup.email)
    assert contact is not None and contact.sequence_status == SequenceStatus.COMPLAINED


def test_signup_after_the_end_is_recorded_and_not_enrolled(
    campaign_env: NotionCRM, resend_standin: ResendStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A signup after CAMPAIGN_ENDS_AT ends Completed, schedules nothing, marks Campaign Ended."""
    monkeypatch.setenv("CAMPAIGN_ENDS_AT", "2020-12-24T18:00:00+00:00")
    signup = unique_signup(Segment.URGENT).model_copy(update={"timezone": "Europe/Paris"})
    state = christmas_email_sequence_orchestrator(**_params(signup), return_state=True)
    assert state.is_completed(), state.message
    assert "is not enrolled" in str(state.message)
    assert "after the campaign ended at 2020-12-24T18:00:00+00:00" in str(state.message)
    assert _runs_of(signup.email) == []
    contact = campaign_env.find_contact(signup.email)
    assert contact is not None
    assert contact.sequence_status == SequenceStatus.CAMPAIGN_ENDED
    assert contact.enrolled_at is None and contact.time_zone == "Europe/Paris"
    assert campaign_env.find_sends(signup.email) == {}
    assert resend_standin.emails == []


def test_steps_that_cannot_fit_are_logged_skipped_and_not_scheduled(
    campaign_env: NotionCRM, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the end 200 s away in TESTING_MODE (gap 81 s) emails 1, 2 and 7 run; 3-6 are Skipped."""
    ends_at = datetime.now(UTC) + timedelta(seconds=200)
    monkeypatch.setenv("CAMPAIGN_ENDS_AT", ends_at.isoformat())
    signup = unique_signup(Segment.CRITICAL)
    state = christmas_email_sequence_orchestrator(**_params(signup), return_state=True)
    assert state.is_completed(), state.message
    runs = _runs_of(signup.email)
    assert [r.parameters["email_number"] for r in runs] == [1, 2, 7]
    assert all(r.expected_start_time < ends_at for r in runs)
    rows = campaign_env.find_sends(signup.email)
    assert sorted(rows) == [3, 4, 5, 6]
    for row in rows.values():
        assert row.status == SendStatus.SKIPPED
        assert row.detail.startswith("Dropped: it cannot go out before the campaign ends")
    again = christmas_email_sequence_orchestrator(**_params(signup))  # a retry writes no new row
    assert [r.email_number for r in again] == [1, 2, 7]
    assert sorted(campaign_env.find_sends(signup.email)) == [3, 4, 5, 6]


def test_the_contact_keeps_the_time_zone_it_gave(campaign_env: NotionCRM) -> None:
    """The signup's time zone is stored on the contact's Time Zone property."""
    signup = unique_signup(Segment.OPTIMIZE).model_copy(update={"timezone": "Pacific/Kiritimati"})
    christmas_email_sequence_orchestrator(**_params(signup))
    contact = campaign_env.find_contact(signup.email)
    assert contact is not None and contact.time_zone == "Pacific/Kiritimati"
    assert contact.sequence_status == SequenceStatus.ACTIVE
