"""What this process remembers for a while: handled message ids, the answers to signup deliveries.

`ExpiringMap` is the one store under all of it: values kept for a time to live after they were
last put, at most `max_size` of them (the oldest go first), so no sender can grow it without bound.

- `SeenIds` / `MemorySeenIds`: Resend `svix-id`s already applied, so a repeat is acknowledged
  without doing anything. An id is remembered only AFTER its event was applied, so an event that
  got a 503 is applied when Resend retries it.
- `ReplayAnswers`: the answer to each signup `webhook-id`, worked out once. A retry whose first
  202 was lost, and a copy arriving while the first is still in flight, get the first delivery's
  answer; checking and claiming an id is one step (nothing awaits in between). A failed attempt
  leaves nothing behind, so a retry after a 503 does the work again.

Ids are kept ten minutes, twice the five-minute timestamp tolerance (an older replay already
fails the signature check). All of it is lost on restart and not shared between processes: run
one service process, or replace these with a persistent store (a database table or Redis
`SET NX EX`) that offers the same methods.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Generic, Protocol, TypeVar

DEFAULT_TTL_SECONDS = 10 * 60
DEFAULT_MAX_SIZE = 100_000

V = TypeVar("V")


class ExpiringMap(Generic[V]):
    """Values that expire `ttl_seconds` after they were last put; thread-safe, bounded."""

    def __init__(
        self,
        ttl_seconds: float,
        max_size: int = DEFAULT_MAX_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._max_size = max_size
        self._clock = clock
        self._entries: dict[str, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> V | None:
        with self._lock:
            self._purge()
            entry = self._entries.get(key)
            return entry[1] if entry else None

    def put(self, key: str, value: V) -> None:
        with self._lock:
            self._purge()
            self._entries.pop(key, None)  # re-inserted last, to keep expiry order
            self._entries[key] = (self._clock() + self._ttl, value)
            while len(self._entries) > self._max_size:
                del self._entries[next(iter(self._entries))]

    def __len__(self) -> int:
        with self._lock:
            self._purge()
            return len(self._entries)

    def _purge(self) -> None:
        now = self._clock()
        # Insertion order is expiry order (the TTL is fixed), so stop at the first live entry.
        while self._entries:
            oldest = next(iter(self._entries))
            if self._entries[oldest][0] > now:
                break
            del self._entries[oldest]


class SeenIds(Protocol):
    """Where handled message ids are kept for at least the signature tolerance window."""

    def seen(self, message_id: str) -> bool:
        """True when this id was remembered and has not expired."""
        ...

    def remember(self, message_id: str) -> None:
        """Record the id of a request that was handled successfully."""
        ...


class MemorySeenIds:
    """In-process `SeenIds` with a time to live."""

    def __init__(
        self, ttl_seconds: float = DEFAULT_TTL_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ids: ExpiringMap[bool] = ExpiringMap(ttl_seconds, clock=clock)

    def seen(self, message_id: str) -> bool:
        return self._ids.get(message_id) is not None

    def remember(self, message_id: str) -> None:
        self._ids.put(message_id, True)

    def __len__(self) -> int:
        return len(self._ids)


class ReplayAnswers(Generic[V]):
    """The answer to each message id, worked out once per id by the first delivery.

    Call it from the service's event loop only: that a claim is atomic rests on it.
    """

    def __init__(
        self, ttl_seconds: float = DEFAULT_TTL_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._answers: ExpiringMap[V] = ExpiringMap(ttl_seconds, clock=clock)
        self._running: dict[str, asyncio.Task[V]] = {}

    async def once(self, message_id: str, work: Callable[[], Awaitable[V]]) -> tuple[V, bool]:
        """(the answer, True when another delivery of this id worked it out).

        The work runs as a task of its own, so a copy waiting for it, or the first delivery's
        client going away, does not cut it short; its failure is raised to every waiting copy.
        """
        answer = self._answers.get(message_id)
        if answer is not None:
            return answer, True
        running = self._running.get(message_id)
        if running is not None:
            return await asyncio.shield(running), True
        task = asyncio.ensure_future(self._first(message_id, work))
        task.add_done_callback(_retrieve)
        self._running[message_id] = task
        return await asyncio.shield(task), False

    async def _first(self, message_id: str, work: Callable[[], Awaitable[V]]) -> V:
        try:
            answer = await work()
            self._answers.put(message_id, answer)
            return answer
        finally:
            del self._running[message_id]


def _retrieve(task: asyncio.Task[object]) -> None:
    """Mark a failure as seen: it was raised to the copies that waited (if any still did)."""
    if not task.cancelled():
        task.exception()
