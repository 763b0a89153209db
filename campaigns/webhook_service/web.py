"""HTTP plumbing the routes share: bounded body reads and the service's error answers.

Every refusal is a `WebhookRejected` carrying its status; one handler turns it into the JSON
`{"detail": "<one sentence>"}` every client of the service gets.
"""

from __future__ import annotations

import logging
import re
import unicodedata

from fastapi import BackgroundTasks, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.requests import ClientDisconnect

from campaigns.errors import WebhookRejected

log = logging.getLogger("campaigns.webhooks")

RETRY_AFTER_SECONDS = 30
# A signup is under a kilobyte; Resend and Cal.com events a few (Cal.com's carry the booking).
SMALL_BODY_LIMIT = 64 * 1024
EVENT_BODY_LIMIT = 256 * 1024
_LENGTH = re.compile(r"[0-9]{1,20}")
EVENT_NAME = r"^[A-Za-z0-9_.:-]+$"  # what an event type may look like (it is logged)
_MAX_REPORTED = 20  # validation errors named in one answer


def unavailable(message: str) -> WebhookRejected:
    """A 503 telling the sender to try again in `RETRY_AFTER_SECONDS` (nothing was lost)."""
    return WebhookRejected(message, status=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def invalid_body(what: str, exc: ValidationError, status: int = 400) -> WebhookRejected:
    """A refusal naming each bad field of the body in one line (never echoing values)."""
    problems = [
        f"{_one_line('.'.join(map(str, err['loc'])) or 'body', 60)}: {_one_line(err['msg'], 200)}"
        for err in exc.errors(include_url=False, include_input=False)[:_MAX_REPORTED]
    ]
    return WebhookRejected(f"Invalid {what}: {'; '.join(problems)}.", status=status)


def _one_line(text: str, limit: int) -> str:
    """Text fit for a one-line message: an unknown key or a quoted character may hold anything."""
    text = "".join(c if unicodedata.category(c)[0] != "C" else "?" for c in text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it is known to exceed `limit` bytes.

    A client that goes away before its body is complete is an everyday event, not a failure of
    the service: one line is logged and the request ends with an answer nobody reads.
    """
    declared = request.headers.get("content-length", "")
    if _LENGTH.fullmatch(declared) and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
    except ClientDisconnect:
        log.info(
            "A client disconnected after %d bytes of its %s %s body; nothing was done.",
            size,
            request.method,
            request.url.path,
        )
        raise WebhookRejected(
            "The client disconnected before the body was complete.", status=400
        ) from None
    return b"".join(chunks)


def _too_large(limit: int) -> WebhookRejected:
    return WebhookRejected(f"The body is larger than {limit} bytes.", status=413)


def wants_html(request: Request) -> bool:
    """True for a browser (a person clicking a link), false for a mail client or a script."""
    return "text/html" in request.headers.get("accept", "")


def rejection(exc: WebhookRejected, background: BackgroundTasks | None = None) -> JSONResponse:
    """The JSON answer to a refusal; a route returns it itself when `background` must still run."""
    return JSONResponse(
        {"detail": str(exc)}, status_code=exc.status, headers=exc.headers, background=background
    )


async def rejected_handler(request: Request, exc: Exception) -> JSONResponse:
    """The JSON answer to a `WebhookRejected` (registered on the app)."""
    assert isinstance(exc, WebhookRejected)
    return rejection(exc)
