"""The commands that talk to Prefect, on a temporary Prefect server: deploy, worker, serve,
signup, status, cancel, and doctor's Prefect checks.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from prefect import get_client
from prefect.settings import PREFECT_API_URL

from campaigns.christmas_campaign.flows.orchestrator import christmas_email_sequence_orchestrator
from campaigns.christmas_campaign.samples import SAMPLE_SIGNUPS
from campaigns.cli.doctor import Result
from campaigns.cli.doctor_services import prefect_checks
from campaigns.cli.orchestration import deployment_states
from campaigns.models import Segment, SequenceStatus
from campaigns.notion_crm import NotionCRM
from campaigns.settings import load_settings
from campaigns.tests.cli.conftest import no_traceback, run
from campaigns.tests.fixtures import forget_deployment

pytestmark = pytest.mark.timeout(300)
SIGNUP_ARGS = [
    "signup", "--email", "Nina@Example.com", "--first-name", "Nina", "--business-name",
    "Nina's Bakery", "--red", "0", "--orange", "2", "--yellow", "3", "--green", "3",
    "--score", "70", "--revenue-leak", "3200",
]  # fmt: skip


@pytest.fixture(scope="module")
def deployed(prefect_server: None) -> Iterator[str]:
    """`campaign deploy` once for the module; its output."""
    result = run("deploy")
    assert result.exit_code == 0, result.output
    yield result.output
    forget_deployment()


def test_deploy_registers_everything_the_campaign_needs(deployed: str) -> None:
    """Pool, queues, limits, automation and the 11 deployments exist; a second deploy agrees."""
    assert "Work pool christmas-pool created (process)." in deployed
    assert deployed.count("Deployment ") == 11
    assert "Deployment christmas-email-sequence-orchestrator/christmas-orchestrator" in deployed
    assert "Deployment christmas-reconcile/christmas-reconciler registered." in deployed
    assert "Automation christmas-crash-silent-runs" in deployed
    assert "Work queue christmas-reconciler: priority 2, no limit." in deployed
    assert all(state.deployment is not None for state in deployment_states())
    again = run("deploy")
    assert again.exit_code == 0 and "already exists" in again.output


def test_signup_triggers_the_orchestrator(deployed: str, bare_env: Path) -> None:
    """A valid signup creates one orchestrator run whose parameters are the validated signup."""
    result = run(*SIGNUP_ARGS)
    assert result.exit_code == 0, result.output
    assert "Signup valid: nina@example.com, segment URGENT." in result.output
    match = re.search(r"Orchestrator run \S+ \(([0-9a-f-]{36})\) created", result.output)
    assert match is not None, result.output
    with get_client(sync_client=True) as client:
        flow_run = client.read_flow_run(UUID(match.group(1)))
        deployment = client.read_deployment(flow_run.deployment_id)  # type: ignore[arg-type]
    assert deployment.name == "christmas-orchestrator"
    assert flow_run.parameters["email"] == "nina@example.com"
    assert flow_run.parameters["orange_systems"] == 2
    assert flow_run.parameters["revenue_leak_monthly"] == 3200


def test_status_then_cancel(deployed: str, cli_env: NotionCRM) -> None:
    """Status shows the seven scheduled emails; cancel stops them; status then agrees."""
    signup = SAMPLE_SIGNUPS[Segment.CRITICAL]
    christmas_email_sequence_orchestrator(**signup.model_dump())
    before = run("status", signup.email)
    assert before.exit_code == 0, before.output
    assert "CRITICAL" in before.output and "Active" in before.output
    rows = [line for line in before.output.splitlines() if "christmas_email_" in line]
    assert len(rows) == 7 and all("Scheduled" in row for row in rows)
    assert "christmas_email_7a_critical" in rows[-1]

    cancelled = run("cancel", signup.email, "--status", "Unsubscribed")
    assert cancelled.exit_code == 0, cancelled.output
    assert f"Contact {signup.email} is now Unsubscribed; 7 scheduled run(s) cancelled." in (
        cancelled.output
    )
    after = run("status", signup.email)
    rows = [line for line in after.output.splitlines() if "christmas_email_" in line]
    assert "Unsubscribed" in after.output
    assert len(rows) == 7 and all("Cancelled" in row and "Sent" not in row for row in rows)


def test_cancel_of_an_unknown_contact(deployed: str, cli_env: NotionCRM) -> None:
    """Cancelling someone who never signed up is one error line."""
    result = run("cancel", "nobody@example.com")
    assert result.exit_code == 1
    no_traceback(result)
    assert "No contact" in result.output and "nothing to cancel" in result.output


def test_worker_polls_once(deployed: str, bare_env: Path) -> None:
    """`campaign worker --run-once` starts Prefect's worker on the pool and exits cleanly."""
    result = run("worker", "--run-once")
    assert result.exit_code == 0, result.output
    assert "Worker for pool christmas-pool" in result.output


def test_doctor_sees_the_deployments(deployed: str, cli_env: NotionCRM) -> None:
    """With the deployments registered, doctor's Prefect checks pass."""
    checks = prefect_checks(load_settings())
    results = {check.name: check.result for check in checks}
    assert results["API"] == Result.PASS
    assert results["work pool"] == Result.PASS
    assert results["deployments"] == Result.PASS


def test_cancel_keeps_a_stronger_stop(deployed: str, cli_env: NotionCRM) -> None:
    """Cancelling a contact who complained leaves Complained, and says so."""
    signup = SAMPLE_SIGNUPS[Segment.OPTIMIZE]
    contact = cli_env.find_or_create_contact(signup)
    cli_env.set_contact_status(contact.page_id, SequenceStatus.COMPLAINED)
    result = run("cancel", signup.email)
    assert result.exit_code == 0, result.output
    assert "is now Complained (Complained was already recorded and outranks Cancelled)" in (
        result.output
    )


def test_serve_runs_until_interrupted(deployed: str, bare_env: Path) -> None:
    """`campaign serve` serves the deployments and stops cleanly on Ctrl-C."""
    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()), "COLUMNS": "200"}
    with _process([sys.executable, "-m", "campaigns.cli", "serve"], env) as process:
        assert process.stdout is not None
        seen = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            seen.append(line)
            if "being served" in line or not line:
                break
        assert any("being served" in line for line in seen), "".join(seen)
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
    assert process.returncode == 0, "".join(seen) + rest
    assert "Stopped serving." in rest


class _process:
    """Popen as a context manager that kills the process if the test fails midway."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(  # noqa: S603
            command,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )

    def __enter__(self) -> subprocess.Popen[str]:
        return self.process

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
