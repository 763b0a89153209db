"""Fixtures of the webhook-service tests: the app on the Notion stand-in, fake Prefect, signers.

The signers are written here from the specifications (Standard Webhooks / Svix, Cal.com), not
imported from the service, so a test signature is an independent check of the verifier.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from campaigns.christmas_campaign.samples import SAMPLE_SIGNUPS
from campaigns.conftest import NOTION_TOKEN, make_api
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
from campaigns.unsubscribe import make_token
from campaigns.webhook_service.app import create_app
from campaigns.webhook_service.services import Services

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
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    return {
        f"{prefix}-id": msg_id,
        f"{prefix}-timestamp": stamp,
        f"{prefix}-signature": f"v1,{base64.b64encode(digest).decode()}",
        "content-type": "application/json",
    }


def sign_cal(body: bytes, secret: str = BOOKING_SECRET) -> dict[str, str]:
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"x-cal-signature-256": signature, "content-type": "application/json"}


def as_json(value: Any) -> bytes:
    return json.dumps(value).encode()


def unsubscribe_token(email: str) -> str:
    return make_token(email, UNSUBSCRIBE_SECRET)


@dataclass
class FakeFlowRuns:
    """Prefect as the routes see it: one run per idempotency key, or down, recording every call."""

    down: bool = False
    calls: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    runs: dict[str, str] = field(default_factory=dict)

    async def start_orchestrator(self, parameters: dict[str, Any], idempotency_key: str) -> str:
        self.calls.append((parameters, idempotency_key))
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
        "resend_api_key": "re_test_key",
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
    crm: NotionCRM,
    settings: dict[str, Any] | None = None,
    **services: Any,
) -> Service:
    """The app on the stand-in, with fakes for Prefect unless `services` says otherwise."""
    fast_crm = NotionCRM(make_api(notion.url, max_attempts=2), **_db_args(crm.database_ids))
    flow_runs = FakeFlowRuns()
    cancel = RecordingCancel()
    parts: dict[str, Any] = {"crm": fast_crm, "flow_runs": flow_runs, "cancel_runs": cancel}
    built = service_settings(notion, crm, **(settings or {}))
    app = create_app(built, Services.from_settings(built, **(parts | services)))
    return Service(TestClient(app), notion, fast_crm, flow_runs, cancel)


def _db_args(ids: dict[str, str]) -> dict[str, str]:
    return {
        "contacts_db": ids["contacts"],
        "templates_db": ids["templates"],
        "sends_db": ids["sends"],
    }


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
