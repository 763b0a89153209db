"""The Prefect side of the `campaign` commands: reach the API, trigger, read runs, check names.

Prefect is imported here and only here (it takes seconds to import), so `campaign simulate` and
`campaign --help` stay fast. Every client failure is turned into an `OrchestrationError`, so a
server that stops answering mid-command is one line, not a traceback.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from prefect import get_client
from prefect.client.schemas.filters import (
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterId,
    FlowRunFilterState,
    FlowRunFilterStateType,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import DeploymentStatus, FlowRun, StateType
from prefect.client.schemas.responses import DeploymentResponse
from prefect.client.schemas.sorting import FlowRunSort
from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError
from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL

from campaigns.christmas_campaign.deployments.deploy_all import check_api, deployment_specs
from campaigns.christmas_campaign.sequence import CAMPAIGN
from campaigns.christmas_campaign.topology import (
    CONTACT_FLOWS,
    WORK_POOL,
    run_tags,
)
from campaigns.errors import OrchestrationError
from campaigns.idempotency import signup_key
from campaigns.models import Signup


@contextlib.contextmanager
def prefect_errors(what: str) -> Iterator[None]:
    """Turn the client's HTTP failures into an `OrchestrationError` naming what was being done."""
    try:
        yield
    except PrefectHTTPStatusError as exc:
        status = exc.response.status_code
        raise OrchestrationError(f"Prefect answered HTTP {status} while {what}.") from exc
    except httpx.HTTPError as exc:
        raise OrchestrationError(
            f"Prefect did not answer while {what} ({type(exc).__name__}); is the server up?"
        ) from exc


def require_api() -> str:
    """The Prefect API URL after checking it answers (never the ephemeral fallback server)."""
    with prefect_errors("checking the API"):
        return check_api()


def api_url() -> str:
    return str(PREFECT_API_URL.value() or "")


def run_url(flow_run_id: object) -> str:
    """Where the UI shows this run (empty when the UI URL is unknown)."""
    ui = PREFECT_UI_URL.value()
    return f"{str(ui).rstrip('/')}/runs/flow-run/{flow_run_id}" if ui else ""


def trigger_orchestrator(signup: Signup, source: str = "cli") -> FlowRun:
    """Create the orchestrator run of this signup, with the key the website's webhook uses, so
    the same signup sent twice (or by both) enrolls once."""
    from campaigns.christmas_campaign.tasks.step_runs import start_signup

    with prefect_errors("creating the orchestrator run"):
        parameters = signup.model_dump(mode="json")
        return start_signup(signup.email, parameters, signup_key(CAMPAIGN, signup), source=source)


def contact_runs(email: str) -> dict[int, FlowRun]:
    """The newest send run of each step of this contact (a re-enrollment makes new ones)."""
    runs: dict[int, FlowRun] = {}
    with get_client(sync_client=True) as client, prefect_errors("reading the contact's runs"):
        found = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=run_tags(email))),
            sort=FlowRunSort.EXPECTED_START_TIME_ASC,
            limit=200,
        )
    for run in found:
        number = run.parameters.get("email_number")
        if isinstance(number, int):
            runs[number] = run  # ascending order: the last one kept is the newest
    return runs


@dataclass(frozen=True)
class DeploymentState:
    full_name: str
    deployment: DeploymentResponse | None

    @property
    def problem(self) -> str:
        """Empty when the deployment can take runs; otherwise what is wrong with it."""
        if self.deployment is None:
            return "missing"
        if self.deployment.paused:
            return "paused"
        if self.deployment.status == DeploymentStatus.NOT_READY:
            return "no worker or serve process polling"
        return ""


def deployment_states() -> list[DeploymentState]:
    """Every deployment the campaign needs, as the server has it (None when missing)."""
    states = []
    with get_client(sync_client=True) as client, prefect_errors("reading the deployments"):
        for spec in deployment_specs():
            full = spec.path
            try:
                states.append(DeploymentState(full, client.read_deployment_by_name(full)))
            except ObjectNotFound:
                states.append(DeploymentState(full, None))
    return states


def work_pool_exists(name: str = WORK_POOL) -> bool:
    with get_client(sync_client=True) as client, prefect_errors("reading the work pool"):
        try:
            client.read_work_pool(name)
            return True
        except ObjectNotFound:
            return False


def prefect_executable() -> str:
    """The `prefect` executable next to the running interpreter, else the one on PATH."""
    candidate = Path(sys.executable).with_name("prefect")
    return str(candidate) if candidate.exists() else "prefect"


def worker_path(env: Mapping[str, str]) -> str:
    """`env`'s PATH with the running interpreter's folder first, so that the worker's runs
    (`topology.FLOW_RUN_COMMAND`, a bare `python`) start in this environment."""
    here = str(Path(sys.executable).parent)
    parts = env.get("PATH", os.defpath).split(os.pathsep)
    rest = [part for part in parts if part and part != here]  # "" would be the working folder
    return os.pathsep.join([here, *rest])


def run_worker(pool: str, limit: int, run_once: bool) -> int:
    """Run `prefect worker start` against the checked API; return its exit status."""
    command = [prefect_executable(), "worker", "start", "--pool", pool, "--limit", str(limit)]
    if run_once:
        command.append("--run-once")
    env: dict[str, Any] = {
        **os.environ,
        "PREFECT_API_URL": api_url(),
        "PATH": worker_path(os.environ),
    }
    try:
        return subprocess.call(command, env=env)  # noqa: S603 - Prefect's own CLI
    except KeyboardInterrupt:
        return 0  # the worker got the same Ctrl-C and stopped by itself


def pending_runs(limit: int = 200) -> list[FlowRun]:
    """The contacts' runs not yet finished, soonest first (not the reconciler's)."""
    not_done = [StateType.SCHEDULED, StateType.PENDING, StateType.RUNNING]
    with get_client(sync_client=True) as client, prefect_errors("reading the pending runs"):
        return client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=list(CONTACT_FLOWS))),
            flow_run_filter=FlowRunFilter(
                tags=FlowRunFilterTags(all_=[CAMPAIGN]),
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=not_done)),
            ),
            sort=FlowRunSort.EXPECTED_START_TIME_ASC,
            limit=limit,
        )


def read_runs(ids: list[UUID]) -> list[FlowRun]:
    with get_client(sync_client=True) as client, prefect_errors("reading flow runs"):
        return client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids)))
