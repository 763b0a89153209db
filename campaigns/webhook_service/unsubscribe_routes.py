"""`GET` and `POST /unsubscribe?token=...`: the link in every footer and `List-Unsubscribe` header.

GET only shows a page with a button and changes nothing, because mail scanners open links. POST
(RFC 8058's `List-Unsubscribe=One-Click` from a mail client, or the button) marks the contact
Unsubscribed and answers 200 whether or not the address is on the list, so the answer reveals
nothing; it is idempotent. A forged or altered token gets a 400 and changes nothing. The body of
the POST is not inspected: the signed token is the authority, whatever the client sent with it.

A link is public and may be POSTed by anyone who has it, as often as they like, so each link
(there is one per address) has a request budget, beyond which the answer is 429 with
`Retry-After`, and its Notion calls run in the unsubscribe lane (see `concurrency`), never in
the threads the signed webhooks use.
"""

from __future__ import annotations

import logging
from html import escape

from fastapi import BackgroundTasks, Request
from fastapi.responses import HTMLResponse, Response

from campaigns.errors import InvalidUnsubscribeToken, WebhookRejected
from campaigns.idempotency import contact_ref
from campaigns.models import SequenceStatus
from campaigns.retry import retryable_status
from campaigns.unsubscribe import read_token
from campaigns.webhook_service.concurrency import Lane
from campaigns.webhook_service.services import WebhookServices
from campaigns.webhook_service.stopping import stop_sequence
from campaigns.webhook_service.web import read_body, rejection, wants_html

log = logging.getLogger("campaigns.webhooks")
MAX_TOKEN_LENGTH = 1024
POST_BODY_LIMIT = 4 * 1024  # RFC 8058's body is 26 bytes
# The page may load nothing, run nothing and post only to this service; the token stays private.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex",
}
_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;"
    "line-height:1.5;color:#1a1a1a}button{font-size:1rem;padding:.6rem 1.4rem;cursor:pointer}"
)


def _page(title: str, paragraphs: list[str], form: str = "", status: int = 200) -> HTMLResponse:
    body = "".join(f"<p>{escape(text)}</p>" for text in paragraphs)
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main><h1>{escape(title)}</h1>{body}{form}</main></body></html>"
    )
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


def _email_of(services: WebhookServices, request: Request) -> str:
    """The address the token names; 400 for a missing, oversized, forged or altered token."""
    token = request.query_params.get("token", "")
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        raise WebhookRejected("The unsubscribe link has no valid token.", status=400)
    try:
        return read_token(token, services.unsubscribe_secret)
    except InvalidUnsubscribeToken as exc:
        raise WebhookRejected(str(exc), status=400) from None


def _spend_budget(services: WebhookServices, email: str) -> None:
    """Count this request against the link's budget; 429 with `Retry-After` beyond it."""
    wait = services.unsubscribe_budget.take(contact_ref(email))
    if wait:
        raise WebhookRejected(
            f"This link was used too often just now; try again in {wait} seconds.",
            status=429,
            headers={"Retry-After": str(wait)},
        )


def _refusal(request: Request, exc: WebhookRejected) -> Response:
    """A person in a browser gets a page; a mail client or a script gets the JSON error."""
    if not wants_html(request):
        return rejection(exc)
    later = retryable_status(exc.status)  # nothing wrong with the link: try again
    title = "Please try again" if later else "This link does not work"
    advice = (
        "We could not record your request just now. Please try again in a minute."
        if later
        else "Use the unsubscribe link of the most recent email, or reply to that email and "
        "ask to be removed."
    )
    response = _page(title, [str(exc), advice], status=exc.status)
    response.headers.update(exc.headers)
    return response


async def confirmation_page(services: WebhookServices, request: Request) -> Response:
    try:
        _email_of(services, request)
    except WebhookRejected as exc:
        return _refusal(request, exc)
    token = escape(request.query_params["token"], quote=True)
    form = (
        f'<form method="post" action="?token={token}">'
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
        '<button type="submit">Unsubscribe</button></form>'
    )
    return _page(
        "Unsubscribe",
        ["Press the button to stop receiving these emails. Nothing changes until you do."],
        form,
    )


async def unsubscribe(
    services: WebhookServices, request: Request, background: BackgroundTasks
) -> Response:
    try:
        await read_body(request, POST_BODY_LIMIT)
        email = _email_of(services, request)
        _spend_budget(services, email)
        changed = await stop_sequence(
            services, email, SequenceStatus.UNSUBSCRIBED, background, lane=Lane.UNSUBSCRIBE
        )
    except WebhookRejected as exc:
        return _refusal(request, exc)
    log.info("Unsubscribe for contact %s handled (changed: %s).", contact_ref(email), changed)
    return _page(
        "You are unsubscribed",
        ["You will not receive any more emails from this sequence."],
    )
