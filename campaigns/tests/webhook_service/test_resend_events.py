"""`POST /webhooks/resend`: Svix signatures, svix-id dedup, tracking and stopping events."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from campaigns.mailer import CAMPAIGN_TAG
from campaigns.models import SendStatus, SequenceStatus
from campaigns.tests.webhook_service.conftest import (
    RESEND_SECRET,
    SIGNUP_SECRET,
    Service,
    as_json,
    resend_event,
    sign_standard,
)
from campaigns.webhook_service.resend_events import ROW_GRACE, EmailEventData, row_may_follow

EMAIL = "ava@northlightstudio.example"
RESEND_ID = "4ef9a417-02e9-4d39-ad75-9611e0fcc33c"


def _event(kind: str, email_id: str = RESEND_ID, **data: Any) -> bytes:
    return resend_event(kind, EMAIL, email_id, **data)


def _post(
    service: Service, body: bytes, secret: str = RESEND_SECRET, **sign: Any
) -> httpx.Response:
    headers = sign_standard(secret, body, prefix="svix", **sign)
    return service.client.post("/webhooks/resend", content=body, headers=headers)


def _row_status(service: Service, number: int = 1) -> SendStatus | None:
    row = service.crm.find_send(EMAIL, number)
    return row.status if row else None


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("email.delivered", SendStatus.DELIVERED),
        ("email.opened", SendStatus.OPENED),
        ("email.clicked", SendStatus.CLICKED),
    ],
)
def test_tracking_events_update_the_send_row(
    service: Service, kind: str, status: SendStatus
) -> None:
    """Delivered, opened and clicked set the status of the row found by Resend email id."""
    service.seed_send(service.seed_contact(EMAIL), 1, RESEND_ID)
    response = _post(service, _event(kind))
    assert response.status_code == 200 and response.json() == {"status": "processed"}
    assert _row_status(service) == status
    assert service.crm.contact_status(EMAIL) == SequenceStatus.ACTIVE
    assert service.cancel.calls == []


def test_a_late_delivered_event_does_not_undo_a_click(service: Service) -> None:
    """Events arriving out of order never move a row backwards."""
    service.seed_send(service.seed_contact(EMAIL), 1, RESEND_ID)
    assert _post(service, _event("email.clicked")).status_code == 200
    assert _post(service, _event("email.delivered")).status_code == 200
    assert _row_status(service) == SendStatus.CLICKED


def test_a_bad_or_stale_signature_is_401(service: Service) -> None:
    """A wrong secret, a missing header or a timestamp over five minutes old is refused."""
    service.seed_send(service.seed_contact(EMAIL), 1, RESEND_ID)
    body = _event("email.complained")
    assert _post(service, body, secret=SIGNUP_SECRET).status_code == 401
    assert _post(service, body, timestamp=int(time.time()) - 400).status_code == 401
    unsigned = service.client.post("/webhooks/resend", content=body)
    assert unsigned.status_code == 401
    assert service.notion_writes() == []


def test_a_repeated_svix_id_is_acknowledged_once(service: Service) -> None:
    """The same event delivered twice is applied once; the repeat gets 200 "duplicate"."""
    service.seed_send(service.seed_contact(EMAIL), 1, RESEND_ID)
    assert _post(service, _event("email.opened"), msg_id="msg_twice").status_code == 200
    writes = len(service.notion_writes())
    repeat = _post(service, _event("email.opened"), msg_id="msg_twice")
    assert repeat.status_code == 200 and repeat.json() == {"status": "duplicate"}
    assert len(service.notion_writes()) == writes


def test_a_permanent_bounce_stops_the_sequence(service: Service) -> None:
    """A permanent bounce marks the row and the contact Bounced and cancels what is left."""
    service.seed_send(service.seed_contact(EMAIL), 1, RESEND_ID)
    body = _event("email.bounced", bounce={"type": "Permanent", "subType": "General"})
    assert _post(service, body).status_code == 200
    assert _row_status(service) == SendStatus.BOUNCED
    assert service.crm.contact_status(EMAIL) == SequenceStatus.BOUNCED
    assert service.cancel.calls == [(EMAIL, SequenceStatus.BOUNCED)]


def test_a_transient_bounce_is_acknowledged_and_ignored(service: Service) -> None:
    """A transient bounce (Resend is still retrying) changes nothing."""
    service.seed_send(service.seed_contact(EMAIL), 1, RESEND_ID)
    body = _event("email.bounced", bounce={"type": "Transient", "subType": "MailboxFull"})
    response = _post(service, body)
    assert response.status_code == 200 and response.json() == {"status": "ignored"}
    assert service.notion_writes() == []


def test_a_complaint_stops_the_sequence(service: Service) -> None:
    """A spam complaint marks the row and the contact Complained and cancels what is left."""
    service.seed_send(service.seed_contact(EMAIL), 1, RESEND_ID)
    assert _post(service, _event("email.complained")).status_code == 200
    assert _row_status(service) == SendStatus.COMPLAINED
    assert service.crm.contact_status(EMAIL) == SequenceStatus.COMPLAINED
    assert service.cancel.calls == [(EMAIL, SequenceStatus.COMPLAINED)]


def test_a_complaint_without_a_send_row_stops_the_recipient(service: Service) -> None:
    """When no row carries the email id, the event's recipient is the contact that stops."""
    service.seed_contact(EMAIL)
    assert _post(service, _event("email.complained", email_id="unknown-id")).status_code == 200
    assert service.crm.contact_status(EMAIL) == SequenceStatus.COMPLAINED


@pytest.mark.parametrize("kind", ["email.sent", "email.delivery_delayed", "contact.created"])
def test_unknown_event_types_are_acknowledged_and_ignored(service: Service, kind: str) -> None:
    """Types the campaign does not act on get 200 "ignored" and touch nothing."""
    service.seed_send(service.seed_contact(EMAIL), 1, RESEND_ID)
    response = _post(service, _event(kind))
    assert response.status_code == 200 and response.json() == {"status": "ignored"}
    assert service.notion_writes() == []


def test_an_event_for_an_email_we_did_not_send_is_ignored(service: Service) -> None:
    """A delivered event whose email id no row carries is acknowledged without a write."""
    assert _post(service, _event("email.delivered", email_id="not-ours")).status_code == 200
    assert service.notion_writes() == []


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        as_json({"data": {}}),
        as_json({"type": "email.opened", "data": {"email_id": "../../etc"}}),
        as_json({"type": "email.complained", "data": {"email_id": "x", "to": ["nobody"]}}),
        as_json({"type": "bad type\nwith a newline", "data": {}}),
    ],
)
def test_a_signed_but_malformed_event_is_400(service: Service, body: bytes) -> None:
    """An event Resend would never send is refused, even when correctly signed."""
    assert _post(service, body).status_code == 400
    assert service.notion_writes() == []


def test_notion_down_is_503_and_the_retry_is_applied(service: Service) -> None:
    """While Notion is down the event gets 503; Resend's retry with the same svix-id applies it."""
    service.seed_send(service.seed_contact(EMAIL), 1, RESEND_ID)
    service.notion.inject_failure(status=503, count=None)
    refused = _post(service, _event("email.delivered"), msg_id="msg_later")
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "30"
    service.notion.clear_failures()
    assert _post(service, _event("email.delivered"), msg_id="msg_later").json() == {
        "status": "processed"
    }
    assert _row_status(service) == SendStatus.DELIVERED


def _campaign_email(age: timedelta) -> dict[str, Any]:
    """The `data` fields of a campaign email Resend created `age` ago."""
    created = datetime.now(UTC) - age
    return {"created_at": created.isoformat(), "tags": {CAMPAIGN_TAG: "christmas"}}


def test_an_event_before_its_send_row_stops_and_asks_for_a_retry(service: Service) -> None:
    """A complaint before its Sent row stops the contact at once; 503 until the row exists."""
    page = service.seed_contact(EMAIL)
    body = _event("email.complained", **_campaign_email(timedelta(seconds=2)))
    early = _post(service, body, msg_id="msg_early")
    assert early.status_code == 503 and early.headers["Retry-After"] == "30"
    assert RESEND_ID in early.json()["detail"]
    assert service.crm.contact_status(EMAIL) == SequenceStatus.COMPLAINED
    assert service.cancel.calls == [(EMAIL, SequenceStatus.COMPLAINED)]
    service.seed_send(page, 1, RESEND_ID)
    retried = _post(service, body, msg_id="msg_early")
    assert retried.status_code == 200 and retried.json() == {"status": "processed"}
    assert _row_status(service) == SendStatus.COMPLAINED
    assert service.cancel.calls == [(EMAIL, SequenceStatus.COMPLAINED)]


def test_odd_tags_and_dates_do_not_refuse_a_complaint(service: Service) -> None:
    """A complaint whose tags or creation time make no sense is still applied, never a 400."""
    service.seed_send(service.seed_contact(EMAIL), 1, RESEND_ID)
    body = _event("email.complained", tags="campaign", created_at={"not": "a date"})
    assert _post(service, body).json() == {"status": "processed"}
    assert _row_status(service) == SendStatus.COMPLAINED


def test_a_campaign_email_past_the_grace_without_a_row_is_acknowledged(service: Service) -> None:
    """Once the row had all the time it needs, a missing row is final: 200 and the stop."""
    service.seed_contact(EMAIL)
    body = _event("email.complained", **_campaign_email(ROW_GRACE + timedelta(minutes=1)))
    assert _post(service, body).status_code == 200
    assert service.crm.contact_status(EMAIL) == SequenceStatus.COMPLAINED


NOW = datetime(2026, 12, 24, 23, 59, 30, tzinfo=UTC)
AUCKLAND = ZoneInfo("Pacific/Auckland")


@pytest.mark.parametrize(
    ("tags", "created_at", "may_follow"),
    [
        ({CAMPAIGN_TAG: "christmas"}, NOW - timedelta(seconds=1), True),
        ([{"name": CAMPAIGN_TAG, "value": "christmas"}], NOW - timedelta(minutes=14), True),
        ({CAMPAIGN_TAG: "christmas"}, NOW - ROW_GRACE, False),
        ({CAMPAIGN_TAG: "christmas"}, None, False),
        ({"category": "password_reset"}, NOW - timedelta(seconds=1), False),
        ([], NOW - timedelta(seconds=1), False),
        # created_at in another zone, same instant: just under the grace, across midnight
        ({CAMPAIGN_TAG: "x"}, (NOW - timedelta(minutes=14)).astimezone(AUCKLAND), True),
        # odd values count as absent: never a reason to refuse a complaint
        ({CAMPAIGN_TAG: "x"}, "2026-12-24T23:59:00", False),  # no time zone
        ({CAMPAIGN_TAG: "x"}, "yesterday", False),
        ("campaign", NOW, False),
        ([{"value": "christmas"}, "x", {"name": CAMPAIGN_TAG, "value": 7}], NOW, True),
    ],
)
def test_which_missing_rows_may_still_be_written(
    tags: Any, created_at: Any, may_follow: bool
) -> None:
    """Only a campaign-tagged email younger than ROW_GRACE may still get its row."""
    data = EmailEventData.model_validate(
        {"email_id": RESEND_ID, "tags": tags, "created_at": created_at}
    )
    assert row_may_follow(data, NOW) is may_follow
