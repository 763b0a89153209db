"""`POST /webhooks/resend`: Resend's delivery events, Svix-signed, applied to Notion once each.

`email.delivered`, `email.opened` and `email.clicked` move the send-log row found by Resend email
id forward (never back: an open that arrives before its delivery is not undone by it). A permanent
`email.bounced` and `email.complained` also stop the contact's sequence. Other types, transient
bounces and emails this campaign did not send are acknowledged and ignored. A repeated `svix-id`
is acknowledged without doing anything; an id is remembered only once its event was applied,
so an event that got a 503 (Notion down) is applied when Resend retries it.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import BackgroundTasks, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from campaigns.models import Email, SendStatus, SendUpdate, SequenceStatus
from campaigns.webhook_service.services import Services
from campaigns.webhook_service.stopping import stop_sequence
from campaigns.webhook_service.web import EVENT_BODY_LIMIT, EVENT_NAME, invalid_body, read_body

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


def _as_list(value: object) -> object:
    return [value] if isinstance(value, str) else value


class Bounce(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str = Field(default="", max_length=100)


class EmailEventData(BaseModel):
    """The part of `data` this service uses; Resend adds fields freely, so extras are ignored."""

    model_config = ConfigDict(extra="ignore")
    email_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")
    to: Annotated[list[Email], BeforeValidator(_as_list), Field(max_length=50)] = []
    bounce: Bounce | None = None


class ResendEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str = Field(max_length=100, pattern=EVENT_NAME)
    data: dict[str, Any] = {}


async def handle_resend_event(
    services: Services, request: Request, background: BackgroundTasks
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
        await _apply(services, event.type, data, background)
        outcome = "processed"
    services.resend_ids.remember(message_id)
    log.info("Resend event %s (%s) %s.", message_id, event.type, outcome)
    return JSONResponse({"status": outcome})


def _is_actionable(event_type: str, data: EmailEventData) -> bool:
    """A transient or undetermined bounce is Resend retrying; only a permanent one counts."""
    if event_type != "email.bounced":
        return True
    return data.bounce is not None and data.bounce.type.lower() == "permanent"


async def _apply(
    services: Services, event_type: str, data: EmailEventData, background: BackgroundTasks
) -> None:
    row = await services.notion(services.crm.find_send_by_resend_id, data.email_id)
    new = TRACKED[event_type]
    if row is None:
        log.info("No send-log row has Resend email %s.", data.email_id)
    elif ROW_RANK[new] > (ROW_RANK.get(row.status, 0) if row.status else 0):
        await services.notion(services.crm.update_send, row.page_id, SendUpdate(status=new))
    status = STOPS.get(event_type)
    if status is None:
        return
    # The row names the contact reliably; without one, the event's recipients do.
    for email in [row.email] if row is not None else data.to:
        await stop_sequence(services, email, status, background)
