"""Fixtures shared by every test: the wire-compatible stand-ins and adapters pointed at them.

A pytest plugin (`-p campaigns.tests.fixtures` in pyproject's addopts) rather than a
`campaigns/conftest.py`, so that nothing of the test suite ends up in the built wheel.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect import get_client
from prefect.exceptions import ObjectNotFound
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
from prefect.testing.utilities import prefect_test_harness
from pydantic import SecretStr

from campaigns.christmas_campaign.sequence import EMAIL_COUNT
from campaigns.christmas_campaign.topology import (
    NOTION_RATE_LIMIT,
    SILENT_RUN_AUTOMATION,
    step_deployment,
)
from campaigns.mailer import ResendMailer
from campaigns.notion_api import NotionApi
from campaigns.notion_crm import NotionCRM
from campaigns.notion_schema import create_databases
from campaigns.postgres_cluster import PostgresCluster, PostgresNotInstalled, find_bindir
from campaigns.standins.notion import NotionStandIn
from campaigns.standins.resend import ResendStandIn
from campaigns.testing import NOTION_TOKEN, RESEND_KEY


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Longest modules first, so that the two test processes finish together: an end-to-end
    module's timeout is its own estimate of its length; every other module keeps its place."""

    def length(item: pytest.Item) -> float:
        timeout = item.get_closest_marker("timeout")
        if item.get_closest_marker("e2e") is None or timeout is None:
            return 0.0
        return float(timeout.args[0])

    items.sort(key=lambda item: -length(item))


@pytest.fixture
def notion_standin() -> Iterator[NotionStandIn]:
    server = NotionStandIn(token=NOTION_TOKEN)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def make_api(url: str, token: str = NOTION_TOKEN, **options: object) -> NotionApi:
    """A Notion API client tuned for tests: no client-side throttle, short backoff."""
    defaults: dict[str, object] = {
        "requests_per_second": None,
        "backoff_seconds": 0.05,
        "max_wait_seconds": 2.0,
        "timeout_seconds": 5.0,
    }
    defaults.update(options)
    return NotionApi(token, url, **defaults)  # type: ignore[arg-type]


@pytest.fixture
def notion_crm(notion_standin: NotionStandIn) -> NotionCRM:
    api = make_api(notion_standin.url)
    ids = create_databases(api, parent_page_id="00000000-0000-4000-8000-000000000001")
    return NotionCRM(api, ids["contacts"], ids["templates"], ids["sends"])


@pytest.fixture
def resend_standin() -> Iterator[ResendStandIn]:
    server = ResendStandIn(api_key=RESEND_KEY)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mailer(resend_standin: ResendStandIn) -> ResendMailer:
    return ResendMailer(
        SecretStr(RESEND_KEY),
        resend_standin.url,
        "Systems Review <hello@review.example>",
        "hello@review.example",
        backoff_seconds=0.05,
        max_wait_seconds=2.0,
        timeout_seconds=5,
    )


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """One temporary Prefect server (SQLite) for every flow test of the session."""
    # Heartbeats add about a second to every flow call and are useless in tests.
    with (
        prefect_test_harness(server_startup_timeout=120),
        temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
    ):
        yield


def forget_deployment() -> None:
    """Remove what a deployment leaves on the shared test server beyond its deployments: the
    Notion rate limit (3 requests/s would slow every later flow test that shares the server)
    and the silent-run automation."""
    with get_client(sync_client=True) as client:
        with contextlib.suppress(ObjectNotFound):
            client.delete_global_concurrency_limit_by_name(NOTION_RATE_LIMIT)
        for automation in client.read_automations_by_name(SILENT_RUN_AUTOMATION):
            client.delete_automation(automation.id)


@pytest.fixture(scope="session")
def send_deployments(prefect_server: None) -> list[str]:
    """Register the seven send deployments (nobody runs them: tests call flows directly)."""
    from campaigns.christmas_campaign.flows.send_email import christmas_send_email

    names = []
    for number in range(1, EMAIL_COUNT + 1):
        deployment = christmas_send_email.to_deployment(name=step_deployment(number))
        deployment.apply()  # type: ignore[union-attr]  # sync here: no event loop is running
        names.append(step_deployment(number))
    return names


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a throwaway PostgreSQL cluster's `prefect` database, one cluster per session."""
    try:
        bindir = find_bindir()
    except PostgresNotInstalled as error:
        if "CI" in os.environ:
            pytest.fail(str(error), pytrace=False)
        pytest.skip(str(error))
    # Not under pytest's temp folder: as root that folder is closed to the postgres user.
    with (
        tempfile.TemporaryDirectory(prefix="campaign-postgres-") as folder,
        PostgresCluster(Path(folder), bindir) as cluster,
    ):
        yield cluster.url
