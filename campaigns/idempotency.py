"""Deterministic idempotency keys: the same logical action always gets the same key.

Keys go to Prefect (flow-run idempotency keys, unique per flow and kept forever) and to Resend
(`Idempotency-Key`, kept 24 h). The contact's address is hashed, so keys shown in the Prefect UI
and sent to Resend carry no personal data, and every key stays far below Resend's 256 characters.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from campaigns.models import Signup


def contact_ref(email: str) -> str:
    """A short, stable, non-reversible reference to a contact's (lower-cased) address."""
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()[:20]


def enrollment_ref(enrolled_at: datetime) -> str:
    """The enrollment instant in UTC, to the second, as a compact token."""
    if enrolled_at.tzinfo is None:
        raise ValueError("enrolled_at must be timezone-aware")
    return enrolled_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def send_key(campaign: str, email: str, email_number: int) -> str:
    """One key per (campaign, contact, email number): the Resend send and its log row."""
    return f"{campaign}/send/{contact_ref(email)}/{email_number}"


def enrollment_key(campaign: str, email: str, enrolled_at: datetime) -> str:
    """One key per (campaign, contact, enrollment): a re-triggered orchestrator finds it again."""
    return f"{campaign}/enroll/{contact_ref(email)}/{enrollment_ref(enrolled_at)}"


def step_run_key(campaign: str, email: str, enrolled_at: datetime, email_number: int) -> str:
    """The Prefect flow-run key of one scheduled step of one enrollment."""
    return f"{enrollment_key(campaign, email, enrolled_at)}/{email_number}"


def redrive_key(lost_run_key: str, attempt: int) -> str:
    """The Prefect key of the reconciler's `attempt`-th new run of a lost step or signup.

    Built on the key of the step (or signup) it replaces, so the step's runs still share one
    prefix, and two reconciler passes that see the same loss create one run between them.
    """
    return f"{lost_run_key}/redrive-{attempt}"


def defer_key(step_key: str, deferring_run_id: str) -> str:
    """The Prefect key of the run a send run creates when it defers its step: one per deferring
    run, so a retry of that run finds the same next run."""
    return f"{step_key}/defer-{deferring_run_id}"


def signup_run_key(campaign: str, email: str, lost_run_id: str) -> str:
    """The key of a signup's orchestrator run that replaces the lost run `lost_run_id`."""
    return f"{campaign}/signup/{contact_ref(email)}/{lost_run_id}"


def signup_key(campaign: str, signup: Signup) -> str:
    """The Prefect idempotency key of a signup: the same answers give the same key, always."""
    values = {name: _canonical(value) for name, value in signup.model_dump().items()}
    if values.get("timezone") is None:
        del values["timezone"]  # a signup without a zone keeps the key it had before the field
    canonical = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return f"{campaign}/signup/{hashlib.sha256(canonical.encode('ascii')).hexdigest()}"


def _canonical(value: Any) -> Any:
    """Decimals as plain normalised text, so 14700 and 14700.00 are one signup."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value
