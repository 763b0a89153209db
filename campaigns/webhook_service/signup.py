"""`POST /webhooks/signup`: a signed signup from the website becomes one orchestrator run.

Order: size, signature and freshness (401), replayed `webhook-id` (401), the signup model (422
naming each bad field), then the Prefect API (202 with the run id, or 503 with `Retry-After`).
The `webhook-id` is remembered only after the 202, so a delivery that got a 503 can be retried.
"""

from __future__ import annotations

import hashlib
import json
import logging
from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from campaigns.christmas_campaign.sequence import CAMPAIGN
from campaigns.errors import DeploymentMissing, OrchestratorUnavailable, WebhookSignatureError
from campaigns.idempotency import contact_ref
from campaigns.models import Signup
from campaigns.webhook_service.services import Services
from campaigns.webhook_service.web import SMALL_BODY_LIMIT, invalid_body, read_body, unavailable

log = logging.getLogger("campaigns.webhooks")


def signup_key(signup: Signup) -> str:
    """The Prefect idempotency key of a signup: the same answers give the same key, always."""
    values = {name: _canonical(value) for name, value in signup.model_dump().items()}
    canonical = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return f"{CAMPAIGN}/signup/{hashlib.sha256(canonical.encode('ascii')).hexdigest()}"


def _canonical(value: Any) -> Any:
    """Decimals as plain normalised text, so 14700 and 14700.00 are one signup."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value


def parse_signup(body: bytes) -> Signup:
    """The validated signup; a 422 whose detail names every bad field."""
    try:
        return Signup.model_validate_json(body)
    except ValidationError as exc:
        raise invalid_body("signup", exc, status=422) from None


async def handle_signup(services: Services, request: Request) -> JSONResponse:
    body = await read_body(request, SMALL_BODY_LIMIT)
    message_id = services.signup_verifier.verify(request.headers, body)
    if services.signup_ids.seen(message_id):
        raise WebhookSignatureError("This webhook-id was already delivered; replays are refused.")
    signup = parse_signup(body)
    key = signup_key(signup)
    try:
        run_id = await services.flow_runs.start_orchestrator(signup.model_dump(mode="json"), key)
    except (OrchestratorUnavailable, DeploymentMissing) as exc:
        log.warning("Signup webhook %s not accepted: %s", message_id, exc)
        raise unavailable("The orchestrator cannot be reached; retry later.") from exc
    services.signup_ids.remember(message_id)
    log.info(
        "Signup webhook %s for contact %s: orchestrator run %s.",
        message_id,
        contact_ref(signup.email),
        run_id,
    )
    return JSONResponse({"flow_run_id": run_id}, status_code=202)
