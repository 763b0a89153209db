"""Which failures a retry may heal (`tasks.common.is_transient`), one row per kind."""

from __future__ import annotations

import httpx
import pytest
from prefect.exceptions import PrefectHTTPStatusError

from campaigns.christmas_campaign.tasks.common import is_transient
from campaigns.errors import (
    DeploymentMissing,
    NotionRateLimited,
    NotionUnavailable,
    OrchestratorUnavailable,
    ResendQuotaExceeded,
    ResendUnavailable,
    TemplateNotActive,
)


def prefect_answer(status: int) -> PrefectHTTPStatusError:
    """What the Prefect client raises for an answer with `status`, after its own retries."""
    request = httpx.Request("POST", "http://127.0.0.1:4200/api/deployments/x/create_flow_run")
    response = httpx.Response(status, request=request, json={"exception_message": "refused"})
    error = httpx.HTTPStatusError(f"Answer {status}", request=request, response=response)
    return PrefectHTTPStatusError.from_httpx_error(error)


@pytest.mark.parametrize(
    ("failure", "transient"),
    [
        (prefect_answer(503), True),  # an SQLite database locked by a burst of writes
        (prefect_answer(500), True),
        (prefect_answer(429), True),
        (prefect_answer(404), False),
        (prefect_answer(422), False),  # a request Prefect refuses is a bug, not an outage
        (httpx.ConnectError("refused"), True),
        (httpx.ReadTimeout("slow"), True),
        (NotionUnavailable("Notion answered 502"), True),
        (NotionRateLimited("Notion answered 429"), True),
        (ResendUnavailable("Resend answered 500"), True),
        (OrchestratorUnavailable("no Prefect API"), True),
        (DeploymentMissing("christmas-send-email/email-3"), False),
        (TemplateNotActive("christmas_email_5 is Draft"), False),
        (ResendQuotaExceeded("daily_quota_exceeded", status=429), False),  # not within a day
        (ValueError("green_systems"), False),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v),
)
def test_only_a_busy_or_absent_service_is_transient(
    failure: BaseException, transient: bool
) -> None:
    """429, 5xx, timeouts and unreachable services are retried; everything else is not."""
    assert is_transient(failure) is transient
