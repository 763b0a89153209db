"""`POST /webhooks/signup`: a signed signup from the website becomes one orchestrator run.

Order: size, signature and freshness (401), then the delivery's `webhook-id`: a replay (a retry
whose first 202 was lost) or a copy arriving while the first is still in flight gets the first
delivery's answer, 202 with the same run id, and starts nothing (see `dedup.ReplayAnswers`).
A new id: the signup model (422 naming each bad field), then the Prefect API (202 with the run
id, or 503 with `Retry-After`). Only a 202 is remembered, so a delivery that got a 503 can be
retried with the same id and does the work again.

The website sends JSON, so the body is validated in strict mode: a number in a string or a
boolean where an integer belongs is a 422, not a guess. `Signup` itself stays lax for its other
callers (the Prefect UI form and the CLI hand it parsed parameters).
"""

from __future__ import annotations

import logging

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from campaigns.christmas_campaign.sequence import CAMPAIGN
from campaigns.errors import DeploymentMissing, OrchestratorUnavailable
from campaigns.idempotency import contact_ref, signup_key
from campaigns.models import Signup
from campaigns.webhook_service.services import WebhookServices
from campaigns.webhook_service.web import SMALL_BODY_LIMIT, invalid_body, read_body, unavailable

log = logging.getLogger("campaigns.webhooks")


def parse_signup(body: bytes) -> Signup:
    """The validated signup, JSON types taken strictly; a 422 whose detail names every bad field."""
    try:
        return Signup.model_validate_json(body, strict=True)
    except ValidationError as exc:
        raise invalid_body("signup", exc, status=422) from None


async def handle_signup(services: WebhookServices, request: Request) -> JSONResponse:
    body = await read_body(request, SMALL_BODY_LIMIT)
    message_id = services.signup_verifier.verify(request.headers, body)
    run_id, replayed = await services.signup_answers.once(
        message_id, lambda: _start(services, message_id, body)
    )
    if replayed:
        log.info("Signup webhook %s was delivered again: orchestrator run %s.", message_id, run_id)
    return JSONResponse({"flow_run_id": run_id}, status_code=202)


async def _start(services: WebhookServices, message_id: str, body: bytes) -> str:
    """The orchestrator run of a new delivery's signup."""
    signup = parse_signup(body)
    try:
        run_id = await services.flow_runs.start_orchestrator(
            signup.model_dump(mode="json"), signup_key(CAMPAIGN, signup)
        )
    except (OrchestratorUnavailable, DeploymentMissing) as exc:
        log.warning("Signup webhook %s not accepted: %s", message_id, exc)
        raise unavailable("The orchestrator cannot be reached; retry later.") from exc
    log.info(
        "Signup webhook %s for contact %s: orchestrator run %s.",
        message_id,
        contact_ref(signup.email),
        run_id,
    )
    return run_id
