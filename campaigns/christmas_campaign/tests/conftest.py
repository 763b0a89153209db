"""Fixtures for flow tests: the campaign settings in the environment, aimed at the stand-ins."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stamina

from campaigns.christmas_campaign.seed_templates import seed_templates
from campaigns.notion_crm import NotionCRM
from campaigns.standins.notion import NotionStandIn
from campaigns.standins.resend import ResendStandIn
from campaigns.testing import standin_env


@pytest.fixture
def campaign_env(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: object,
    notion_crm: NotionCRM,
    notion_standin: NotionStandIn,
    resend_standin: ResendStandIn,
) -> NotionCRM:
    """Settings in the environment pointing at fresh stand-ins, with the templates seeded."""
    seed_templates(notion_crm)
    env = standin_env(
        notion_crm.database_ids, notion_standin.url, resend_standin.url, notion_rate=0
    )
    # What deploy_all.py hands every run: the data sources, so runs do not look them up.
    for which, source in notion_crm.data_source_ids().items():
        env[f"NOTION_{which.upper()}_DATA_SOURCE_ID"] = source
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(str(tmp_path))  # no stray .env from the checkout
    return notion_crm


@pytest.fixture
def no_adapter_retries() -> Iterator[None]:
    """Each Notion and Resend call is tried once, so an injected failure reaches the flow."""
    with stamina.set_testing(True, attempts=1):
        yield
