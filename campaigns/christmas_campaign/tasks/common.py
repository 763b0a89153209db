"""What every task of the campaign shares: the retry rule and the services it works with.

Tasks retry only transient failures (rate limits, 5xx, timeouts) that the adapters already
retried for a while; a template error or a 4xx is final and fails the run at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from prefect.cache_policies import NO_CACHE

from campaigns.errors import NotionRateLimited, NotionUnavailable, ResendUnavailable
from campaigns.mailer import ResendMailer
from campaigns.notion_crm import NotionCRM
from campaigns.settings import Settings

TRANSIENT = (NotionUnavailable, NotionRateLimited, ResendUnavailable)


def retry_if_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect `retry_condition_fn`: retry the task only for a transient failure."""
    try:
        state.result()
    except TRANSIENT:
        return True
    except Exception:
        return False
    return False


# Caching is off: exactly-once comes from our idempotency keys and the send log, and task
# inputs include live clients that must not be hashed or persisted.
TASK_OPTIONS: dict[str, Any] = {
    "retries": 2,
    "retry_delay_seconds": [5, 20],
    "retry_condition_fn": retry_if_transient,
    "cache_policy": NO_CACHE,
    "persist_result": False,
}


@dataclass
class Services:
    """The adapters one flow run uses, built once from the run's settings."""

    settings: Settings

    @cached_property
    def crm(self) -> NotionCRM:
        return NotionCRM.from_settings(self.settings)

    @cached_property
    def mailer(self) -> ResendMailer:
        return ResendMailer.from_settings(self.settings)
