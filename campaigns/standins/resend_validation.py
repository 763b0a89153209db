"""Validation of `POST /emails` bodies in the Resend stand-in, with Resend's names and messages.

A missing field is 422 `missing_required_field`; a present but malformed one is 422
`validation_error`. Passing validation yields the normalised outbox record (`to`, `cc`, `bcc` and
`reply_to` always lists), so tests compare one shape whatever form the sender used.
"""

from __future__ import annotations

import re
from typing import Any

from campaigns.standins._wire import ApiError

MAX_RECIPIENTS = 50
TAG_LIMIT = 256
_ADDRESS = re.compile(r"[^\s@<>,;]+@[^\s@<>,;]+\.[^\s@<>,;]+")
_NAMED = re.compile(r"\s*[^<>]*?\s*<([^<>]+)>\s*")
_TAG = re.compile(rf"[A-Za-z0-9_-]{{1,{TAG_LIMIT}}}")
FROM_FORMAT = (
    "Invalid `{field}` field. The email address needs to follow the "
    "`email@example.com` or `Name <email@example.com>` format."
)


def invalid(message: str) -> ApiError:
    return ApiError(422, "validation_error", message)


def missing(field: str) -> ApiError:
    return ApiError(422, "missing_required_field", f"Missing `{field}` field.")


def valid_address(value: Any, named: bool) -> bool:
    """`addr@domain.tld`, or `Name <addr@domain.tld>` where a display name is allowed."""
    if not isinstance(value, str):
        return False
    match = _NAMED.fullmatch(value) if named else None
    address = match.group(1) if match else value.strip()
    return _ADDRESS.fullmatch(address) is not None


def _addresses(body: dict[str, Any], field: str, required: bool) -> list[str] | None:
    raw = body.get(field)
    if raw is None or raw == [] or raw == "":
        if required:
            raise missing(field)
        return None
    values = [raw] if isinstance(raw, str) else raw
    if not isinstance(values, list) or not all(valid_address(v, True) for v in values):
        raise invalid(FROM_FORMAT.format(field=field))
    if len(values) > MAX_RECIPIENTS:
        raise invalid(
            f"Too many recipients in the `{field}` field: {len(values)}. "
            f"The maximum is {MAX_RECIPIENTS}."
        )
    return list(values)


def _headers(raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise invalid("The `headers` field must be an object whose values are strings.")
    return dict(raw)


def _tags(raw: Any) -> list[dict[str, str]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise invalid("The `tags` field must be an array of `{name, value}` objects.")
    tags = []
    for i, tag in enumerate(raw):
        if not isinstance(tag, dict) or "name" not in tag:
            raise invalid(f"`tags[{i}]` must be an object with a `name` and a `value`.")
        for part in ("name", "value"):
            value = tag.get(part, "")
            if part == "value" and value in ("", None):
                continue
            if not isinstance(value, str) or not _TAG.fullmatch(value):
                raise invalid(
                    f"The tag {part} `{value}` should only contain ASCII letters (a-z, A-Z), "
                    f"numbers (0-9), underscores (_), or dashes (-), and be at most "
                    f"{TAG_LIMIT} characters long."
                )
        tags.append({"name": tag["name"], "value": tag.get("value") or ""})
    return tags


def _content(body: dict[str, Any]) -> None:
    for field in ("html", "text"):
        if body.get(field) is not None and not isinstance(body[field], str):
            raise invalid(f"The `{field}` field must be a string.")
    has_body = any(isinstance(body.get(f), str) and body[f] for f in ("html", "text"))
    if not has_body and not body.get("template") and not body.get("react"):
        raise ApiError(422, "missing_required_field", "Missing `html` or `text` field.")


def validate_email(body: Any, batch: bool = False) -> dict[str, Any]:
    """The normalised email, or the 422 Resend would answer for this body."""
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object.")
    sender = body.get("from")
    if sender in (None, ""):
        raise missing("from")
    if not valid_address(sender, True):
        raise invalid(FROM_FORMAT.format(field="from"))
    to = _addresses(body, "to", required=True)
    subject = body.get("subject")
    if subject in (None, ""):
        raise missing("subject")
    if not isinstance(subject, str):
        raise invalid("The `subject` field must be a string.")
    _content(body)
    if batch:
        for field in ("scheduled_at", "attachments"):
            if body.get(field) is not None:
                raise invalid(f"The `{field}` field is not supported in batch emails.")
    scheduled = body.get("scheduled_at")
    if scheduled is not None and not isinstance(scheduled, str):
        raise invalid("The `scheduled_at` field must be an ISO 8601 string.")
    return {
        "from": sender,
        "to": to,
        "subject": subject,
        "html": body.get("html"),
        "text": body.get("text"),
        "cc": _addresses(body, "cc", required=False),
        "bcc": _addresses(body, "bcc", required=False),
        "reply_to": _addresses(body, "reply_to", required=False),
        "headers": _headers(body.get("headers")),
        "tags": _tags(body.get("tags")),
        "scheduled_at": scheduled,
    }
