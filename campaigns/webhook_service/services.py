"""What the routes work with, built once per process from the settings (tests swap in fakes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import anyio

from campaigns.christmas_campaign.flows.cancel import cancel_remaining
from campaigns.errors import NotionError
from campaigns.models import SequenceStatus
from campaigns.notion_crm import NotionCRM
from campaigns.settings import NotionAccess, PrefectAccess, Settings, WebhookSecrets
from campaigns.webhook_service.concurrency import KeyedLocks, Lane, RequestBudget, lane_limiters
from campaigns.webhook_service.dedup import ExpiringMap, MemorySeenIds, ReplayAnswers, SeenIds
from campaigns.webhook_service.prefect_runs import FlowRuns, PrefectApi, PrefectFlowRuns
from campaigns.webhook_service.signatures import StandardWebhookVerifier, decode_whsec
from campaigns.webhook_service.web import unavailable

# Everything the service needs before it may answer a single request.
REQUIRED = (NotionAccess, WebhookSecrets, PrefectAccess)
# A webhook sender waits about 15 s: fail fast on Notion trouble and let it retry after a 503.
NOTION_OPTIONS: dict[str, Any] = {
    "max_attempts": 2,
    "backoff_seconds": 0.5,
    "max_wait_seconds": 2.0,
    "timeout_seconds": 10.0,
}

# What one unsubscribe link may ask in a window: the mail client's one-click POST and a few
# presses of the page's button; a contact already stopped costs nothing anyway.
UNSUBSCRIBE_BUDGET = 5
UNSUBSCRIBE_WINDOW_SECONDS = 60.0
# A stop this process wrote or found is trusted this long without asking Notion again. Webhook
# stops only ever strengthen a status and the orchestrator never re-enrolls such a contact, so
# only a hand edit in Notion can make this memory stale, for at most this long.
RECENT_STOP_SECONDS = 10 * 60
RECENT_STOPS_KEPT = 10_000

# Cancels the not-started runs and Scheduled log rows of a contact whose status is already set.
CancelRuns = Callable[[str, SequenceStatus], int]
T = TypeVar("T")


def _unsubscribe_budget() -> RequestBudget:
    return RequestBudget(UNSUBSCRIBE_BUDGET, UNSUBSCRIBE_WINDOW_SECONDS)


def _recent_stops() -> ExpiringMap[SequenceStatus]:
    return ExpiringMap(RECENT_STOP_SECONDS, RECENT_STOPS_KEPT)


@dataclass
class WebhookServices:
    """The adapters, verifiers, replay stores and shared limits of one service process."""

    settings: Settings
    crm: NotionCRM
    flow_runs: FlowRuns
    cancel_runs: CancelRuns
    signup_verifier: StandardWebhookVerifier
    resend_verifier: StandardWebhookVerifier
    # The orchestrator run id answered to each signup `webhook-id`.
    signup_answers: ReplayAnswers[str] = field(default_factory=ReplayAnswers)
    resend_ids: SeenIds = field(default_factory=MemorySeenIds)
    # The stop status each contact (by `contact_ref`) was last seen or set to by this process.
    recent_stops: ExpiringMap[SequenceStatus] = field(default_factory=_recent_stops)
    contact_locks: KeyedLocks = field(default_factory=KeyedLocks)
    unsubscribe_budget: RequestBudget = field(default_factory=_unsubscribe_budget)
    lanes: dict[Lane, anyio.CapacityLimiter] = field(default_factory=lane_limiters)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> WebhookServices:
        """The production services; `SettingsError` naming whatever setting is missing or bad."""
        secrets = settings.require(*REQUIRED).webhooks
        parts: dict[str, Any] = {
            "signup_verifier": StandardWebhookVerifier(
                decode_whsec(secrets.signup.get_secret_value(), secrets.variable("signup"))
            ),
            "resend_verifier": StandardWebhookVerifier(
                decode_whsec(secrets.resend.get_secret_value(), secrets.variable("resend")),
                prefix="svix",
            ),
            **overrides,
        }
        if "crm" not in parts:
            # Its own small share of the Notion budget; the flow runs share the rest.
            parts["crm"] = NotionCRM.from_settings(
                settings,
                requests_per_second=settings.notion_webhook_rate,
                **NOTION_OPTIONS,
            )
        if "flow_runs" not in parts:
            parts["flow_runs"] = PrefectFlowRuns(settings.prefect.api_url)
        if "cancel_runs" not in parts:
            parts["cancel_runs"] = _prefect_cancel(settings)
        return cls(settings=settings, **parts)

    @property
    def booking_secret(self) -> str:
        return self.settings.webhooks.booking.get_secret_value()

    @property
    def unsubscribe_secret(self) -> str:
        return self.settings.webhooks.unsubscribe.get_secret_value()

    async def notion(self, call: Callable[..., T], *args: Any, lane: Lane = Lane.WEBHOOKS) -> T:
        """Run a blocking Notion call in a worker thread of `lane`; a Notion failure is a 503."""
        try:
            return await anyio.to_thread.run_sync(partial(call, *args), limiter=self.lanes[lane])
        except NotionError as exc:
            raise unavailable(
                f"Notion is unavailable ({type(exc).__name__}); retry later."
            ) from exc


def _prefect_cancel(settings: Settings) -> CancelRuns:
    """`cancel_remaining` on this service's `PREFECT_API_URL`, with Prefect's own retries (it
    runs after the answer was sent, so it can wait out a busy server for a minute). The stop is
    already recorded by then (`stopping.stop_sequence`), so the contact is not read again."""
    prefect = PrefectApi(settings.prefect.api_url)
    crm = NotionCRM.from_settings(settings)

    def cancel(email: str, status: SequenceStatus) -> int:
        with prefect.settings():
            return cancel_remaining(crm, email, status)

    return cancel
