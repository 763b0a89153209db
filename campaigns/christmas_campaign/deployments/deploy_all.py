"""Register the Christmas campaign on a Prefect server: the work pool and its nine deployments.

Run by ops from a checkout:  python campaigns/christmas_campaign/deployments/deploy_all.py
Then start a worker:         prefect worker start --pool christmas-pool
Or, for local use without a work pool, serve all nine from this process:  ... deploy_all.py --serve

The nine: `christmas-orchestrator`, `christmas-email-1` .. `-7` (CONTRACT §4) and
`christmas-cancel`. Idempotent: deployments are upserted by (flow name, deployment name), so
running it again updates them to the checked-out code and never duplicates them. Do not mix
`--serve` and a worker on one server: both register the same deployment names.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

REPO_ROOT = Path(__file__).resolve().parents[3]
if str(REPO_ROOT) not in sys.path:  # run as a script from a checkout without `pip install -e`
    sys.path.insert(0, str(REPO_ROOT))

from prefect import Flow, get_client  # noqa: E402
from prefect.client.schemas.actions import WorkPoolCreate  # noqa: E402
from prefect.exceptions import ObjectNotFound  # noqa: E402
from prefect.settings import PREFECT_API_URL  # noqa: E402

from campaigns.christmas_campaign.sequence import EMAIL_COUNT  # noqa: E402
from campaigns.christmas_campaign.tasks.scheduling import (  # noqa: E402
    ORCHESTRATOR_DEPLOYMENT,
    WORK_POOL,
    step_deployment,
)
from campaigns.errors import OrchestrationError  # noqa: E402

FLOWS_DIR = "campaigns/christmas_campaign/flows"
ORCHESTRATOR_ENTRY = f"{FLOWS_DIR}/orchestrator.py:christmas_email_sequence_orchestrator"
SEND_ENTRY = f"{FLOWS_DIR}/send_email.py:christmas_send_email"
CANCEL_ENTRY = f"{FLOWS_DIR}/cancel.py:christmas_cancel_sequence"
TAGS = ["christmas"]


@dataclass(frozen=True)
class DeploymentSpec:
    name: str
    entrypoint: str
    description: str
    # Pausing a deployment in Prefect 3 stops its schedules, not runs created through the API,
    # so each send step gets its own work queue: pausing that queue is what stops one step.
    work_queue: str | None = None


def deployment_specs() -> list[DeploymentSpec]:
    """The orchestrator, one deployment per send step (pausable alone), and the cancel flow."""
    specs = [
        DeploymentSpec(ORCHESTRATOR_DEPLOYMENT, ORCHESTRATOR_ENTRY, "Enroll one signup."),
    ]
    specs += [
        DeploymentSpec(
            step_deployment(n),
            SEND_ENTRY,
            f"Send email {n} of the sequence (pause work queue {step_deployment(n)} to hold it).",
            work_queue=step_deployment(n),
        )
        for n in range(1, EMAIL_COUNT + 1)
    ]
    specs.append(DeploymentSpec("christmas-cancel", CANCEL_ENTRY, "Stop a contact's sequence."))
    return specs


def check_api() -> str:
    """The API URL, after checking the server answers; a clear error otherwise."""
    url = PREFECT_API_URL.value()
    if not url:
        raise OrchestrationError(
            "PREFECT_API_URL is not set. Start a server with `prefect server start` and run "
            "`export PREFECT_API_URL=http://127.0.0.1:4200/api`."
        )
    with get_client(sync_client=True) as client:
        problem = client.api_healthcheck()
    if problem is not None:
        raise OrchestrationError(
            f"The Prefect API at {url} is not reachable ({type(problem).__name__}: {problem}). "
            "Is `prefect server start` running, and is PREFECT_API_URL right?"
        )
    return str(url)


def ensure_work_pool(name: str = WORK_POOL) -> bool:
    """Create the process work pool if it is missing; True when it was created."""
    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(name)
            return False
        except ObjectNotFound:
            client.create_work_pool(WorkPoolCreate(name=name, type="process"))
            return True


def deploy_all(source: Path = REPO_ROOT, pool: str = WORK_POOL) -> list[str]:
    """Register every deployment from the checked-out code on the work pool."""
    from prefect import flow

    names = []
    for spec in deployment_specs():
        # from_source is sync here (no running event loop), despite its async-compatible type.
        loaded = cast(
            Flow[..., Any], flow.from_source(source=str(source), entrypoint=spec.entrypoint)
        )
        loaded.deploy(
            name=spec.name,
            work_pool_name=pool,
            work_queue_name=spec.work_queue,
            tags=TAGS,
            description=spec.description,
            print_next_steps=False,
            ignore_warnings=True,
        )
        names.append(f"{loaded.name}/{spec.name}")
    return names


def serve_all(limit: int = 4) -> None:
    """Serve all deployments from this process (local use, no work pool or worker)."""
    from prefect import serve

    from campaigns.christmas_campaign.flows.cancel import christmas_cancel_sequence
    from campaigns.christmas_campaign.flows.orchestrator import (
        christmas_email_sequence_orchestrator,
    )
    from campaigns.christmas_campaign.flows.send_email import christmas_send_email

    flows: dict[str, Flow[..., Any]] = {
        ORCHESTRATOR_ENTRY: christmas_email_sequence_orchestrator,
        SEND_ENTRY: christmas_send_email,
        CANCEL_ENTRY: christmas_cancel_sequence,
    }
    deployments = [
        flows[spec.entrypoint].to_deployment(
            name=spec.name, tags=TAGS, description=spec.description
        )
        for spec in deployment_specs()
    ]
    serve(*deployments, limit=limit)  # type: ignore[arg-type]  # sync here, see deploy_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help="serve all deployments locally")
    parser.add_argument("--pool", default=WORK_POOL, help="work pool name (default %(default)s)")
    args = parser.parse_args(argv)
    try:
        url = check_api()
        print(f"Prefect API reachable at {url}.")
        if args.serve:
            print("Serving all deployments from this process; press Ctrl-C to stop.")
            serve_all()
            return 0
        created = ensure_work_pool(args.pool)
        print(f"Work pool {args.pool} {'created' if created else 'already exists'} (process).")
        for name in deploy_all(pool=args.pool):
            print(f"Deployment {name} registered.")
    except OrchestrationError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    print(f"Next: start a worker with `prefect worker start --pool {args.pool}`.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
