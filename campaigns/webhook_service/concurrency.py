"""Sharing the process fairly: per-key turns, thread lanes and request budgets.

- `KeyedLocks`: one turn at a time per key (a signup's idempotency key, a contact).
- Lanes: every blocking Notion call runs in a worker thread, and Notion allows about three calls
  a second. Unsubscribe links are public, so their calls get a lane of their own with a couple of
  threads; Resend, Cal.com and /healthz use the webhook lane. However many unsubscribes wait,
  they hold at most `LANE_THREADS[Lane.UNSUBSCRIBE]` threads and places in Notion's queue.
- `RequestBudget`: at most so many requests per key in a sliding window (an unsubscribe link).
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from enum import StrEnum

import anyio

from campaigns.webhook_service.dedup import DEFAULT_MAX_SIZE, ExpiringMap


class Lane(StrEnum):
    WEBHOOKS = "webhooks"  # signed deliveries from Resend and Cal.com, and /healthz
    UNSUBSCRIBE = "unsubscribe"  # the public one-click links


LANE_THREADS = {Lane.WEBHOOKS: 8, Lane.UNSUBSCRIBE: 2}


def lane_limiters() -> dict[Lane, anyio.CapacityLimiter]:
    """One bounded set of worker threads per lane, for `anyio.to_thread.run_sync`."""
    return {lane: anyio.CapacityLimiter(threads) for lane, threads in LANE_THREADS.items()}


class KeyedLocks:
    """One `asyncio.Lock` per key while anyone holds or waits for it; forgotten afterwards."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


class RequestBudget:
    """At most `requests` per `window_seconds` for each key, in a sliding window."""

    def __init__(
        self,
        requests: int,
        window_seconds: float,
        max_keys: int = DEFAULT_MAX_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._requests = requests
        self._window = window_seconds
        self._clock = clock
        # A key not used for a whole window has its full budget again: forget it then.
        self._recent: ExpiringMap[tuple[float, ...]] = ExpiringMap(window_seconds, max_keys, clock)
        self._lock = threading.Lock()

    def take(self, key: str) -> int:
        """0 when this request fits the key's budget (it is counted), else the whole seconds
        until one would (refused requests are not counted)."""
        with self._lock:
            now = self._clock()
            recent = tuple(t for t in self._recent.get(key) or () if t > now - self._window)
            if len(recent) >= self._requests:
                return max(1, math.ceil(recent[0] + self._window - now))
            self._recent.put(key, (*recent, now))
            return 0
