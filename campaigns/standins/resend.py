"""A local, wire-compatible stand-in for the Resend email API.

It accepts what the `resend` SDK sends when `resend.api_url` points at it, validates like Resend,
honours `Idempotency-Key` the way Resend documents it, and keeps every accepted email in an
outbox (`.emails`, `GET /__standin/emails`) instead of delivering it. People read that outbox
in a browser at `/outbox/` (`outbox_page`): the demo's window onto its emails.

An idempotency key stays "in progress" until the reply of its first request has been written,
including any scripted "after" delay, so a retry sent while the first attempt hangs gets 409
`concurrent_idempotent_requests`, as at Resend.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from campaigns.standins._server import StandInServer
from campaigns.standins._wire import ApiError, Reply, Request, dump_json
from campaigns.standins.outbox_page import PATH as OUTBOX_PATH
from campaigns.standins.outbox_page import outbox_reply
from campaigns.standins.resend_validation import invalid, validate_email

IDEMPOTENCY_TTL = 24 * 3600.0
KEY_LIMIT = 256
BATCH_LIMIT = 100
CODES = {
    400: "validation_error",
    401: "missing_api_key",
    403: "invalid_api_key",
    404: "not_found",
    405: "method_not_allowed",
    409: "invalid_idempotent_request",
    422: "validation_error",
    429: "rate_limit_exceeded",
    500: "application_error",
}
_EMAIL_PATH = re.compile(r"/emails/(?P<id>[^/]+)")


def _fingerprint(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode("utf-8")).hexdigest()


class ResendStandIn(StandInServer):
    """The Resend API on 127.0.0.1: `POST /emails`, `POST /emails/batch`, `GET /emails/{id}`."""

    rate_limit_code: ClassVar[str] = "rate_limit_exceeded"
    rate_limit_message: ClassVar[str] = (
        "Too many requests. See the rate limit response headers for when to retry."
    )
    invalid_json: ClassVar[tuple[int, str, str]] = (
        400,
        "validation_error",
        "The request body is not valid JSON.",
    )

    def __init__(
        self,
        api_key: str | None = None,
        port: int = 0,
        rate_limit: float | None = None,
        burst: int = 2,
        state_path: Path | None = None,
        *,
        host: str = "127.0.0.1",
    ) -> None:
        super().__init__(
            host=host, port=port, rate_limit=rate_limit, burst=burst, state_path=state_path
        )
        self.api_key = api_key
        self._outbox: list[dict[str, Any]] = []
        self._keys: dict[str, dict[str, Any]] = {}  # "<endpoint> <key>" -> first request's record
        self._in_flight: dict[str, str] = {}  # request id -> idempotency record it holds open

    # --- the HTTP side -----------------------------------------------------------------------

    def authenticate(self, request: Request) -> None:
        scheme, _, key = (request.header("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise ApiError(
                401,
                "missing_api_key",
                "Missing API key in the authorization header. Include the following header "
                "Authorization: Bearer YOUR_API_KEY in the request.",
            )
        # The SDK sends the literal "Bearer None" when no key is set; Resend rejects it.
        if key == "None" or (self.api_key is not None and key != self.api_key):
            raise ApiError(403, "invalid_api_key", "API key is invalid")

    def error_body(self, status: int, code: str, message: str, request: Request) -> Any:
        return {"statusCode": status, "name": code, "message": message}

    def default_code(self, status: int) -> str:
        return CODES.get(status, "application_error" if status >= 500 else "validation_error")

    def decorate(self, reply: Reply, request: Request) -> None:
        limit, remaining, reset = self.limiter.snapshot()
        retry_after = reply.headers.pop("Retry-After", None)
        reply.headers.update(
            {
                "ratelimit-limit": str(limit),
                "ratelimit-remaining": str(remaining),
                "ratelimit-reset": str(reset),
                "x-request-id": request.id,
            }
        )
        if retry_after is not None or reply.status == 429:
            reply.headers["retry-after"] = retry_after or str(reset)

    def route(self, request: Request) -> Reply:
        path = request.path.rstrip("/")
        if path == "/emails/batch":
            self._allow(request, "POST")
            return self._idempotent(request, "batch", self._send_batch)
        if path == "/emails":
            self._allow(request, "POST")
            return self._idempotent(request, "emails", self._send_one)
        match = _EMAIL_PATH.fullmatch(path)
        if match:
            self._allow(request, "GET")
            return Reply(200, self._retrieve(match.group("id")))
        raise ApiError(404, "not_found", "The requested endpoint does not exist.")

    @staticmethod
    def _allow(request: Request, method: str) -> None:
        if request.method != method:
            raise ApiError(405, "method_not_allowed", "Method Not Allowed")

    def _idempotent(self, request: Request, scope: str, send: Any) -> Reply:
        """Replay, refuse or perform a send according to its `Idempotency-Key`."""
        key = request.header("Idempotency-Key")
        body = self.parse_json(request)
        if key is None:
            return Reply(200, send(request, body, None))
        if not 1 <= len(key) <= KEY_LIMIT:
            raise ApiError(400, "invalid_idempotency_key", "The key must be between 1-256 chars.")
        slot, fingerprint = f"{scope} {key}", _fingerprint(body)
        record = self._keys.get(slot)
        if record is not None and time.time() - record["at"] > IDEMPOTENCY_TTL:
            record = None  # forgotten after 24 hours, as at Resend
        if record is not None:
            if record["in_progress"]:
                raise ApiError(
                    409,
                    "concurrent_idempotent_requests",
                    "Same idempotency key used while original request is still in progress.",
                )
            if record["fingerprint"] != fingerprint:
                raise ApiError(
                    409,
                    "invalid_idempotent_request",
                    "Same idempotency key used with a different request payload.",
                )
            return Reply(200, copy.deepcopy(record["response"]))
        response = send(request, body, key)
        self._keys[slot] = {
            "fingerprint": fingerprint,
            "response": response,
            "at": time.time(),
            "in_progress": True,
        }
        self._in_flight[request.id] = slot
        return Reply(200, response)

    def finish(self, request: Request) -> None:
        with self.lock:
            slot = self._in_flight.pop(request.id, None)
            if slot in self._keys:
                self._keys[slot]["in_progress"] = False

    def _accept(self, email: dict[str, Any], body: Any, key: str | None, batch: bool) -> str:
        now = datetime.now(UTC)
        record = {
            "id": str(uuid.uuid4()),
            **email,
            "idempotency_key": key,
            "batch": batch,
            "received_at": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "created_at": now.isoformat(timespec="microseconds"),
            "body": copy.deepcopy(body),
        }
        self._outbox.append(record)
        self.mark_dirty()
        return str(record["id"])

    def _send_one(self, request: Request, body: Any, key: str | None) -> dict[str, Any]:
        email = validate_email(body)
        return {"id": self._accept(email, body, key, batch=False)}

    def _send_batch(self, request: Request, body: Any, key: str | None) -> dict[str, Any]:
        mode = (request.header("x-batch-validation") or "strict").lower()
        if mode not in ("strict", "permissive"):
            raise invalid("The `x-batch-validation` header must be `strict` or `permissive`.")
        if not isinstance(body, list) or not body:
            raise invalid("The request body must be a non-empty array of emails.")
        if len(body) > BATCH_LIMIT:
            raise invalid(f"Too many emails in the batch: {len(body)}. The maximum is 100.")
        valid: list[tuple[dict[str, Any], Any]] = []
        errors = []
        for index, item in enumerate(body):
            try:
                valid.append((validate_email(item, batch=True), item))
            except ApiError as exc:
                if mode == "strict":
                    raise ApiError(exc.status, exc.code, f"emails[{index}]: {exc.message}") from exc
                errors.append({"index": index, "message": exc.message})
        data = [{"id": self._accept(email, item, key, batch=True)} for email, item in valid]
        return {"data": data, "errors": errors} if mode == "permissive" else {"data": data}

    def _retrieve(self, email_id: str) -> dict[str, Any]:
        for email in self._outbox:
            if email["id"] == email_id:
                return _email_object(email)
        raise ApiError(404, "not_found", "Email not found")

    def control(self, request: Request) -> Reply | None:
        if request.path.rstrip("/") == "/__standin/emails" and request.method == "GET":
            return Reply(200, self.emails)
        return None

    def web_page(self, request: Request) -> Reply | None:
        """The outbox page (`outbox_page.PATH`): every accepted email, as its recipient sees it."""
        return outbox_reply(request.path, self.emails)

    @property
    def outbox_url(self) -> str:
        """Where people read the outbox in a browser."""
        return self.url + OUTBOX_PATH

    # --- the Python side ---------------------------------------------------------------------

    @property
    def emails(self) -> list[dict[str, Any]]:
        """Every accepted email, oldest first, with its body, idempotency key and arrival time."""
        with self.lock:
            return copy.deepcopy(self._outbox)

    def email(self, email_id: str) -> dict[str, Any]:
        """The email object `GET /emails/{id}` would return."""
        with self.lock:
            return self._retrieve(email_id)

    def dump_data(self) -> dict[str, Any]:
        data = {"emails": self._outbox, "idempotency": self._keys}
        return dict(json.loads(dump_json(data)))

    def load_data(self, data: dict[str, Any]) -> None:
        self._outbox = list(data.get("emails", []))
        self._keys = dict(data.get("idempotency", {}))
        for record in self._keys.values():
            record["in_progress"] = False  # whatever was in flight has long finished

    def clear_data(self) -> None:
        self._outbox = []
        self._keys = {}
        self._in_flight = {}


def _email_object(email: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "email",
        "id": email["id"],
        "to": list(email["to"]),
        "from": email["from"],
        "created_at": email["created_at"],
        "subject": email["subject"],
        "html": email["html"],
        "text": email["text"],
        "bcc": email["bcc"],
        "cc": email["cc"],
        "reply_to": email["reply_to"],
        "last_event": "scheduled" if email["scheduled_at"] else "delivered",
        "scheduled_at": email["scheduled_at"],
        "tags": copy.deepcopy(email["tags"]),
        "headers": dict(email["headers"]),
    }
