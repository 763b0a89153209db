"""The `christmas-report` flow on a Prefect test server: the artifact it publishes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from prefect import get_client
from prefect.client.schemas.filters import ArtifactCollectionFilter, ArtifactCollectionFilterKey

from campaigns.christmas_campaign.flows.orchestrator import christmas_email_sequence_orchestrator
from campaigns.christmas_campaign.flows.report import REPORT_KEY, christmas_report
from campaigns.models import Segment
from campaigns.notion_crm import NotionCRM
from campaigns.standins.notion import NotionStandIn
from campaigns.testing import unique_signup

pytestmark = pytest.mark.usefixtures("send_deployments")


def _latest_report() -> str:
    with get_client(sync_client=True) as client:
        (latest,) = client.read_latest_artifacts(
            artifact_filter=ArtifactCollectionFilter(
                key=ArtifactCollectionFilterKey(any_=[REPORT_KEY])
            )
        )
    return str(latest.data)


def test_the_report_is_published_as_an_artifact(campaign_env: NotionCRM) -> None:
    """After one enrollment, the artifact counts its contact and its seven rows' stages."""
    signup = unique_signup(Segment.CRITICAL)
    enrolled = christmas_email_sequence_orchestrator(
        **signup.model_dump(mode="json", exclude_none=True), return_state=True
    )
    assert enrolled.is_completed(), enrolled.message
    contacts = len(campaign_env.all_contacts())

    state = christmas_report(return_state=True)

    assert state.is_completed(), state.message
    assert f"{contacts} contacts" in str(state.message)
    markdown = _latest_report()
    assert markdown.startswith("# Christmas campaign report")
    assert f"{contacts} contacts" in markdown and "## By segment" in markdown
    assert "| CRITICAL |" in markdown


@pytest.mark.usefixtures("no_adapter_retries")
def test_notion_down_fails_the_run_with_the_reason(
    campaign_env: NotionCRM, notion_standin: NotionStandIn
) -> None:
    """When Notion cannot be read the run ends Failed, saying so; no artifact is written."""
    notion_standin.inject_failure(
        method="POST", path="/query$", status=503, code="service_unavailable", count=None
    )
    started = datetime.now(UTC)
    state = christmas_report(return_state=True)
    assert state.is_failed()
    assert "503" in str(state.message)
    with get_client(sync_client=True) as client:
        newer = client.read_artifacts(
            artifact_filter=None,
        )
    assert not [a for a in newer if a.key == REPORT_KEY and a.created and a.created > started]
