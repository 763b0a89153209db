"""One public unsubscribe link, hammered, must not starve the webhooks or the health check.

A contact this process has already stopped costs no Notion call, each link has a request
budget (429 with Retry-After beyond it), and unsubscribes wait for Notion in a lane of their own,
so Resend, Cal.com and /healthz never queue behind them. The bursts run in process against a
throttled Notion client, as in production where Notion allows about three calls a second.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from campaigns.models import SequenceStatus
from campaigns.notion_crm import NotionCRM
from campaigns.standins.notion import NotionStandIn
from campaigns.tests.webhook_service.conftest import (
    RESEND_SECRET,
    Service,
    as_json,
    asgi_client,
    build_service,
    resend_event,
    seed_contact,
    seed_send,
    service_crm,
    sign_cal,
    sign_standard,
    unsubscribe_token,
)
from campaigns.webhook_service.services import UNSUBSCRIBE_BUDGET as BUDGET

EMAIL = "maria@harbourplumbing.example"
RESEND_ID = "0b1c2d3e-4f50-4617-8a9b-0c1d2e3f4a5b"
BURST = 50
PROMPT_SECONDS = 1.0  # an answer that did not queue behind the burst (it would take 2-5 s)


def _booking(email: str) -> tuple[bytes, dict[str, str]]:
    attendees = [{"email": email}]
    body = as_json({"triggerEvent": "BOOKING_CREATED", "payload": {"attendees": attendees}})
    return body, sign_cal(body)


def _unsubscribe(client: httpx.Client | httpx.AsyncClient, email: str = EMAIL) -> Any:
    return client.post("/unsubscribe", params={"token": unsubscribe_token(email)})


def _delivered(client: httpx.AsyncClient) -> Awaitable[httpx.Response]:
    body = resend_event("email.delivered", EMAIL, RESEND_ID)
    headers = sign_standard(RESEND_SECRET, body, prefix="svix")
    return client.post("/webhooks/resend", content=body, headers=headers)


async def _timed(request: Awaitable[httpx.Response]) -> tuple[float, httpx.Response]:
    started = time.monotonic()
    response = await request
    return time.monotonic() - started, response


def _throttled_service(
    notion: NotionStandIn, crm: NotionCRM, per_second: float
) -> tuple[Service, NotionCRM]:
    throttled = service_crm(notion, crm, requests_per_second=per_second)
    for which in ("contacts", "sends"):
        throttled.data_source(which)  # resolved once, as a long-running service has
    return build_service(notion, crm, crm=throttled), throttled


Burst = tuple[list[httpx.Response], list[tuple[float, httpx.Response]]]


def _burst(service: Service, clicks: Callable[[httpx.AsyncClient], list[Awaitable[Any]]]) -> Burst:
    """The unsubscribe answers of a burst, and how long a Resend event and /healthz sent once
    the burst is in took, with their answers."""

    async def run() -> Burst:
        async with asgi_client(service.client.app) as client:
            pending = [asyncio.ensure_future(click) for click in clicks(client)]
            await asyncio.sleep(0.05)
            others = await asyncio.gather(
                _timed(_delivered(client)), _timed(client.get("/healthz"))
            )
            return await asyncio.gather(*pending), others

    return asyncio.run(asyncio.wait_for(run(), timeout=60))


@pytest.mark.parametrize("second", ["unsubscribe", "booking"])
def test_a_stopped_contact_costs_no_notion_call(service: Service, second: str) -> None:
    """After this process unsubscribed a contact, another unsubscribe or a booking reads nothing."""
    service.seed_contact(EMAIL)
    assert _unsubscribe(service.client).status_code == 200
    service.notion.reset()
    if second == "unsubscribe":
        response = _unsubscribe(service.client)
    else:
        body, headers = _booking(EMAIL)
        response = service.client.post("/webhooks/booking", content=body, headers=headers)
    assert response.status_code == 200
    assert service.notion.requests == []
    assert service.crm.contact_status(EMAIL) == SequenceStatus.UNSUBSCRIBED


def test_a_link_beyond_its_budget_is_429_with_retry_after(service: Service) -> None:
    """A link POSTed more often than its budget allows gets 429; another link is unaffected."""
    service.seed_contact(EMAIL)
    answers = [_unsubscribe(service.client) for _ in range(BUDGET + 1)]
    assert [r.status_code for r in answers] == [200] * BUDGET + [429]
    assert int(answers[-1].headers["Retry-After"]) >= 1
    assert _unsubscribe(service.client, "someone.else@example.com").status_code == 200


def test_a_burst_on_one_link_leaves_webhooks_and_health_prompt(
    notion_standin: NotionStandIn, notion_crm: NotionCRM
) -> None:
    """Fifty clients POSTing one link: one stop's Notion calls, the rest budgeted, and a Resend
    event and /healthz answered promptly meanwhile."""
    seed_send(notion_crm, seed_contact(notion_crm, EMAIL), 1, RESEND_ID)
    service, crm = _throttled_service(notion_standin, notion_crm, per_second=10)
    contact_queries = f"/v1/data_sources/{crm.data_source('contacts')}/query"
    notion_standin.reset()

    clicks, others = _burst(service, lambda client: [_unsubscribe(client) for _ in range(BURST)])
    assert sorted(r.status_code for r in clicks) == [200] * BUDGET + [429] * (BURST - BUDGET)
    assert all(int(r.headers["Retry-After"]) >= 1 for r in clicks if r.status_code == 429)
    [(event_seconds, event), (health_seconds, health)] = others
    assert event.json() == {"status": "processed"} and health.status_code == 200
    assert event_seconds < PROMPT_SECONDS and health_seconds < PROMPT_SECONDS
    reads = [r for r in notion_standin.requests if r["path"] == contact_queries]
    assert len(reads) <= 2  # the stop's read and its re-read, nothing per click
    assert crm.contact_status(EMAIL) == SequenceStatus.UNSUBSCRIBED


def test_unsubscribes_of_many_contacts_leave_room_for_webhooks(
    notion_standin: NotionStandIn, notion_crm: NotionCRM
) -> None:
    """Many different links at once: their Notion calls wait in their own lane, so a Resend event
    and /healthz do not queue behind them."""
    leaving = [f"leaving{n}@example.com" for n in range(24)]
    for email in leaving:
        seed_contact(notion_crm, email)
    seed_send(notion_crm, seed_contact(notion_crm, EMAIL), 1, RESEND_ID)
    service, _ = _throttled_service(notion_standin, notion_crm, per_second=20)

    clicks, others = _burst(service, lambda client: [_unsubscribe(client, e) for e in leaving])
    assert [r.status_code for r in clicks] == [200] * len(leaving)
    [(event_seconds, event), (health_seconds, health)] = others
    assert event.json() == {"status": "processed"} and health.status_code == 200
    assert event_seconds < PROMPT_SECONDS and health_seconds < PROMPT_SECONDS
