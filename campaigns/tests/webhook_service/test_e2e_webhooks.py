"""End to end: the webhook service under uvicorn in front of a real Prefect server and worker.

A signed signup posted ten times at once makes one orchestrator run and email 1; a one-click POST
to the `List-Unsubscribe` URL of that email stops emails 2-7; a signed `email.complained` event
stops a second contact's sequence. TESTING_MODE with SEQUENCE_TIME_SCALE=3 puts email 2 forty
seconds after enrollment, which leaves the test time to act between emails 1 and 2.
"""

from __future__ import annotations

import re
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prefect import get_client
from prefect.client.schemas.filters import (
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterTags,
)
from prefect.settings import PREFECT_API_URL, temporary_settings

from campaigns.christmas_campaign.samples import SAMPLE_SIGNUPS
from campaigns.christmas_campaign.sequence import CAMPAIGN
from campaigns.christmas_campaign.topology import ORCHESTRATOR_FLOW_NAME, contact_tag
from campaigns.local_stack import LocalStack, free_port
from campaigns.models import Segment, SendStatus, SequenceStatus, Signup
from campaigns.tests.webhook_service.conftest import (
    BOOKING_SECRET,
    RESEND_SECRET,
    SIGNUP_SECRET,
    as_json,
    sign_standard,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]
TIME_SCALE = 3.0
LEAVING = Signup.model_validate(
    SAMPLE_SIGNUPS[Segment.CRITICAL].model_dump() | {"email": "leaving@harbour.example"}
)
COMPLAINING = Signup.model_validate(
    SAMPLE_SIGNUPS[Segment.OPTIMIZE].model_dump() | {"email": "angry@northlight.example"}
)


class Webhooks:
    """The running service: its URL and the stack behind it."""

    def __init__(self, stack: LocalStack, url: str) -> None:
        self.stack = stack
        self.url = url

    def post_signup(self, signup: Signup) -> httpx.Response:
        """Deliver a signed signup as the website does: a 503 is retried, with a new signature."""
        body = as_json(signup.model_dump(mode="json"))
        return self._deliver("signup", body, lambda: sign_standard(SIGNUP_SECRET, body), 5)[-1]

    def post_resend_event(self, body: bytes) -> list[int]:
        """Deliver a signed event as Resend does: a 503 is retried with the same `svix-id`."""
        msg_id = f"msg_{uuid.uuid4().hex}"

        def headers() -> dict[str, str]:
            return sign_standard(RESEND_SECRET, body, prefix="svix", msg_id=msg_id)

        return [a.status_code for a in self._deliver("resend", body, headers, 30)]

    def _deliver(
        self, route: str, body: bytes, headers: Callable[[], dict[str, str]], tries: int
    ) -> list[httpx.Response]:
        """POST to `/webhooks/<route>`, signed afresh each try, until the answer is not 503."""
        answers: list[httpx.Response] = []
        for _ in range(tries):
            url = f"{self.url}/webhooks/{route}"
            answers.append(httpx.post(url, content=body, headers=headers(), timeout=30))
            if answers[-1].status_code != 503:
                break
            time.sleep(1)
        return answers

    def wait_for(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        """Poll until the condition holds; on a timeout, show the end of the service's log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.25)
        log = self.stack.log_path("webhooks").read_text()[-3000:]
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{log}")

    def emails_to(self, address: str) -> list[dict[str, Any]]:
        return [e for e in self.stack.resend.emails if e["to"][0] == address]


@pytest.fixture(scope="module")
def webhooks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Webhooks]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    secrets = {
        "SIGNUP_WEBHOOK_SECRET": SIGNUP_SECRET,
        "RESEND_WEBHOOK_SECRET": RESEND_SECRET,
        "BOOKING_WEBHOOK_SECRET": BOOKING_SECRET,
    }
    stack = LocalStack(
        Path(tmp_path_factory.mktemp("webhooks")),
        time_scale=TIME_SCALE,
        public_base_url=url,
        extra_env=secrets,
    )
    try:
        stack.start()
        factory = "campaigns.webhook_service.app:app_from_env"
        command = [sys.executable, "-m", "uvicorn", "--factory", factory, "--port", str(port)]
        stack.spawn("webhooks", [*command, "--host", "127.0.0.1"])
        service = Webhooks(stack, url)
        service.wait_for(lambda: _healthy(url), 120, "the webhook service")
        with temporary_settings(updates={PREFECT_API_URL: stack.api_url}):
            yield service
    finally:
        stack.stop()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _orchestrator_runs() -> list[Any]:
    with get_client(sync_client=True) as client:
        return client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[ORCHESTRATOR_FLOW_NAME]))
        )


def _send_runs(email: str) -> list[Any]:
    """Every send run of the contact: the scheduled ones and any that replaced one (deferred)."""
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                tags=FlowRunFilterTags(all_=[CAMPAIGN, contact_tag(email)])
            )
        )
    # The contact's orchestrator runs carry its tag too; only send runs have a step.
    return [r for r in runs if "email_number" in r.parameters]


UNSUBSCRIBED, COMPLAINED = SequenceStatus.UNSUBSCRIBED, SequenceStatus.COMPLAINED
SENT = SendStatus.SENT
# A send reads the contact's status just before it calls Resend; one that read it in the instant
# before the stop was written may still reach Resend this much later.
RACE = timedelta(seconds=2)


def _complaint(email: dict[str, Any]) -> bytes:
    data = {"email_id": email["id"], "to": email["to"], "from": email["from"]}
    return as_json({"type": "email.complained", "created_at": "2026-12-01T10:00:00Z", "data": data})


def test_signup_unsubscribe_and_complaint_through_the_service(webhooks: Webhooks) -> None:
    """One run for ten deliveries, email 1 only after a one-click unsubscribe or a complaint."""
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda _: webhooks.post_signup(LEAVING), range(10)))
    assert [a.status_code for a in answers] == [202] * 10
    assert len({a.json()["flow_run_id"] for a in answers}) == 1
    assert webhooks.post_signup(COMPLAINING).status_code == 202
    runs = _orchestrator_runs()
    assert len(runs) == 2
    assert answers[0].json()["flow_run_id"] in {str(r.id) for r in runs}

    webhooks.wait_for(
        lambda: len(webhooks.emails_to(LEAVING.email)) >= 1, 150, "email 1 of LEAVING"
    )
    header = webhooks.emails_to(LEAVING.email)[0]["headers"]["List-Unsubscribe"]
    link = re.match(r"<(https?://[^>]+)>", header)
    assert link is not None and link.group(1).startswith(webhooks.url)
    one_click = httpx.post(
        link.group(1),
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=30,
    )
    assert one_click.status_code == 200
    stopped_at = {LEAVING.email: datetime.now(UTC)}

    webhooks.wait_for(
        lambda: len(webhooks.emails_to(COMPLAINING.email)) >= 1, 150, "email 1 of COMPLAINING"
    )
    # At once, as a quick complaint would: it may overtake the Sent row (503, retried).
    answers = webhooks.post_resend_event(_complaint(webhooks.emails_to(COMPLAINING.email)[0]))
    assert set(answers[:-1]) <= {503} and answers[-1] == 200, answers
    stopped_at[COMPLAINING.email] = datetime.now(UTC)

    # Which of the steps the cancel reaches and which start and skip depends on timing; the
    # outcome does not: once step 2 was due (the later ones are minutes away), nothing was sent
    # after the stop.
    crm = webhooks.stack.crm()
    for signup, status in ((LEAVING, UNSUBSCRIBED), (COMPLAINING, COMPLAINED)):
        webhooks.wait_for(lambda s=signup, t=status: crm.contact_status(s.email) == t, 30, "stop")
    latest = max(
        r.expected_start_time
        for s in (LEAVING, COMPLAINING)
        for r in _send_runs(s.email)
        if r.parameters["email_number"] == 2
    )
    time.sleep(max(0.0, (latest - datetime.now(UTC)).total_seconds()) + 20)

    for signup in (LEAVING, COMPLAINING):
        emails = webhooks.emails_to(signup.email)
        assert 1 in {int(_tag(e)) for e in emails}
        late = [_tag(e) for e in emails if _created(e) > stopped_at[signup.email] + RACE]
        assert late == [], f"{signup.email} got emails {late} after its stop"
        sent = {n for n, row in crm.find_sends(signup.email).items() if row.status == SENT}
        assert sent <= {int(_tag(e)) for e in emails}
    assert crm.contact_status(LEAVING.email) == UNSUBSCRIBED
    assert crm.contact_status(COMPLAINING.email) == COMPLAINED
    complained_row = crm.find_send(COMPLAINING.email, 1)
    assert complained_row is not None and complained_row.status == SendStatus.COMPLAINED
    assert len(_orchestrator_runs()) == 2


def _created(email: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(email["created_at"])


def _tag(email: dict[str, Any]) -> str:
    return next(str(t["value"]) for t in email["tags"] if t["name"] == "email_number")
