"""What every task of the campaign shares: the task options and the services it works with.

Retries are declared once, in the adapters (`campaigns.notion_api`, `campaigns.mailer`), not
on the tasks: a Notion call inside a flow run rides out 429s, 5xx and timeouts for up to
`NOTION_RETRY_BUDGET_SECONDS` (600 s by default), a Resend call for its own budget, and
anything still failing fails the task and the run. The flows add one whole-run retry each
(see their decorators). Worst case for one Notion call of an orchestrator run: 600 s × 4 runs
of the flow plus its delays, about an hour, before the run ends Failed.

The Prefect API is the exception: its client retries 429, 502 and 503 a few times within about
half a minute, which a server whose SQLite database is locked by a burst of writes can outlast.
A task whose Prefect calls are idempotent declares `PREFECT_API_RETRIES` as well.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import httpx
from prefect import get_client
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State
from prefect.concurrency._asyncio import ConcurrencySlotAcquisitionError
from prefect.concurrency.sync import rate_limit
from prefect.context import FlowRunContext

from campaigns.christmas_campaign.topology import NOTION_RATE_LIMIT, PERMANENT_FAILURE_TAG
from campaigns.errors import (
    NotionRateLimited,
    NotionUnavailable,
    OrchestrationError,
    OrchestratorUnavailable,
    ResendUnavailable,
)
from campaigns.mailer import ResendMailer
from campaigns.notion_crm import NotionCRM
from campaigns.retry import retryable_status
from campaigns.settings import Settings

# What a whole-run retry can heal: the service was busy or away, not wrong.
TRANSIENT = (
    NotionRateLimited,
    NotionUnavailable,
    ResendUnavailable,
    OrchestratorUnavailable,
    httpx.TransportError,
)


def is_transient(exc: BaseException) -> bool:
    """True for a failure a later try may heal: `TRANSIENT`, or an HTTP 429 or 5xx answer
    (the Prefect client raises `PrefectHTTPStatusError`, an `httpx.HTTPStatusError`)."""
    if isinstance(exc, TRANSIENT):
        return True
    return isinstance(exc, httpx.HTTPStatusError) and retryable_status(exc.response.status_code)


def _failed_transiently(task: Any, task_run: Any, state: State[Any]) -> bool:
    return isinstance(state.data, BaseException) and is_transient(state.data)


@contextmanager
def retry_only_transient() -> Iterator[None]:
    """Let the run's retries happen only for a transient failure; anything else fails at once.

    Prefect flows have no retry condition, and a Draft template retried for a quarter of an
    hour only delays the sentence the marketer needs. So on a failure that is not in
    `TRANSIENT`, the run's retry budget is set to zero and the run is tagged
    `PERMANENT_FAILURE_TAG` (the reconciler reports it instead of starting it again) before the
    failure is raised.
    """
    try:
        yield
    except Exception as exc:
        if not is_transient(exc):
            _stop_retries()
        raise


def _stop_retries() -> None:
    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        return
    run = context.flow_run
    policy = run.empirical_policy.model_copy(update={"retries": 0})
    tags = sorted({*run.tags, PERMANENT_FAILURE_TAG})  # the reconciler leaves it for a person
    with get_client(sync_client=True) as client:
        client.update_flow_run(run.id, empirical_policy=policy, tags=tags)


# Caching is off: exactly-once comes from our idempotency keys and the send log, and task
# inputs include live clients that must not be hashed or persisted.
TASK_OPTIONS: dict[str, Any] = {"cache_policy": NO_CACHE, "persist_result": False}
# For a task whose Prefect API calls are idempotent: a busy Prefect server gets a minute more.
PREFECT_API_RETRIES: dict[str, Any] = {
    "retries": 3,
    "retry_delay_seconds": [5, 15, 40],
    "retry_condition_fn": _failed_transiently,
}


def notion_rate_limit(name: str = NOTION_RATE_LIMIT) -> Callable[[], None]:
    """Wait for a slot of Prefect's global rate limit `name` (created by `deploy_all.py`)."""

    def wait() -> None:
        try:
            rate_limit(name, occupy=1, strict=True)
        except ConcurrencySlotAcquisitionError as exc:
            if "must be created" in str(exc):
                raise OrchestrationError(
                    f"The global concurrency limit {name} does not exist; run deploy_all.py, "
                    "which creates it at the configured Notion rate."
                ) from exc
            raise OrchestratorUnavailable(
                f"Could not take a slot of the rate limit {name} from the Prefect API: {exc}"
            ) from exc

    return wait


@dataclass
class FlowServices:
    """The adapters one flow run uses, built once from the run's settings."""

    settings: Settings

    @cached_property
    def crm(self) -> NotionCRM:
        """Inside a flow run, Notion calls are paced by the deployment-wide rate limit and
        retried for the flow budget; elsewhere (tests calling `.fn`) by a local throttle."""
        options: dict[str, Any] = {
            "max_attempts": None,
            "retry_seconds": self.settings.notion_retry_budget_seconds,
        }
        if FlowRunContext.get() is not None and self.settings.notion_requests_per_second > 0:
            options["pace"] = notion_rate_limit()
        return NotionCRM.from_settings(self.settings, **options)

    @cached_property
    def mailer(self) -> ResendMailer:
        return ResendMailer.from_settings(self.settings)
