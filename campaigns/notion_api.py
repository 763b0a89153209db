"""The one place that talks to Notion: pacing, retries and error translation around the SDK.

notion-client 3.1 retries 429 by itself but not 529 `service_overload`, and 5xx only on GET,
though a data-source query is a POST that only reads. So the SDK's retries are switched off and
one policy lives here, run by `stamina`: rate limits are retried for every call, waiting what
`Retry-After` asks; 5xx and timeouts are retried for every call that is safe to repeat (reads
and PATCH updates), never for `pages.create`, which could leave a duplicate row. Callers make
creation idempotent themselves (find, then create), so a failed create is retried one level up.

How long a call keeps trying is the caller's budget (`RetryBudget`): a flow run rides out a
burst or a short outage for minutes (`NOTION_RETRY_BUDGET_SECONDS`), a webhook request gives up
after a couple of seconds. Pacing is the caller's too: a flow run takes a slot of Prefect's
global rate limit before every call, anything else spaces its own calls (`Throttle`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

import httpx
import stamina
from notion_client import Client
from notion_client.errors import HTTPResponseError, RequestTimeoutError

from campaigns import errors

log = logging.getLogger("campaigns.notion")
_RATE_LIMITED = {429, 529}
# 409 conflict_error: "a data collision; try again" (Notion's words), as transient as a 5xx.
_UNAVAILABLE = {409, 500, 502, 503, 504}
_TRANSPORT = (RequestTimeoutError, httpx.TransportError)


class Throttle:
    """Spaces calls at least 1/rate seconds apart across threads (Notion asks for ~3/s)."""

    def __init__(self, per_second: float | None):
        self._interval = 1.0 / per_second if per_second else 0.0
        self._lock = threading.Lock()
        self._next = 0.0

    def wait(self) -> None:
        if not self._interval:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self._interval
        time.sleep(max(0.0, start - now))


@dataclass(frozen=True)
class RetryBudget:
    """How long one Notion call keeps trying: attempts (None: no cap), seconds, backoff."""

    attempts: int | None = 6
    total_seconds: float | None = 120.0
    backoff_seconds: float = 1.0
    max_wait_seconds: float = 60.0


class NotionApi:
    """SDK calls with the project's retry policy; every failure becomes a `NotionError`."""

    def __init__(
        self,
        token: str,
        base_url: str,
        *,
        requests_per_second: float | None = 3.0,
        pace: Callable[[], None] | None = None,
        max_attempts: int | None = 6,
        backoff_seconds: float = 1.0,
        max_wait_seconds: float = 60.0,
        retry_seconds: float | None = 120.0,
        timeout_seconds: float = 30.0,
        data_sources: dict[str, str] | None = None,
    ):
        """`pace` replaces the local throttle (a flow run passes Prefect's global rate limit);
        `data_sources` maps database ids to data-source ids already known (no lookup)."""
        self._client = Client(
            auth=token,
            base_url=base_url,
            retry=False,
            timeout_ms=int(timeout_seconds * 1000),
            logger=logging.getLogger("campaigns.notion.sdk"),
            log_level=logging.ERROR,  # each failed attempt is logged once, below, in a sentence
        )
        self._pace = pace or Throttle(requests_per_second).wait
        self.budget = RetryBudget(max_attempts, retry_seconds, backoff_seconds, max_wait_seconds)
        self._data_sources: dict[str, str] = dict(data_sources or {})
        self._lock = threading.Lock()
        self.request_count = 0

    # --- the calls the package uses ---------------------------------------------------------

    def data_source_id(self, database_id: str) -> str:
        """Resolve (once) the data source behind a database id, as API 2025-09-03 requires."""
        with self._lock:
            cached = self._data_sources.get(database_id)
        if cached:
            return cached
        database = self.call(
            f"reading database {database_id}",
            lambda: self._client.databases.retrieve(database_id=database_id),
        )
        sources = database.get("data_sources") or []
        if not sources:
            raise errors.NotionNotFound(f"Database {database_id} has no data source.")
        if len(sources) > 1:
            log.warning(
                "Database %s has %d data sources; using the first.", database_id, len(sources)
            )
        with self._lock:
            self._data_sources[database_id] = str(sources[0]["id"])
        return self._data_sources[database_id]

    def retrieve_data_source(self, data_source_id: str) -> dict[str, Any]:
        return self.call(
            f"reading data source {data_source_id}",
            lambda: self._client.data_sources.retrieve(data_source_id=data_source_id),
        )

    def query(
        self, what: str, data_source_id: str, body: dict[str, Any], limit: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every page matching `body` (filter, sorts), following cursors up to `limit` pages."""
        cursor: str | None = None
        seen = 0
        while True:
            page_size = 100 if limit is None else max(1, min(100, limit - seen))
            args = {**body, "page_size": page_size}
            if cursor:
                args["start_cursor"] = cursor
            query = partial(self._client.data_sources.query, data_source_id, **args)
            result = self.call(what, query)
            for page in result.get("results", []):
                yield page
                seen += 1
                if limit is not None and seen >= limit:
                    return
            cursor = result.get("next_cursor")
            if not result.get("has_more") or not cursor:
                return

    def create_page(
        self, what: str, data_source_id: str, properties: dict[str, Any]
    ) -> dict[str, Any]:
        parent = {"type": "data_source_id", "data_source_id": data_source_id}
        return self.call(
            what,
            lambda: self._client.pages.create(parent=parent, properties=properties),
            safe_to_repeat=False,
        )

    def update_page(self, what: str, page_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        return self.call(
            what, lambda: self._client.pages.update(page_id=page_id, properties=properties)
        )

    def retrieve_page(self, what: str, page_id: str) -> dict[str, Any]:
        return self.call(what, lambda: self._client.pages.retrieve(page_id=page_id))

    def create_database(
        self, parent_page_id: str, title: str, properties: dict[str, Any]
    ) -> dict[str, Any]:
        return self.call(
            f"creating database {title!r}",
            lambda: self._client.databases.create(
                parent={"type": "page_id", "page_id": parent_page_id},
                title=[{"type": "text", "text": {"content": title}}],
                initial_data_source={"properties": properties},
            ),
            safe_to_repeat=False,
        )

    # --- the policy --------------------------------------------------------------------------

    def call(
        self, what: str, fn: Callable[[], Any], *, safe_to_repeat: bool = True
    ) -> dict[str, Any]:
        """Run one SDK call under the retry policy; `what` names it in logs and errors."""
        budget = self.budget
        last_failure = ""

        def retry_on(exc: Exception) -> bool | float:
            nonlocal last_failure
            decision = _retry_decision(exc, safe_to_repeat, budget.max_wait_seconds)
            if decision is not False:
                last_failure = _describe(exc)
            return decision

        attempts = 0
        try:
            for attempt in stamina.retry_context(
                on=retry_on,
                attempts=budget.attempts,
                timeout=budget.total_seconds,
                wait_initial=budget.backoff_seconds,
                wait_max=budget.max_wait_seconds,
                wait_jitter=budget.backoff_seconds,
            ):
                with attempt:
                    attempts = attempt.num
                    if attempts > 1:
                        log.info(
                            "Retrying the Notion call while %s after %s (attempt %d).",
                            what,
                            last_failure,
                            attempts,
                        )
                    self._pace()
                    self.request_count += 1
                    return cast(dict[str, Any], fn())  # every Notion response is a JSON object
        except (HTTPResponseError, *_TRANSPORT) as exc:
            raise _translate(what, exc, attempts) from exc
        raise AssertionError("stamina ended without a result or an exception")  # pragma: no cover


def _retry_decision(exc: Exception, safe_to_repeat: bool, max_wait: float) -> bool | float:
    """False: final. True: back off exponentially. A number: wait that long (`Retry-After`)."""
    if isinstance(exc, HTTPResponseError):
        if exc.status in _RATE_LIMITED:
            return _retry_after(exc.headers.get("retry-after"), max_wait)
        return safe_to_repeat and exc.status in _UNAVAILABLE
    return safe_to_repeat and isinstance(exc, _TRANSPORT)


def _retry_after(value: str | None, max_wait: float) -> bool | float:
    """A numeric `Retry-After` in seconds (capped), or True to use the backoff."""
    try:
        return min(max_wait, max(0.0, float(value))) if value else True
    except ValueError:
        return True  # an HTTP-date Retry-After: Notion does not send one; use the backoff


def _describe(exc: Exception) -> str:
    if isinstance(exc, HTTPResponseError):
        return f"HTTP {exc.status} {exc.code}"
    return type(exc).__name__


def _translate(what: str, exc: Exception, attempts: int) -> errors.NotionError:
    if not isinstance(exc, HTTPResponseError):
        return errors.NotionUnavailable(
            f"Notion did not answer while {what} ({type(exc).__name__}, {attempts} attempt(s))."
        )
    status, code = exc.status, str(exc.code)
    detail = f"Notion answered HTTP {status} {code} while {what}: {exc}"
    kind: type[errors.NotionError] = errors.NotionError
    if status in _RATE_LIMITED:
        kind, detail = (
            errors.NotionRateLimited,
            f"{detail} (still rate limited after {attempts} attempts)",
        )
    elif status in _UNAVAILABLE:
        kind = errors.NotionUnavailable
    elif status in {401, 403}:
        kind = errors.NotionAuthError
        detail += ". Check NOTION_TOKEN and that the database is shared with the integration."
    elif status == 404:
        kind = errors.NotionNotFound
        detail += ". Check the database id and that it is shared with the integration."
    elif status == 400:
        kind = errors.NotionValidationError
    return kind(detail, status=status, code=code)
