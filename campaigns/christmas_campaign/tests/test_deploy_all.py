"""deploy_all.py against a Prefect test server: idempotent registration and clear errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prefect import get_client
from prefect.automations import Automation
from prefect.events.schemas.automations import EventTrigger
from prefect.settings import PREFECT_API_URL, temporary_settings

from campaigns.christmas_campaign.deployments import deploy_all
from campaigns.christmas_campaign.topology import FLOW_RUN_COMMAND, SILENT_RUN_AUTOMATION
from campaigns.errors import OrchestrationError
from campaigns.tests.fixtures import forget_deployment

POOL = "deploy-all-test-pool"  # the shared test server may already hold christmas-pool


@pytest.fixture(scope="module", autouse=True)
def server(prefect_server: None) -> Iterator[None]:
    """The shared test server, without this module's rate limit once it is done."""
    yield
    forget_deployment()


def _deployments() -> dict[str, str | None]:
    with get_client(sync_client=True) as client:
        deployments = [d for d in client.read_deployments() if d.work_pool_name == POOL]
    # One interpreter per run: the engine command, not Prefect's workspace supervisor.
    assert all(d.job_variables["command"] == FLOW_RUN_COMMAND for d in deployments)
    return {d.name: d.work_queue_name for d in deployments}


def test_running_twice_registers_each_deployment_once(capsys: pytest.CaptureFixture[str]) -> None:
    """Two runs leave one pool, nine deployments, and a work queue per send step."""
    assert deploy_all.main(["--pool", POOL]) == 0
    assert deploy_all.main(["--pool", POOL]) == 0
    out = capsys.readouterr().out
    assert f"Work pool {POOL} created" in out
    assert f"Work pool {POOL} already exists" in out
    assert f"prefect worker start --pool {POOL}" in out
    deployments = _deployments()
    names = [spec.name for spec in deploy_all.deployment_specs()]
    assert sorted(deployments) == sorted(names)
    for number in range(1, 8):
        assert deployments[f"christmas-email-{number}"] == f"christmas-email-{number}"
    with get_client(sync_client=True) as client:
        pool = client.read_work_pool(POOL)
    assert pool.type == "process"


def test_a_run_is_watched_from_the_moment_it_runs() -> None:
    """The silent-run automation arms on Running too, so a run killed before its first heartbeat
    reached the server is marked Crashed like any other."""
    assert deploy_all.main(["--pool", POOL]) == 0
    automation = Automation.read(name=SILENT_RUN_AUTOMATION)
    assert isinstance(automation.trigger, EventTrigger)
    assert automation.trigger.after == {"prefect.flow-run.heartbeat", "prefect.flow-run.Running"}


def test_unreachable_api_is_reported_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """With no server at PREFECT_API_URL the script exits 1 and says what to check."""
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        assert deploy_all.main([]) == 1
    err = capsys.readouterr().err
    assert "is not reachable" in err and "prefect server start" in err


def test_missing_api_url_is_reported() -> None:
    """Without PREFECT_API_URL the check names the setting to export."""
    with (
        temporary_settings(updates={PREFECT_API_URL: None}),
        pytest.raises(OrchestrationError, match="PREFECT_API_URL"),
    ):
        deploy_all.check_api()
