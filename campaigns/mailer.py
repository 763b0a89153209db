"""The Resend adapter: send one email, exactly once, with the headers bulk senders must carry.

The SDK has no retries, so the policy lives here: 429 `rate_limit_exceeded` waits `retry-after`,
5xx and network failures back off, and every attempt carries the same `Idempotency-Key`, so an
attempt that reached Resend before the connection dropped is answered with the original email id
instead of a second email. Validation errors and quota exhaustion are never retried.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from typing import Any, cast

import resend
import resend.exceptions
from pydantic import BaseModel, ConfigDict, EmailStr, Field, SecretStr

from campaigns import errors
from campaigns.retry import retry_delay, retryable_status
from campaigns.settings import Settings

log = logging.getLogger("campaigns.resend")
_SDK_LOCK = threading.Lock()  # the SDK keeps key, URL and HTTP client in module globals
_QUOTA = {"daily_quota_exceeded", "monthly_quota_exceeded"}
_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
# The Resend tag naming the campaign an email belongs to; its webhooks are matched on it.
CAMPAIGN_TAG = "campaign"


class OutgoingEmail(BaseModel):
    """One rendered email for one recipient."""

    model_config = ConfigDict(frozen=True)

    to: EmailStr
    subject: str = Field(min_length=1, max_length=998)
    html: str = Field(min_length=1)
    text: str = Field(min_length=1)
    unsubscribe_url: str = Field(pattern=r"^https?://")
    tags: dict[str, str] = Field(default_factory=dict)


class SentEmail(BaseModel):
    id: str
    attempts: int


class ResendMailer:
    """Sends through the `resend` SDK with the project's retry and idempotency rules."""

    def __init__(
        self,
        api_key: SecretStr | None,
        base_url: str,
        sender: str,
        reply_to: str | None = None,
        *,
        max_attempts: int = 5,
        backoff_seconds: float = 1.0,
        max_wait_seconds: float = 60.0,
        timeout_seconds: int = 20,
    ):
        self._api_key = api_key
        self._base_url = base_url.rstrip("/")
        self._sender = sender
        self._reply_to = reply_to
        self._max_attempts = max_attempts
        self._backoff = backoff_seconds
        self._max_wait = max_wait_seconds
        self._http = resend.RequestsClient(timeout=timeout_seconds)

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> ResendMailer:
        resend = settings.resend
        return cls(
            resend.api_key,
            settings.resend_base_url,
            resend.email_from,
            resend.reply_to,
            **options,
        )

    def payload(self, email: OutgoingEmail) -> dict[str, Any]:
        """The JSON body of `POST /emails` for this email (identical on every attempt)."""
        unsubscribe = [f"<{email.unsubscribe_url}>"]  # RFC 8058: the https URL comes first
        if self._reply_to:
            unsubscribe.append(f"<mailto:{_address(self._reply_to)}?subject=unsubscribe>")
        body: dict[str, Any] = {
            "from": self._sender,
            "to": [email.to],
            "subject": email.subject,
            "html": email.html,
            "text": email.text,
            "headers": {
                "List-Unsubscribe": ", ".join(unsubscribe),
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
            "tags": [
                {"name": _tag(name), "value": _tag(value)} for name, value in email.tags.items()
            ],
        }
        if self._reply_to:
            body["reply_to"] = self._reply_to
        return body

    def send(self, email: OutgoingEmail, idempotency_key: str) -> SentEmail:
        """Send once; retry only what is retryable, always with the same idempotency key."""
        if self._api_key is None or not self._api_key.get_secret_value().strip():
            raise errors.ResendNotConfigured(
                "RESEND_API_KEY is not set; refusing to call Resend without a key."
            )
        params = cast(resend.Emails.SendParams, self.payload(email))
        options: resend.Emails.SendOptions = {"idempotency_key": idempotency_key}
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._call(lambda: resend.Emails.send(params, options))
                return SentEmail(id=str(response["id"]), attempts=attempt)
            except resend.exceptions.ResendError as exc:
                delay = self._classify(exc, idempotency_key, attempt)
                failure = exc
            if attempt >= self._max_attempts:
                raise errors.ResendUnavailable(
                    f"Resend still failing after {attempt} attempts for send {idempotency_key}: "
                    f"{_described(failure)}",
                    status=_status(failure),
                    name=failure.error_type,
                ) from failure
            log.info(
                "Resend call for send %s failed (%s); retrying in %.1f s (attempt %d of %d).",
                idempotency_key,
                _described(failure),
                delay,
                attempt + 1,
                self._max_attempts,
            )
            time.sleep(delay)

    def get(self, email_id: str) -> dict[str, Any]:
        """The email object Resend holds for this id (`GET /emails/{id}`)."""
        try:
            return dict(self._call(lambda: resend.Emails.get(email_id)))
        except resend.exceptions.ResendError as exc:
            raise errors.ResendError(
                f"Reading Resend email {email_id} failed: HTTP {exc.code} {exc.error_type}: {exc}",
                status=_status(exc),
                name=exc.error_type,
            ) from exc

    def _call(self, fn: Any) -> Any:
        with _SDK_LOCK:
            resend.api_key = self._api_key.get_secret_value() if self._api_key else None
            resend.api_url = self._base_url
            resend.default_http_client = self._http
            return fn()

    def _classify(self, exc: resend.exceptions.ResendError, key: str, attempt: int) -> float:
        """Raise for what must not be retried; otherwise return the wait before the next try."""
        status, name = _status(exc), str(exc.error_type)
        if status == 429 and name in _QUOTA:
            raise errors.ResendQuotaExceeded(
                f"Resend quota used up ({name}) for send {key}; not retrying.",
                status=status,
                name=name,
            ) from exc
        if status == 409 and name == "invalid_idempotent_request":
            raise errors.ResendIdempotencyConflict(
                f"Resend already holds send {key} with a different payload; an email with this key "
                "may already be out, so it is not sent again.",
                status=status,
                name=name,
            ) from exc
        # 409 concurrent_idempotent_requests: the first attempt is still in flight at Resend.
        in_flight = status == 409 and name == "concurrent_idempotent_requests"
        if not (retryable_status(status) or in_flight):
            raise errors.ResendRejected(
                f"Resend refused send {key}: {_described(exc)}", status=status, name=name
            ) from exc
        retry_after = {k.lower(): v for k, v in (exc.headers or {}).items()}.get("retry-after")
        delay = retry_delay(
            attempt, retry_after, backoff_seconds=self._backoff, max_wait_seconds=self._max_wait
        )
        # An attempt still in flight at Resend needs time to finish, whatever the backoff says.
        return max(delay, float(attempt)) if in_flight else delay


def _status(exc: resend.exceptions.ResendError) -> int:
    try:
        return int(exc.code)
    except (TypeError, ValueError):
        return 500


def _described(exc: resend.exceptions.ResendError) -> str:
    return f"HTTP {_status(exc)} {exc.error_type}: {exc.message}"


def _tag(value: str) -> str:
    """Resend tags allow only ASCII letters, digits, `_` and `-` (at most 256 characters)."""
    return _TAG_UNSAFE.sub("_", value)[:256] or "_"


def _address(sender: str) -> str:
    """The bare address of `Name <addr>` or `addr`."""
    match = re.search(r"<([^>]+)>", sender)
    return (match.group(1) if match else sender).strip()
