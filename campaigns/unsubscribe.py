"""Signed unsubscribe tokens: the link names the contact, and only we can make one.

itsdangerous signs the lower-cased address with HMAC under `UNSUBSCRIBE_SECRET`; an altered or
forged token fails verification and changes nothing. Tokens do not expire: RFC 8058 links must
keep working for as long as the email sits in an inbox.
"""

from __future__ import annotations

from urllib.parse import urlencode

from itsdangerous import BadSignature, URLSafeSerializer

from campaigns.errors import InvalidUnsubscribeToken

_SALT = "campaigns.unsubscribe.v1"


def _serializer(secret: str) -> URLSafeSerializer:
    if not secret:
        raise ValueError("an unsubscribe secret is required")
    return URLSafeSerializer(secret, salt=_SALT)


def make_token(email: str, secret: str) -> str:
    return str(_serializer(secret).dumps(email.strip().lower()))


def read_token(token: str, secret: str) -> str:
    """The address a valid token names; `InvalidUnsubscribeToken` otherwise."""
    try:
        email = _serializer(secret).loads(token)
    except BadSignature:
        raise InvalidUnsubscribeToken("The unsubscribe link is invalid or was altered.") from None
    if not isinstance(email, str) or "@" not in email:
        raise InvalidUnsubscribeToken("The unsubscribe link does not name a contact.")
    return email


def unsubscribe_url(public_base_url: str, email: str, secret: str) -> str:
    """The one-click URL of the webhook service for this contact."""
    query = urlencode({"token": make_token(email, secret)})
    return f"{public_base_url.rstrip('/')}/unsubscribe?{query}"
