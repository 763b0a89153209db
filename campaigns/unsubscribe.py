"""Unsubscribe tokens: the link names the contact to us alone, and only we can make one.

A token is the lower-cased address encrypted with AES-SIV under a key derived from
`UNSUBSCRIBE_SECRET` (`cryptography`): decoding it reveals nothing of the address, and an altered
or forged token fails authentication and changes nothing. AES-SIV is deterministic on purpose:
one address always gives the same link, so an email rendered again for a retried send is the
same email, as Resend's idempotency key requires. Tokens do not expire: RFC 8058 links must keep
working for as long as the email sits in an inbox.

Links sent before (`v1`: the address signed with itsdangerous, readable by anyone who decodes
it) are still accepted, so no email already in an inbox loses its link.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlencode

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from itsdangerous import BadSignature, URLSafeSerializer

from campaigns.errors import InvalidUnsubscribeToken

_PREFIX = "v2."
_CONTEXT = b"campaigns.unsubscribe.v2"
_LEGACY_SALT = "campaigns.unsubscribe.v1"


def _cipher(secret: str) -> AESSIV:
    if not secret:
        raise ValueError("an unsubscribe secret is required")
    key = HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=_CONTEXT).derive(
        secret.encode("utf-8")
    )
    return AESSIV(key)


def make_token(email: str, secret: str) -> str:
    """The token of this address: opaque, URL-safe, the same every time."""
    sealed = _cipher(secret).encrypt(email.strip().lower().encode("utf-8"), [_CONTEXT])
    return _PREFIX + base64.urlsafe_b64encode(sealed).decode("ascii").rstrip("=")


def read_token(token: str, secret: str) -> str:
    """The address a valid token names; `InvalidUnsubscribeToken` otherwise."""
    email = _open(token, secret) if token.startswith(_PREFIX) else _read_legacy(token, secret)
    if not isinstance(email, str) or "@" not in email:
        raise InvalidUnsubscribeToken("The unsubscribe link does not name a contact.")
    return email


def _open(token: str, secret: str) -> str:
    body = token.removeprefix(_PREFIX)
    try:
        sealed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        return _cipher(secret).decrypt(sealed, [_CONTEXT]).decode("utf-8")
    except (binascii.Error, ValueError, InvalidTag, UnicodeDecodeError):
        raise InvalidUnsubscribeToken("The unsubscribe link is invalid or was altered.") from None


def _read_legacy(token: str, secret: str) -> object:
    """A token of the links sent before v2: the address signed, not hidden."""
    if not secret:
        raise ValueError("an unsubscribe secret is required")
    try:
        return URLSafeSerializer(secret, salt=_LEGACY_SALT).loads(token)
    except BadSignature:
        raise InvalidUnsubscribeToken("The unsubscribe link is invalid or was altered.") from None


def unsubscribe_url(public_base_url: str, email: str, secret: str) -> str:
    """The one-click URL of the webhook service for this contact."""
    query = urlencode({"token": make_token(email, secret)})
    return f"{public_base_url.rstrip('/')}/unsubscribe?{query}"
