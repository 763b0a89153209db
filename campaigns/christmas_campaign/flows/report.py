"""Flow `christmas-report`: the campaign report, published where the Prefect UI shows it.

Deployed as `christmas-report` on a schedule (REPORT_EVERY_SECONDS: daily; every 5 minutes in
TESTING_MODE). Each run reads the Contacts and the send log (two paginated queries, paced by the
deployment-wide Notion rate limit like every flow run), counts them (`christmas_campaign.report`)
and publishes the markdown artifact `christmas-report`, whose latest version the UI shows under
Artifacts. It ends Failed, with the reason, when Notion cannot be read.
"""

from __future__ import annotations

from prefect import flow
from prefect.artifacts import create_markdown_artifact
from prefect.client.schemas.objects import State
from prefect.states import Completed

from campaigns.christmas_campaign.report import build_report, report_markdown
from campaigns.christmas_campaign.tasks.common import FlowServices
from campaigns.christmas_campaign.topology import REPORT_FLOW_NAME
from campaigns.settings import NotionAccess, load_settings

REPORT_KEY = "christmas-report"


@flow(name=REPORT_FLOW_NAME, log_prints=False)
def christmas_report() -> State:
    """Publish the campaign report (per email and per segment) as the artifact christmas-report."""
    crm = FlowServices(load_settings().require(NotionAccess)).crm
    before = crm.api.request_count
    report = build_report(crm.all_contacts(), crm.all_sends())
    requests = crm.api.request_count - before
    summary = (
        f"{report.contacts} contacts, {report.total['sent']} emails sent, "
        f"{report.total['converted']} booked calls ({requests} Notion requests)."
    )
    create_markdown_artifact(
        key=REPORT_KEY, markdown=report_markdown(report, requests), description=summary
    )
    return Completed(message=f"Published the campaign report: {summary}")
