"""Status precedence under concurrency: a complaint is never overwritten by a slower unsubscribe.

The Notion stand-in's scripted delays hold a status write in flight at a chosen moment: inside
one process stops of a contact take turns, and a weaker status written by another process after
ours is repaired when we re-read.
"""

from __future__ import annotations

import asyncio
import logging
import re

import httpx
import pytest

from campaigns.models import SequenceStatus
from campaigns.notion_crm import NotionCRM
from campaigns.standins.notion import NotionStandIn
from campaigns.tests.webhook_service.conftest import (
    RESEND_SECRET,
    Service,
    asgi_client,
    build_service,
    resend_event,
    sign_standard,
    unsubscribe_token,
    until,
)

EMAIL = "ava@northlightstudio.example"
SLOW_WRITE = 1.0  # seconds a scripted status write is held


def _no_failures_left(notion: NotionStandIn) -> bool:
    return not notion.failures.pending()


async def _unsubscribe(client: httpx.AsyncClient) -> httpx.Response:
    return await client.post("/unsubscribe", params={"token": unsubscribe_token(EMAIL)})


async def _complain(client: httpx.AsyncClient) -> httpx.Response:
    body = resend_event("email.complained", EMAIL, "no-such-send")
    headers = sign_standard(RESEND_SECRET, body, prefix="svix")
    return await client.post("/webhooks/resend", content=body, headers=headers)


def test_a_complaint_during_a_slow_unsubscribe_ends_complained(service: Service) -> None:
    """An unsubscribe whose status write is slow, then a complaint: the contact is Complained."""
    contact = service.seed_contact(EMAIL)
    page = f"/v1/pages/{re.escape(contact.page_id)}$"
    service.notion.inject_failure("PATCH", page, status=None, delay=SLOW_WRITE)

    async def race() -> list[httpx.Response]:
        async with asgi_client(service.client.app) as client:
            unsubscribe = asyncio.create_task(_unsubscribe(client))
            await until(lambda: _no_failures_left(service.notion))  # its write is in flight
            complaint = await _complain(client)
            return [await unsubscribe, complaint]

    responses = asyncio.run(asyncio.wait_for(race(), timeout=30))
    assert [r.status_code for r in responses] == [200, 200]
    assert service.crm.contact_status(EMAIL) == SequenceStatus.COMPLAINED


def test_a_weaker_status_written_by_another_process_is_repaired(
    notion_standin: NotionStandIn, notion_crm: NotionCRM, caplog: pytest.LogCaptureFixture
) -> None:
    """Another process's unsubscribe lands after our complaint was written: we write it again."""
    ours = build_service(notion_standin, notion_crm)
    theirs = build_service(notion_standin, notion_crm)
    contact = ours.seed_contact(EMAIL)
    page = f"/v1/pages/{re.escape(contact.page_id)}$"
    # Their unsubscribe write lands half a second late; ours lands at once but answers late,
    # so their weaker status is in Notion when we re-read.
    notion_standin.inject_failure("PATCH", page, status=None, delay=SLOW_WRITE / 2)
    notion_standin.inject_failure("PATCH", page, status=None, delay=SLOW_WRITE, when="after")

    async def race() -> list[httpx.Response]:
        async with asgi_client(theirs.client.app) as other, asgi_client(ours.client.app) as me:
            unsubscribe = asyncio.create_task(_unsubscribe(other))
            await until(lambda: len(notion_standin.failures.pending()) == 1)
            complaint = await _complain(me)
            return [await unsubscribe, complaint]

    with caplog.at_level(logging.INFO, logger="campaigns.webhooks"):
        responses = asyncio.run(asyncio.wait_for(race(), timeout=30))
    assert [r.status_code for r in responses] == [200, 200]
    assert _no_failures_left(notion_standin)
    assert ours.crm.contact_status(EMAIL) == SequenceStatus.COMPLAINED
    assert "became Unsubscribed right after it was set to Complained" in caplog.text
    assert EMAIL not in caplog.text
