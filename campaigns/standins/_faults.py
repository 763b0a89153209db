"""Rate limiting and scripted failures, shared by the Notion and Resend stand-ins.

Both are driven by tests that need to see a client cope with a 429 or a 500 at a precise moment,
so they are deterministic: the bucket refills from a monotonic clock, and an injected failure
fires for exactly `count` matching requests.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

When = Literal["before", "after"]


class TokenBucket:
    """`rate` requests per second on average, up to `burst` at once; `rate=None` never limits."""

    def __init__(
        self, rate: float | None, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate is not None and rate <= 0:
            raise ValueError("rate must be positive (or None for no limit)")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = float(burst)
        self._stamp = clock()

    def _refill(self) -> None:
        now = self._clock()
        if self.rate is not None:
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def take(self) -> float:
        """Spend one token: 0.0 when granted, else the seconds until a token is available."""
        if self.rate is None:
            return 0.0
        with self._lock:
            self._refill()
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return 0.0
            return (1.0 - self._tokens) / self.rate

    def retry_after(self, wait: float) -> int:
        """`Retry-After` must be a whole number of seconds, and 0 would invite a hot loop."""
        return max(1, math.ceil(wait))

    def snapshot(self) -> tuple[int, int, int]:
        """(limit, remaining, seconds until full), as the IETF `ratelimit-*` headers want."""
        if self.rate is None:
            return self.burst, self.burst, 1
        with self._lock:
            self._refill()
            missing = self.burst - self._tokens
            return self.burst, int(self._tokens), max(1, math.ceil(missing / self.rate))

    def reset(self) -> None:
        with self._lock:
            self._tokens = float(self.burst)
            self._stamp = self._clock()


@dataclass
class Failure:
    """One scripted failure; `status=None` with a `delay` only slows the request down."""

    method: str | None = None
    path: str | None = None
    status: int | None = 500
    code: str | None = None
    message: str | None = None
    count: int | None = 1  # None: every matching request, until cleared
    retry_after: int | None = None
    delay: float | None = None
    when: When = "before"

    def __post_init__(self) -> None:
        if self.when not in ("before", "after"):
            raise ValueError("when must be 'before' or 'after'")
        if self.status is not None and not 400 <= self.status <= 599:
            raise ValueError("status must be an HTTP error status (400-599) or null")
        if self.count is not None and self.count < 1:
            raise ValueError("count must be at least 1 (or null for every request)")
        if self.delay is not None and self.delay < 0:
            raise ValueError("delay must not be negative")
        if self.path is not None:
            re.compile(self.path)  # fail when scripted, not on the request it was meant for
        if self.method is not None:
            self.method = self.method.upper()

    @classmethod
    def from_json(cls, data: Any) -> Failure:
        """Build from the JSON body of `POST /__standin/failures`; ValueError when malformed."""
        if not isinstance(data, dict):
            raise ValueError("the failure must be a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown failure field(s): {', '.join(unknown)}")
        try:
            return cls(**data)
        except (TypeError, re.error) as exc:
            raise ValueError(str(exc)) from exc

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method.upper():
            return False
        return self.path is None or re.search(self.path, path) is not None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class FailureInjector:
    """The scripted failures, consumed first-in first-out by matching requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: list[Failure] = []

    def add(self, failure: Failure) -> None:
        with self._lock:
            self._failures.append(failure)

    def take(self, method: str, path: str) -> Failure | None:
        """The first failure matching this request, counted as used (removed when spent)."""
        with self._lock:
            for failure in self._failures:
                if not failure.matches(method, path):
                    continue
                if failure.count is not None:
                    failure.count -= 1
                    if failure.count == 0:
                        self._failures.remove(failure)
                return failure
        return None

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [failure.to_json() for failure in self._failures]

    def clear(self) -> None:
        with self._lock:
            self._failures.clear()
