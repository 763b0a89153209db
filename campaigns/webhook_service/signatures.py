"""Webhook signatures, always checked over the raw body bytes (re-serialised JSON would differ).

Two schemes arrive here:
- Standard Webhooks, which is what Svix (and so Resend) uses with `svix-` instead of `webhook-`
  header names: `base64(HMAC-SHA256(key, "<id>.<timestamp>.<body>"))` in a space-separated list
  of `v1,<signature>` entries, the key being the base64 part of a `whsec_...` secret, and a
  timestamp that must be within five minutes of now. The website signs signups this way.
- Cal.com: `X-Cal-Signature-256` is the hex HMAC-SHA256 of the body under the plain secret.

Every failure raises `WebhookSignatureError` (HTTP 401) with a message safe to show the sender.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from collections.abc import Callable, Mapping

from campaigns.errors import SettingsError, WebhookSignatureError

TOLERANCE_SECONDS = 5 * 60
MAX_ID_LENGTH = 256
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_MAX_SIGNATURES = 10  # entries in one header; a few are enough for a secret rotation


def _latin1(value: str) -> bytes:
    """Header values as the bytes that came in (Starlette decodes headers as latin-1)."""
    return value.encode("latin-1", "replace")


def decode_whsec(secret: str, setting: str) -> bytes:
    """The HMAC key of a `whsec_<base64>` secret; `SettingsError` naming the setting otherwise."""
    encoded = secret.strip().removeprefix("whsec_")
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) < 16:
        raise SettingsError(
            f"{setting} must be a whsec_ secret: 'whsec_' followed by the base64 of at least "
            "16 random bytes, as the sender's dashboard shows it."
        )
    return key


class StandardWebhookVerifier:
    """Checks one Standard Webhooks scheme: `prefix` is `webhook` (website) or `svix` (Resend)."""

    def __init__(
        self, key: bytes, prefix: str = "webhook", clock: Callable[[], float] = time.time
    ) -> None:
        self._key = key
        self._prefix = prefix
        self._clock = clock

    def verify(self, headers: Mapping[str, str], body: bytes) -> str:
        """The message id of a correctly signed, fresh request; `WebhookSignatureError` if not."""
        msg_id = self._header(headers, "id")
        timestamp = self._header(headers, "timestamp")
        signatures = self._header(headers, "signature")
        if len(msg_id) > MAX_ID_LENGTH or not msg_id.isascii() or not msg_id.isprintable():
            raise WebhookSignatureError(f"The {self._prefix}-id header is malformed.")
        if not _TIMESTAMP.fullmatch(timestamp):
            raise WebhookSignatureError(f"The {self._prefix}-timestamp header is malformed.")
        if abs(self._clock() - int(timestamp)) > TOLERANCE_SECONDS:
            raise WebhookSignatureError(
                f"The {self._prefix}-timestamp is more than five minutes away from now."
            )
        signed = f"{msg_id}.{timestamp}.".encode("ascii") + body
        expected = base64.b64encode(hmac.new(self._key, signed, hashlib.sha256).digest())
        for entry in signatures.split()[:_MAX_SIGNATURES]:
            version, _, candidate = entry.partition(",")
            if version == "v1" and hmac.compare_digest(expected, _latin1(candidate)):
                return msg_id
        raise WebhookSignatureError(f"No valid signature in the {self._prefix}-signature header.")

    def _header(self, headers: Mapping[str, str], name: str) -> str:
        value = (headers.get(f"{self._prefix}-{name}") or "").strip()
        if not value:
            raise WebhookSignatureError(f"The {self._prefix}-{name} header is missing.")
        return value


def verify_cal_signature(secret: str, headers: Mapping[str, str], body: bytes) -> None:
    """Check Cal.com's `X-Cal-Signature-256` (hex HMAC-SHA256 of the raw body)."""
    given = (headers.get("x-cal-signature-256") or "").strip().lower()
    if not given:
        raise WebhookSignatureError("The X-Cal-Signature-256 header is missing.")
    expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode("ascii"), _latin1(given)):
        raise WebhookSignatureError("The X-Cal-Signature-256 header does not match the body.")
