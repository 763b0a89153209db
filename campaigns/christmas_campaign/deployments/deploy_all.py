"""Register the Christmas campaign on a Prefect server: pool, queues, rate limit, nine deployments.

Run by ops from a checkout:  python campaigns/christmas_campaign/deployments/deploy_all.py
Then start a worker:         prefect worker start --pool christmas-pool --limit 6
Or, for local use without a work pool, serve all nine from this process:  ... deploy_all.py --serve

The nine: `christmas-orchestrator`, `christmas-email-1` .. `-7` (docs/contract.md §4) and
`christmas-cancel`, each on its own work queue with the priority and concurrency limit of
`topology.queues_by_priority()`. It also creates the global rate limit `notion-api` every Notion
call of a flow run draws from (at NOTION_REQUESTS_PER_SECOND less the webhook service's share),
and, when the Notion settings are present, looks up the three data-source ids once and hands
them to every run through the deployments' environment.

Idempotent: everything is upserted by name, so running it again updates the server to the
checked-out code and settings and never duplicates anything. Do not mix `--serve` and a worker
on one server: both register the same deployment names.
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
from campaigns.christmas_campaign.topology import (  # noqa: E402
    CANCEL_DEPLOYMENT,
    CANCEL_FLOW_NAME,
    CANCEL_QUEUE,
    DEPLOYMENT_TAGS,
    NOTION_BURST_SLOTS,
    NOTION_RATE_LIMIT,
    ORCHESTRATOR_DEPLOYMENT,
    ORCHESTRATOR_FLOW_NAME,
    ORCHESTRATOR_QUEUE,
    SEND_FLOW_NAME,
    WORK_POOL,
    WORKER_PROCESS_LIMIT,
    deployment_path,
    queues_by_priority,
    step_deployment,
    step_queue,
)
from campaigns.errors import CampaignError, OrchestrationError  # noqa: E402
from campaigns.notion_crm import NotionCRM  # noqa: E402
from campaigns.settings import NOTION, Settings, load_settings  # noqa: E402

FLOWS_DIR = "campaigns/christmas_campaign/flows"
ORCHESTRATOR_ENTRY = f"{FLOWS_DIR}/orchestrator.py:christmas_email_sequence_orchestrator"
SEND_ENTRY = f"{FLOWS_DIR}/send_email.py:christmas_send_email"
CANCEL_ENTRY = f"{FLOWS_DIR}/cancel.py:christmas_cancel_sequence"
TAGS = list(DEPLOYMENT_TAGS)


@dataclass(frozen=True)
class DeploymentSpec:
    flow_name: str
    name: str
    entrypoint: str
    description: str
    work_queue: str

    @property
    def path(self) -> str:
        """`flow/deployment`, as Prefect reads it by name."""
        return deployment_path(self.flow_name, self.name)


def deployment_specs() -> list[DeploymentSpec]:
    """The orchestrator, one deployment per send step (pausable alone), and the cancel flow."""
    specs = [
        DeploymentSpec(
            ORCHESTRATOR_FLOW_NAME,
            ORCHESTRATOR_DEPLOYMENT,
            ORCHESTRATOR_ENTRY,
            "Enroll one signup.",
            ORCHESTRATOR_QUEUE.name,
        ),
    ]
    specs += [
        DeploymentSpec(
            SEND_FLOW_NAME,
            step_deployment(n),
            SEND_ENTRY,
            f"Send email {n} of the sequence (pause work queue {step_deployment(n)} to hold it).",
            step_queue(n).name,
        )
        for n in range(1, EMAIL_COUNT + 1)
    ]
    specs.append(
        DeploymentSpec(
            CANCEL_FLOW_NAME,
            CANCEL_DEPLOYMENT,
            CANCEL_ENTRY,
            "Stop a contact's sequence.",
            CANCEL_QUEUE.name,
        )
    )
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


def ensure_work_queues(pool: str = WORK_POOL) -> list[str]:
    """Create or update the pool's queues with their priority and concurrency limit."""
    lines = []
    with get_client(sync_client=True) as client:
        for priority, queue in enumerate(queues_by_priority(), start=1):
            try:
                existing = client.read_work_queue_by_name(queue.name, work_pool_name=pool)
                client.update_work_queue(
                    existing.id, priority=priority, concurrency_limit=queue.concurrency_limit
                )
            except ObjectNotFound:
                client.create_work_queue(
                    queue.name,
                    work_pool_name=pool,
                    priority=priority,
                    concurrency_limit=queue.concurrency_limit,
                )
            lines.append(
                f"Work queue {queue.name}: priority {priority}, "
                f"at most {queue.concurrency_limit} running."
            )
    return lines


def ensure_notion_rate_limit(settings: Settings) -> str:
    """Create or update the global rate limit that paces every Notion call of a flow run."""
    if not settings.notion_requests_per_second:
        return "NOTION_REQUESTS_PER_SECOND is 0: Notion calls are not paced (stand-ins only)."
    rate = settings.notion_flow_rate
    if rate <= 0:
        raise OrchestrationError(
            "NOTION_WEBHOOK_REQUESTS_PER_SECOND leaves nothing of NOTION_REQUESTS_PER_SECOND "
            "for the flow runs; lower it."
        )
    with get_client(sync_client=True) as client:
        client.upsert_global_concurrency_limit_by_name(
            NOTION_RATE_LIMIT, NOTION_BURST_SLOTS, slot_decay_per_second=rate
        )
    return f"Global rate limit {NOTION_RATE_LIMIT}: {rate:g} Notion requests/s for the flow runs."


def data_source_env(settings: Settings) -> dict[str, str]:
    """The three data-source ids as the environment variables runs read them from."""
    if settings.missing(*NOTION):
        return {}
    ids = NotionCRM.from_settings(settings).data_source_ids()
    return {f"NOTION_{which.upper()}_DATA_SOURCE_ID": source for which, source in ids.items()}


def deploy_all(
    source: Path = REPO_ROOT, pool: str = WORK_POOL, env: dict[str, str] | None = None
) -> list[str]:
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
            job_variables={"env": env} if env else None,
            tags=TAGS,
            description=spec.description,
            print_next_steps=False,
            ignore_warnings=True,
        )
        names.append(f"{loaded.name}/{spec.name}")
    return names


def serve_all(limit: int = WORKER_PROCESS_LIMIT) -> None:
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
        settings = load_settings()
        print(ensure_notion_rate_limit(settings))
        if args.serve:
            print("Serving all deployments from this process; press Ctrl-C to stop.")
            serve_all()
            return 0
        created = ensure_work_pool(args.pool)
        print(f"Work pool {args.pool} {'created' if created else 'already exists'} (process).")
        for line in ensure_work_queues(args.pool):
            print(line)
        env = data_source_env(settings)
        if env:
            print("Notion data sources looked up once; every run gets them from its deployment.")
        else:
            print("Notion settings are not set here: each run looks its data sources up itself.")
        for name in deploy_all(pool=args.pool, env=env):
            print(f"Deployment {name} registered.")
    except CampaignError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    print(
        f"Next: start a worker with `prefect worker start --pool {args.pool} "
        f"--limit {WORKER_PROCESS_LIMIT}`."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
