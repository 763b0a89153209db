"""`GET /healthz`: can this service do its work right now?

- notion: its settings are present and the Contacts data source answers a read;
- resend: the settings the sends need are present (the service itself never calls Resend's API,
  and a sending-only key may not read anything, so presence is what can be checked);
- prefect: the Prefect API answers its health check.

200 when all three are fine, 503 otherwise; the body says which part failed, and nothing else
(no URL, id or error text: this endpoint is public). Each call costs one Notion read and one
Prefect request, so poll it every 30 s or so, not every second.
"""

from __future__ import annotations

import logging

from fastapi.responses import JSONResponse

from campaigns.errors import NotionError
from campaigns.notion_crm import NotionCRM
from campaigns.settings import NotionAccess, ResendAccess, WebhookSecrets
from campaigns.webhook_service.services import WebhookServices

log = logging.getLogger("campaigns.webhooks")


def _notion_answers(crm: NotionCRM) -> bool:
    try:
        crm.api.retrieve_data_source(crm.data_source("contacts"))
    except NotionError as exc:
        log.warning("Health check: Notion did not answer (%s).", type(exc).__name__)
        return False
    return True


async def health(services: WebhookServices) -> JSONResponse:
    settings = services.settings
    notion_configured = not settings.missing(NotionAccess)
    notion_ok = notion_configured and await services.notion(_notion_answers, services.crm)
    resend_ok = not settings.missing(ResendAccess, WebhookSecrets)  # sends, and their events
    prefect_ok = await services.flow_runs.reachable()
    report = {
        "notion": {"configured": notion_configured, "reachable": notion_ok},
        "resend": {"configured": resend_ok},
        "prefect": {"reachable": prefect_ok},
    }
    healthy = notion_ok and resend_ok and prefect_ok
    return JSONResponse(
        {"status": "ok" if healthy else "degraded", **report}, status_code=200 if healthy else 503
    )
