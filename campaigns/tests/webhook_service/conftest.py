"""Fixtures of the webhook-service tests: the app on the Notion stand-in, fake Prefect, signers.

Standard Webhooks / Svix requests are signed with the `standardwebhooks` package and Cal.com's
from its documentation, never with the service's code, so a test signature is an independent
check of the verifier.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from standardwebhooks.webhooks import Webhook, hmac_data

from campaigns.christmas_campaign.samples import SAMPLE_SIGNUPS
from campaigns.errors import OrchestratorUnavailable
from campaigns.models import (
    Contact,
    NewSend,
    Segment,
    SendRecord,
    SendStatus,
    SendUpdate,
    SequenceStatus,
    Signup,
)
from campaigns.notion_crm import NotionCRM
from campaigns.settings import Settings, load_settings
from campaigns.standins.notion import NotionStandIn
from campaigns.testing import NOTION_TOKEN, RESEND_KEY
from campaigns.tests.fixtures import make_api
from campaigns.unsubscribe import make_token
from campaigns.webhook_service.app import create_app
from campaigns.webhook_service.services import WebhookServices

SIGNUP_SECRET = "whsec_" + base64.b64encode(b"signup-secret-of-32-bytes-length").decode()
RESEND_SECRET = "whsec_" + base64.b64encode(b"resend-secret-of-32-bytes-length").decode()
BOOKING_SECRET = "cal-booking-secret"
UNSUBSCRIBE_SECRET = "unsubscribe-secret"
DEAD_PREFECT = "http://127.0.0.1:9/api"  # the discard port: nothing listens, connections fail
SIGNUP = SAMPLE_SIGNUPS[Segment.URGENT]


def sign_standard(
    secret: str,
    body: bytes,
    *,
    prefix: str = "webhook",
    msg_id: str | None = None,
    timestamp: int | None = None,
) -> dict[str, str]:
    """Headers of a Standard Webhooks (prefix `webhook`) or Svix (prefix `svix`) delivery."""
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    stamp = int(time.time()) if timestamp is None else timestamp
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        # The package signs text; bytes that are not UTF-8 (hostile bodies) get the same HMAC
        # over the raw bytes, through the package's own helper.
        key = base64.b64decode(secret.removeprefix("whsec_"))
        digest = hmac_data(key, f"{msg_id}.{stamp}.".encode() + body)
        signature = f"v1,{base64.b64encode(digest).decode()}"
    else:
        signature = Webhook(secret).sign(msg_id, datetime.fromtimestamp(stamp, UTC), text)
    return {
        f"{prefix}-id": msg_id,
        f"{prefix}-timestamp": str(stamp),
        f"{prefix}-signature": signature,
        "content-type": "application/json",
    }


def sign_cal(body: bytes, secret: str = BOOKING_SECRET) -> dict[str, str]:
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"x-cal-signature-256": signature, "content-type": "application/json"}


def as_json(value: Any) -> bytes:
    return json.dumps(value).encode()


def resend_event(kind: str, email: str, email_id: str, **data: Any) -> bytes:
    """The JSON body of a Resend event of this type about one email to `email`."""
    payload = {"email_id": email_id, "to": [email], "from": "x <hello@review.example>"}
    return as_json({"type": kind, "created_at": "2026-12-01T10:00:00Z", "data": payload | data})


@asynccontextmanager
async def asgi_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client calling the app in this event loop, so a test can send requests concurrently."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        yield client


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait (without blocking the event loop) until `condition()` holds."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


def unsubscribe_token(email: str) -> str:
    return make_token(email, UNSUBSCRIBE_SECRET)


@dataclass
class FakeFlowRuns:
    """Prefect as the routes see it: one run per idempotency key, or down, recording every call;
    `delay` makes each creation take that long, as a busy server does."""

    down: bool = False
    delay: float = 0.0
    calls: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    runs: dict[str, str] = field(default_factory=dict)

    async def start_orchestrator(self, parameters: dict[str, Any], idempotency_key: str) -> str:
        self.calls.append((parameters, idempotency_key))
        await asyncio.sleep(self.delay)
        if self.down:
            raise OrchestratorUnavailable("fake Prefect is down")
        return self.runs.setdefault(idempotency_key, str(uuid.uuid4()))

    async def reachable(self) -> bool:
        return not self.down


@dataclass
class RecordingCancel:
    calls: list[tuple[str, SequenceStatus]] = field(default_factory=list)

    def __call__(self, email: str, status: SequenceStatus) -> int:
        self.calls.append((email, status))
        return 0


def service_settings(notion: NotionStandIn, crm: NotionCRM, **overrides: Any) -> Settings:
    dbs = crm.database_ids
    values: dict[str, Any] = {
        "notion_token": NOTION_TOKEN,
        "notion_contacts_db_id": dbs["contacts"],
        "notion_templates_db_id": dbs["templates"],
        "notion_sends_db_id": dbs["sends"],
        "notion_api_url": notion.url,
        "notion_requests_per_second": 0,
        "resend_api_key": RESEND_KEY,
        "email_from": "Systems Review <hello@review.example>",
        "signup_webhook_secret": SIGNUP_SECRET,
        "resend_webhook_secret": RESEND_SECRET,
        "booking_webhook_secret": BOOKING_SECRET,
        "unsubscribe_secret": UNSUBSCRIBE_SECRET,
        "prefect_api_url": DEAD_PREFECT,
    }
    return load_settings(env_file=None, **(values | overrides))


@dataclass
class Service:
    """The app under test and what it talks to."""

    client: TestClient
    notion: NotionStandIn
    crm: NotionCRM
    flow_runs: FakeFlowRuns
    cancel: RecordingCancel

    def seed_contact(self, email: str, status: SequenceStatus = SequenceStatus.ACTIVE) -> Contact:
        """A contact in Notion; the stand-in's request log starts afresh after it."""
        contact = seed_contact(self.crm, email, status)
        self.notion.reset()
        return contact

    def seed_send(self, contact: Contact, number: int, resend_id: str) -> SendRecord:
        row = seed_send(self.crm, contact, number, resend_id)
        self.notion.reset()
        return row

    def notion_writes(self) -> list[dict[str, Any]]:
        """Every page the service created or changed in Notion so far."""
        return [
            r
            for r in self.notion.requests
            if (r["method"], r["path"]) == ("POST", "/v1/pages")
            or (r["method"] == "PATCH" and r["path"].startswith("/v1/pages/"))
        ]


def build_service(
    notion: NotionStandIn,
    databases: NotionCRM,
    settings: dict[str, Any] | None = None,
    **services: Any,
) -> Service:
    """The app on the stand-in and the databases of `databases`, with fakes for Prefect unless
    `services` says otherwise (`crm=` too: a throttled client, say)."""
    parts: dict[str, Any] = {
        "crm": service_crm(notion, databases),
        "flow_runs": FakeFlowRuns(),
        "cancel_runs": RecordingCancel(),
    } | services
    built = service_settings(notion, databases, **(settings or {}))
    app = create_app(built, WebhookServices.from_settings(built, **parts))
    return Service(TestClient(app), notion, parts["crm"], parts["flow_runs"], parts["cancel_runs"])


def service_crm(notion: NotionStandIn, crm: NotionCRM, **api_options: Any) -> NotionCRM:
    """A CRM of its own for the service (it fails fast; `api_options` may add a throttle)."""
    ids = crm.database_ids
    return NotionCRM(
        make_api(notion.url, **({"max_attempts": 2} | api_options)),
        contacts_db=ids["contacts"],
        templates_db=ids["templates"],
        sends_db=ids["sends"],
    )


@pytest.fixture
def service(notion_standin: NotionStandIn, notion_crm: NotionCRM) -> Iterator[Service]:
    built = build_service(notion_standin, notion_crm)
    with built.client:
        yield built


def seed_contact(
    crm: NotionCRM, email: str, status: SequenceStatus = SequenceStatus.ACTIVE
) -> Contact:
    """An enrolled contact with this address and status."""
    signup = Signup.model_validate(SIGNUP.model_dump() | {"email": email})
    contact = crm.find_or_create_contact(signup)
    contact = crm.enroll_contact(contact, signup, Segment.URGENT, datetime.now(UTC))
    if status != SequenceStatus.ACTIVE:
        contact = crm.set_contact_status(contact.page_id, status)
    return contact


def seed_send(crm: NotionCRM, contact: Contact, number: int, resend_id: str) -> SendRecord:
    """A Sent send-log row of this contact carrying a Resend email id."""
    row = crm.find_or_create_send(
        NewSend(
            email=contact.email,
            email_number=number,
            template_id=f"christmas_email_{number}",
            contact_id=contact.page_id,
            scheduled_for=datetime.now(UTC),
            idempotency_key=f"test/{number}",
        )
    )
    return crm.update_send(
        row.page_id,
        SendUpdate(status=SendStatus.SENT, sent_at=datetime.now(UTC), resend_email_id=resend_id),
    )
