"""What the routes work with, built once per process from the settings (tests swap in fakes)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool

from campaigns.christmas_campaign.flows.cancel import cancel_contact_sequence
from campaigns.errors import NotionError
from campaigns.models import SequenceStatus
from campaigns.notion_crm import NotionCRM
from campaigns.settings import NOTION, WEBHOOKS, Settings
from campaigns.webhook_service.dedup import MemorySeenIds, SeenIds
from campaigns.webhook_service.prefect_runs import FlowRuns, PrefectApi, PrefectFlowRuns
from campaigns.webhook_service.signatures import StandardWebhookVerifier, decode_whsec
from campaigns.webhook_service.web import unavailable

# Everything the service needs before it may answer a single request.
REQUIRED: Sequence[str] = (*NOTION, *WEBHOOKS, "BOOKING_WEBHOOK_SECRET", "PREFECT_API_URL")
# A webhook sender waits about 15 s: fail fast on Notion trouble and let it retry after a 503.
NOTION_OPTIONS: dict[str, Any] = {
    "max_attempts": 2,
    "backoff_seconds": 0.5,
    "max_wait_seconds": 2.0,
    "timeout_seconds": 10.0,
}

# Cancels the not-started runs and Scheduled log rows of a contact whose status is already set.
CancelRuns = Callable[[str, SequenceStatus], int]
T = TypeVar("T")


@dataclass
class Services:
    """The adapters, verifiers and replay stores of one service process."""

    settings: Settings
    crm: NotionCRM
    flow_runs: FlowRuns
    cancel_runs: CancelRuns
    signup_verifier: StandardWebhookVerifier
    resend_verifier: StandardWebhookVerifier
    signup_ids: SeenIds = field(default_factory=MemorySeenIds)
    resend_ids: SeenIds = field(default_factory=MemorySeenIds)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> Services:
        """The production services; `SettingsError` naming whatever setting is missing or bad."""
        settings.require(*REQUIRED)
        parts: dict[str, Any] = {
            "signup_verifier": StandardWebhookVerifier(
                decode_whsec(settings.secret("SIGNUP_WEBHOOK_SECRET"), "SIGNUP_WEBHOOK_SECRET")
            ),
            "resend_verifier": StandardWebhookVerifier(
                decode_whsec(settings.secret("RESEND_WEBHOOK_SECRET"), "RESEND_WEBHOOK_SECRET"),
                prefix="svix",
            ),
            **overrides,
        }
        if "crm" not in parts:
            parts["crm"] = NotionCRM.from_settings(settings, **NOTION_OPTIONS)
        if "flow_runs" not in parts:
            parts["flow_runs"] = PrefectFlowRuns(str(settings.prefect_api_url))
        if "cancel_runs" not in parts:
            parts["cancel_runs"] = _prefect_cancel(settings)
        return cls(settings=settings, **parts)

    @property
    def booking_secret(self) -> str:
        return self.settings.secret("BOOKING_WEBHOOK_SECRET")

    @property
    def unsubscribe_secret(self) -> str:
        return self.settings.secret("UNSUBSCRIBE_SECRET")

    async def notion(self, call: Callable[..., T], *args: Any) -> T:
        """Run a blocking Notion call in a worker thread; a Notion failure becomes a 503."""
        try:
            return await run_in_threadpool(call, *args)
        except NotionError as exc:
            raise unavailable(
                f"Notion is unavailable ({type(exc).__name__}); retry later."
            ) from exc


def _prefect_cancel(settings: Settings) -> CancelRuns:
    """`cancel_contact_sequence` on this service's `PREFECT_API_URL`, with Prefect's own retries
    (it runs after the answer was sent, so it can wait out a busy server for a minute)."""
    prefect = PrefectApi(str(settings.prefect_api_url))

    def cancel(email: str, status: SequenceStatus) -> int:
        with prefect.settings():
            return cancel_contact_sequence(settings, email, status)

    return cancel
