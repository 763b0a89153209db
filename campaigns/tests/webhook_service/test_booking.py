"""`POST /webhooks/booking`: a Cal.com booking ends the sequence as Converted."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from campaigns.models import SequenceStatus
from campaigns.tests.webhook_service.conftest import Service, as_json, sign_cal

EMAIL = "maria@harbourplumbing.example"


def _booking(trigger: str = "BOOKING_CREATED", **payload: Any) -> bytes:
    attendee = {"email": EMAIL.upper(), "name": "Maria", "timeZone": "Europe/London"}
    body = {"attendees": [attendee], "title": "Christmas review", "uid": "bk_1"} | payload
    return as_json({"triggerEvent": trigger, "createdAt": "2026-12-02T10:00:00Z", "payload": body})


def _post(service: Service, body: bytes, **headers: str) -> httpx.Response:
    return service.client.post("/webhooks/booking", content=body, headers=sign_cal(body) | headers)


def test_a_booking_marks_the_contact_converted_and_cancels(service: Service) -> None:
    """BOOKING_CREATED with a valid signature converts the attendee and cancels the rest."""
    service.seed_contact(EMAIL)
    response = _post(service, _booking())
    assert response.status_code == 200 and response.json() == {"status": "processed"}
    assert service.crm.contact_status(EMAIL) == SequenceStatus.CONVERTED
    assert service.cancel.calls == [(EMAIL, SequenceStatus.CONVERTED)]


def test_a_missing_or_wrong_signature_is_401(service: Service) -> None:
    """No X-Cal-Signature-256, or one for other bytes or another secret, is refused."""
    service.seed_contact(EMAIL)
    body = _booking()
    unsigned = service.client.post("/webhooks/booking", content=body)
    forged = _post(service, body, **sign_cal(body, secret="not-our-secret"))
    altered = service.client.post(
        "/webhooks/booking", content=body.replace(b"Maria", b"Mario"), headers=sign_cal(body)
    )
    assert unsigned.status_code == forged.status_code == altered.status_code == 401
    assert service.notion_writes() == []


@pytest.mark.parametrize("trigger", ["BOOKING_CANCELLED", "BOOKING_RESCHEDULED", "PING"])
def test_other_triggers_are_acknowledged_and_ignored(service: Service, trigger: str) -> None:
    """Only a created booking acts; other Cal.com triggers get 200 "ignored"."""
    service.seed_contact(EMAIL)
    response = _post(service, _booking(trigger))
    assert response.status_code == 200 and response.json() == {"status": "ignored"}
    assert service.notion_writes() == []


@pytest.mark.parametrize(
    "body",
    [b"{", _booking(attendees=[]), _booking(attendees=[{"email": "no-at-sign"}])],
)
def test_a_signed_but_malformed_booking_is_400(service: Service, body: bytes) -> None:
    """A created booking without a usable attendee address is refused."""
    assert _post(service, body).status_code == 400
    assert service.notion_writes() == []


def test_an_unsubscribed_contact_stays_unsubscribed(service: Service) -> None:
    """A booking never replaces a withdrawn consent: the status stays Unsubscribed."""
    service.seed_contact(EMAIL, SequenceStatus.UNSUBSCRIBED)
    assert _post(service, _booking()).status_code == 200
    assert service.crm.contact_status(EMAIL) == SequenceStatus.UNSUBSCRIBED
    assert service.notion_writes() == [] and service.cancel.calls == []


def test_a_repeated_booking_changes_nothing_more(service: Service) -> None:
    """Cal.com sending the same booking again leaves one status change and one cancel."""
    service.seed_contact(EMAIL)
    assert _post(service, _booking()).status_code == 200
    writes = len(service.notion_writes())
    assert _post(service, _booking()).status_code == 200
    assert len(service.notion_writes()) == writes and len(service.cancel.calls) == 1


def test_notion_down_is_503(service: Service) -> None:
    """When Notion cannot be reached the booking gets 503 with Retry-After."""
    service.seed_contact(EMAIL)
    service.notion.inject_failure(status=503, count=None)
    response = _post(service, _booking())
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
