"""`POST /webhooks/booking`: a call booked on Cal.com is the goal; the sequence stops (Converted).

Cal.com signs the raw body with `X-Cal-Signature-256` (hex HMAC-SHA256 under the webhook's
secret, `BOOKING_WEBHOOK_SECRET`). Only `BOOKING_CREATED` acts; every other trigger (PING,
cancellations, reschedules) is acknowledged and ignored. Cal.com sends no timestamp or message id,
so a replay is possible, but harmless: marking a contact Converted twice changes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import BackgroundTasks, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from campaigns.idempotency import contact_ref
from campaigns.models import Email, SequenceStatus
from campaigns.webhook_service.services import WebhookServices
from campaigns.webhook_service.signatures import verify_cal_signature
from campaigns.webhook_service.stopping import stop_sequence
from campaigns.webhook_service.web import EVENT_BODY_LIMIT, EVENT_NAME, invalid_body, read_body

log = logging.getLogger("campaigns.webhooks")
BOOKING_CREATED = "BOOKING_CREATED"


class Attendee(BaseModel):
    model_config = ConfigDict(extra="ignore")
    email: Email


class Booking(BaseModel):
    """The part of Cal.com's `payload` this service uses: who booked."""

    model_config = ConfigDict(extra="ignore")
    attendees: list[Attendee] = Field(min_length=1, max_length=50)


class CalEvent(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    trigger_event: str = Field(alias="triggerEvent", max_length=100, pattern=EVENT_NAME)
    payload: dict[str, Any] = {}


async def handle_booking(
    services: WebhookServices, request: Request, background: BackgroundTasks
) -> JSONResponse:
    body = await read_body(request, EVENT_BODY_LIMIT)
    verify_cal_signature(services.booking_secret, request.headers, body)
    try:
        event = CalEvent.model_validate_json(body)
        booking = (
            Booking.model_validate(event.payload)
            if event.trigger_event == BOOKING_CREATED
            else None
        )
    except ValidationError as exc:
        raise invalid_body("Cal.com booking", exc) from None
    if booking is None:
        log.info("Cal.com event %s ignored.", event.trigger_event)
        return JSONResponse({"status": "ignored"})
    for attendee in booking.attendees:
        log.info("Cal.com booking by contact %s.", contact_ref(attendee.email))
        await stop_sequence(services, attendee.email, SequenceStatus.CONVERTED, background)
    return JSONResponse({"status": "processed"})
