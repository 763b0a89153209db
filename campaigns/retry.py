"""What is worth another try, and the wait before it: shared by every adapter and flow."""

from __future__ import annotations

import random


def retryable_status(status: int) -> bool:
    """An HTTP answer a later try may change: rate limited (429) or a server failure (5xx)."""
    return status == 429 or status >= 500


def retry_delay(
    attempt: int, retry_after: str | None, *, backoff_seconds: float, max_wait_seconds: float
) -> float:
    """Honour a numeric `Retry-After`; else exponential backoff with jitter, capped.

    Jitter keeps the seven send processes of one contact, or many contacts hitting the same
    rate limit, from retrying in lockstep.
    """
    if retry_after:
        try:
            return min(max_wait_seconds, max(0.0, float(retry_after)))
        except ValueError:
            pass  # an HTTP-date Retry-After is not used by either service; fall back to backoff
    backoff = backoff_seconds * 2.0 ** (attempt - 1)
    return min(max_wait_seconds, backoff * (0.5 + random.random() / 2))  # noqa: S311
