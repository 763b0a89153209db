"""Message ids already handled (signup `webhook-id`, Resend `svix-id`), to refuse or skip replays.

An id is remembered only AFTER its request was handled successfully, so a delivery that got a
503 can be retried with the same id. `SeenIds` is the interface the routes use; `MemorySeenIds`
keeps ids in this process for ten minutes, twice the five-minute timestamp tolerance (an older
replay already fails the signature check). It is lost on restart and not shared between
processes: run one service process, or replace it with a persistent store (a database table or
Redis `SET NX EX`) that implements the same two methods.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

DEFAULT_TTL_SECONDS = 10 * 60


class SeenIds(Protocol):
    """Where handled message ids are kept for at least the signature tolerance window."""

    def seen(self, message_id: str) -> bool:
        """True when this id was remembered and has not expired."""
        ...

    def remember(self, message_id: str) -> None:
        """Record the id of a request that was handled successfully."""
        ...


class MemorySeenIds:
    """In-process `SeenIds` with a time to live; thread-safe, expired ids are dropped as it goes."""

    def __init__(
        self, ttl_seconds: float = DEFAULT_TTL_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl_seconds
        self._clock = clock
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()

    def seen(self, message_id: str) -> bool:
        with self._lock:
            self._purge()
            return message_id in self._expiry

    def remember(self, message_id: str) -> None:
        with self._lock:
            self._purge()
            self._expiry.pop(message_id, None)  # re-inserted last, to keep expiry order
            self._expiry[message_id] = self._clock() + self._ttl

    def __len__(self) -> int:
        with self._lock:
            self._purge()
            return len(self._expiry)

    def _purge(self) -> None:
        now = self._clock()
        # Insertion order is expiry order (the TTL is fixed), so stop at the first live id.
        while self._expiry:
            oldest = next(iter(self._expiry))
            if self._expiry[oldest] > now:
                break
            del self._expiry[oldest]
