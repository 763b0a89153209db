"""The service's side of the Prefect API: create a signup's orchestrator run, check health.

The Prefect server stays private: the service calls it from inside the network. Prefect dedupes
flow runs by idempotency key per flow, so deliveries of one signup, however many and however
concurrent, share one orchestrator run; concurrent deliveries in this process also wait for
each other (one create at a time per key), which spares a SQLite-backed server lock contention.
Any failure to reach Prefect becomes `OrchestratorUnavailable`, which the route turns into a 503.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import httpx
from prefect import get_client
from prefect.context import SettingsContext, get_settings_context
from prefect.exceptions import ObjectNotFound
from prefect.settings import PREFECT_API_URL, PREFECT_CLIENT_MAX_RETRIES

from campaigns.christmas_campaign.topology import ORCHESTRATOR_PATH, orchestrator_tags
from campaigns.errors import DeploymentMissing, OrchestratorUnavailable
from campaigns.retry import retryable_status
from campaigns.webhook_service.concurrency import KeyedLocks

CALL_TIMEOUT_SECONDS = 10.0  # webhook senders give up after 15 s or so; answer 503 before that
CLIENT_RETRIES = 2  # Prefect's own retries of 429/502/503 (2 s, 4 s) within that budget


class FlowRuns(Protocol):
    """What the routes need from Prefect (tests substitute a fake)."""

    async def start_orchestrator(self, parameters: dict[str, Any], idempotency_key: str) -> str:
        """The id of the orchestrator run with this key, created if it does not exist yet."""
        ...

    async def reachable(self) -> bool:
        """True when the Prefect API answers its health check."""
        ...


class PrefectApi:
    """Prefect's settings aimed at one API URL, built once and entered around each use.

    A Prefect client reads its URL and retry count from the current settings context, so this
    service uses its own `PREFECT_API_URL` setting whatever Prefect's profile says.
    """

    def __init__(self, api_url: str, client_retries: int | None = None) -> None:
        updates: dict[Any, Any] = {PREFECT_API_URL: api_url}
        if client_retries is not None:
            updates[PREFECT_CLIENT_MAX_RETRIES] = client_retries
        self._settings = get_settings_context().settings.copy_with_update(updates=updates)

    @contextmanager
    def settings(self) -> Iterator[None]:
        """Enter these settings (in a worker thread too: each thread has its own context)."""
        with SettingsContext(profile=get_settings_context().profile, settings=self._settings):
            yield


class PrefectFlowRuns:
    """`FlowRuns` on a Prefect server, through `prefect.get_client()` (async)."""

    def __init__(self, api_url: str, timeout_seconds: float = CALL_TIMEOUT_SECONDS) -> None:
        self.api = PrefectApi(api_url, client_retries=CLIENT_RETRIES)
        self._timeout = timeout_seconds
        self._locks = KeyedLocks()

    async def start_orchestrator(self, parameters: dict[str, Any], idempotency_key: str) -> str:
        try:
            # The timeout covers waiting for the key's lock too: a hung server never piles up.
            async with asyncio.timeout(self._timeout), self._locks.hold(idempotency_key):
                with self.api.settings():
                    async with get_client() as client:
                        deployment = await client.read_deployment_by_name(ORCHESTRATOR_PATH)
                        run = await client.create_flow_run_from_deployment(
                            deployment.id,
                            parameters=parameters,
                            idempotency_key=idempotency_key,
                            tags=orchestrator_tags(str(parameters["email"]), "signup-webhook"),
                        )
        except ObjectNotFound:
            raise DeploymentMissing(ORCHESTRATOR_PATH) from None
        except (httpx.HTTPError, TimeoutError, OSError) as exc:
            if isinstance(exc, httpx.HTTPStatusError) and not retryable_status(
                exc.response.status_code
            ):
                raise  # a request Prefect refuses is a bug here, not an outage
            raise OrchestratorUnavailable(
                f"The Prefect API did not create the orchestrator run ({type(exc).__name__})."
            ) from exc
        return str(run.id)

    async def reachable(self) -> bool:
        try:
            async with asyncio.timeout(self._timeout):
                with self.api.settings():
                    async with get_client() as client:
                        return await client.api_healthcheck() is None
        except (httpx.HTTPError, TimeoutError, OSError):
            return False
