"""Fixtures for flow tests: the campaign settings in the environment, aimed at the stand-ins."""

from __future__ import annotations

import pytest

from campaigns.christmas_campaign.seed_templates import seed_templates
from campaigns.conftest import NOTION_TOKEN, RESEND_KEY
from campaigns.notion_crm import NotionCRM
from campaigns.standins.notion import NotionStandIn
from campaigns.standins.resend import ResendStandIn

UNSUBSCRIBE_SECRET = "test-unsubscribe-secret"
PUBLIC_BASE_URL = "https://hooks.review.example"
BOOKING_URL = "https://cal.review.example/christmas"
POSTAL_ADDRESS = "Systems Review Ltd, 1 Market Street, Springfield"


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
    dbs = notion_crm.database_ids
    env = {
        "NOTION_TOKEN": NOTION_TOKEN,
        "NOTION_CONTACTS_DB_ID": dbs["contacts"],
        "NOTION_TEMPLATES_DB_ID": dbs["templates"],
        "NOTION_SENDS_DB_ID": dbs["sends"],
        "NOTION_API_URL": notion_standin.url,
        "NOTION_REQUESTS_PER_SECOND": "0",
        "RESEND_API_KEY": RESEND_KEY,
        "RESEND_API_URL": resend_standin.url,
        "EMAIL_FROM": "Systems Review <hello@review.example>",
        "EMAIL_REPLY_TO": "hello@review.example",
        "POSTAL_ADDRESS": POSTAL_ADDRESS,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "UNSUBSCRIBE_SECRET": UNSUBSCRIBE_SECRET,
        "BOOKING_URL": BOOKING_URL,
        "TESTING_MODE": "true",
        "SEQUENCE_TIME_SCALE": "1",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(str(tmp_path))  # no stray .env from the checkout
    return notion_crm
