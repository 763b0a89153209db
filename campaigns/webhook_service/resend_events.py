"""`POST /webhooks/resend`: Resend's delivery events, Svix-signed, applied to Notion once each.

`email.delivered`, `email.opened` and `email.clicked` move the send-log row found by Resend email
id forward (never back: an open that arrives before its delivery is not undone by it). A permanent
`email.bounced` and `email.complained` also stop the contact's sequence. Other types, transient
bounces and emails this campaign did not send are acknowledged and ignored. A repeated `svix-id`
is acknowledged without doing anything; an id is remembered only once its event was applied,
so an event that got a 503 (Notion down) is applied when Resend retries it.

An event can overtake its own send-log row: the send flow writes the Sent row right after Resend
accepts the email, and a fast bounce or complaint may arrive in between. So an event about a
campaign email (tagged `CAMPAIGN_TAG`) younger than `ROW_GRACE` that finds no row still stops the
recipient, then answers 503: Resend retries it (after 5 s, then 5 min) and the retry updates the
row. Past that age, or for an email without the tag, a missing row means "not ours": 200.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import BackgroundTasks, Request
from fastapi.responses import JSONResponse
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    TypeAdapter,
    ValidationError,
)

from campaigns.mailer import CAMPAIGN_TAG
from campaigns.models import Email, SendStatus, SendUpdate, SequenceStatus
from campaigns.webhook_service.services import WebhookServices
from campaigns.webhook_service.stopping import stop_sequence
from campaigns.webhook_service.web import (
    EVENT_BODY_LIMIT,
    EVENT_NAME,
    invalid_body,
    read_body,
    rejection,
    unavailable,
)

log = logging.getLogger("campaigns.webhooks")

TRACKED = {
    "email.delivered": SendStatus.DELIVERED,
    "email.opened": SendStatus.OPENED,
    "email.clicked": SendStatus.CLICKED,
    "email.bounced": SendStatus.BOUNCED,
    "email.complained": SendStatus.COMPLAINED,
}
STOPS = {"email.bounced": SequenceStatus.BOUNCED, "email.complained": SequenceStatus.COMPLAINED}
# How far along a send-log row is; a row only ever moves to a higher rank.
ROW_RANK = {
    SendStatus.SENT: 1,
    SendStatus.DELIVERED: 2,
    SendStatus.OPENED: 3,
    SendStatus.CLICKED: 4,
    SendStatus.BOUNCED: 5,
    SendStatus.COMPLAINED: 6,
}
# How long after Resend created a campaign email its Sent row may still be missing. Resend
# retries a refused event immediately, after 5 s and after 5 min; the next try, at about 35 min,
# is past this and is answered 200 whether or not a row was ever written.
ROW_GRACE = timedelta(minutes=15)


def _as_list(value: object) -> object:
    return [value] if isinstance(value, str) else value


# Tags and the email's creation time only decide whether a missing row may still come, so an
# odd value of either counts as absent rather than refusing (and so losing) a bounce or complaint.
def _tags(value: object) -> dict[str, str]:
    """Resend's examples send tags as an object, its reference as `[{name, value}]`: take both."""
    if isinstance(value, list):
        pairs = [t for t in value if isinstance(t, dict)]
        value = {t.get("name"): t.get("value") for t in pairs}
    if not isinstance(value, dict):
        return {}
    return {k: str(v) for k, v in list(value.items())[:50] if isinstance(k, str)}


def _aware_or_none(value: object) -> datetime | None:
    try:
        return _AWARE.validate_python(value)
    except ValidationError:
        return None


_AWARE: TypeAdapter[datetime] = TypeAdapter(AwareDatetime)


class Bounce(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str = Field(default="", max_length=100)


class EmailEventData(BaseModel):
    """The part of `data` this service uses; Resend adds fields freely, so extras are ignored."""

    model_config = ConfigDict(extra="ignore")
    email_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")
    to: Annotated[list[Email], BeforeValidator(_as_list), Field(max_length=50)] = []
    bounce: Bounce | None = None
    created_at: Annotated[datetime | None, PlainValidator(_aware_or_none)] = None
    tags: Annotated[dict[str, str], PlainValidator(_tags)] = {}


class ResendEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str = Field(max_length=100, pattern=EVENT_NAME)
    data: dict[str, Any] = {}


async def handle_resend_event(
    services: WebhookServices, request: Request, background: BackgroundTasks
) -> JSONResponse:
    body = await read_body(request, EVENT_BODY_LIMIT)
    message_id = services.resend_verifier.verify(request.headers, body)
    if services.resend_ids.seen(message_id):
        log.info("Resend event %s was already handled; acknowledged again.", message_id)
        return JSONResponse({"status": "duplicate"})
    try:
        event = ResendEvent.model_validate_json(body)
        data = EmailEventData.model_validate(event.data) if event.type in TRACKED else None
    except ValidationError as exc:
        raise invalid_body("Resend event", exc) from None
    outcome = "ignored"
    if data is not None and _is_actionable(event.type, data):
        applied = await _apply(services, event.type, data, background)
        if not applied:  # the stop, if any, is done; the row is not there yet
            early = unavailable(f"No send-log row has Resend email {data.email_id} yet; retry.")
            log.info("Resend event %s (%s) came early: %s", message_id, event.type, early)
            return rejection(early, background)  # the stop's cancel still runs
        outcome = "processed"
    services.resend_ids.remember(message_id)
    log.info("Resend event %s (%s) %s.", message_id, event.type, outcome)
    return JSONResponse({"status": outcome})


def _is_actionable(event_type: str, data: EmailEventData) -> bool:
    """A transient or undetermined bounce is Resend retrying; only a permanent one counts."""
    if event_type != "email.bounced":
        return True
    return data.bounce is not None and data.bounce.type.lower() == "permanent"


def row_may_follow(data: EmailEventData, now: datetime) -> bool:
    """True when a missing send-log row may still be written: a campaign email under ROW_GRACE."""
    if CAMPAIGN_TAG not in data.tags or data.created_at is None:
        return False
    return now - data.created_at < ROW_GRACE


async def _apply(
    services: WebhookServices, event_type: str, data: EmailEventData, background: BackgroundTasks
) -> bool:
    """Apply the event; False when its row is missing but may still come (ask for a retry)."""
    row = await services.notion(services.crm.find_send_by_resend_id, data.email_id)
    new = TRACKED[event_type]
    if row is None:
        log.info("No send-log row has Resend email %s.", data.email_id)
    elif ROW_RANK[new] > (ROW_RANK.get(row.status, 0) if row.status else 0):
        await services.notion(services.crm.update_send, row.page_id, SendUpdate(status=new))
    status = STOPS.get(event_type)
    if status is not None:
        # The row names the contact reliably; without one, the event's recipients do.
        for email in [row.email] if row is not None else data.to:
            await stop_sequence(services, email, status, background)
    return row is not None or not row_may_follow(data, datetime.now(UTC))
