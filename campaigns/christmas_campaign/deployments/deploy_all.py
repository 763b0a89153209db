"""Register the Christmas campaign on a Prefect server: pool, queues, limits, 11 deployments.

Run by ops from a checkout:  python campaigns/christmas_campaign/deployments/deploy_all.py
Then start a worker:         prefect worker start --pool christmas-pool --limit 6
                             (with the project's .venv/bin first on PATH: runs start `python`)
Or, for local use without a work pool, serve them all from this process: ... deploy_all.py --serve

They are `christmas-orchestrator`, `christmas-email-1` .. `-7` (docs/contract.md §4),
`christmas-cancel`, and on schedules `christmas-reconciler` (RECONCILE_EVERY_SECONDS) and
`christmas-report` (REPORT_EVERY_SECONDS), each on its own work queue with the priority and
concurrency limit of `topology.queues_by_priority()`.
It also creates the global rate limit `notion-api` every Notion call of a flow run draws from
(at NOTION_REQUESTS_PER_SECOND less the webhook service's share), and the automation that marks
a run Crashed when its heartbeats stop for LOST_RUN_AFTER_SECONDS (runs beat every
RUN_HEARTBEAT_SECONDS, set through the deployments' environment). When the Notion settings are
present, it looks up the three data-source ids once and hands them to every run the same way.

Idempotent: everything is upserted by name, so running it again updates the server to the
checked-out code and settings and never duplicates anything. Do not mix `--serve` and a worker
on one server: both register the same deployment names.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

REPO_ROOT = Path(__file__).resolve().parents[3]
if str(REPO_ROOT) not in sys.path:  # run as a script from a checkout without `pip install -e`
    sys.path.insert(0, str(REPO_ROOT))

from prefect import Flow, get_client  # noqa: E402
from prefect.client.schemas.actions import WorkPoolCreate  # noqa: E402
from prefect.client.schemas.objects import StateType  # noqa: E402
from prefect.exceptions import ObjectNotFound  # noqa: E402
from prefect.settings import PREFECT_API_URL  # noqa: E402

from campaigns.christmas_campaign.sequence import CAMPAIGN, EMAIL_COUNT  # noqa: E402
from campaigns.christmas_campaign.topology import (  # noqa: E402
    CANCEL_DEPLOYMENT,
    CANCEL_FLOW_NAME,
    CANCEL_QUEUE,
    DEPLOYMENT_TAGS,
    FLOW_RUN_COMMAND,
    NOTION_BURST_SLOTS,
    NOTION_RATE_LIMIT,
    ORCHESTRATOR_DEPLOYMENT,
    ORCHESTRATOR_FLOW_NAME,
    ORCHESTRATOR_QUEUE,
    RECONCILER_DEPLOYMENT,
    RECONCILER_FLOW_NAME,
    RECONCILER_QUEUE,
    REPORT_DEPLOYMENT,
    REPORT_FLOW_NAME,
    REPORT_QUEUE,
    SEND_FLOW_NAME,
    SILENT_RUN_AUTOMATION,
    WORK_POOL,
    WORKER_PROCESS_LIMIT,
    deployment_path,
    queues_by_priority,
    step_deployment,
    step_queue,
)
from campaigns.errors import CampaignError, OrchestrationError  # noqa: E402
from campaigns.notion_crm import NotionCRM  # noqa: E402
from campaigns.settings import NotionAccess, Settings, load_settings  # noqa: E402

FLOWS_DIR = "campaigns/christmas_campaign/flows"
ORCHESTRATOR_ENTRY = f"{FLOWS_DIR}/orchestrator.py:christmas_email_sequence_orchestrator"
SEND_ENTRY = f"{FLOWS_DIR}/send_email.py:christmas_send_email"
CANCEL_ENTRY = f"{FLOWS_DIR}/cancel.py:christmas_cancel_sequence"
RECONCILER_ENTRY = f"{FLOWS_DIR}/reconciler.py:christmas_reconcile"
REPORT_ENTRY = f"{FLOWS_DIR}/report.py:christmas_report"
TAGS = list(DEPLOYMENT_TAGS)


@dataclass(frozen=True)
class DeploymentSpec:
    flow_name: str
    name: str
    entrypoint: str
    description: str
    work_queue: str
    interval_seconds: float | None = None  # a schedule: one run every so many seconds

    @property
    def path(self) -> str:
        """`flow/deployment`, as Prefect reads it by name."""
        return deployment_path(self.flow_name, self.name)


def deployment_specs(settings: Settings | None = None) -> list[DeploymentSpec]:
    """The orchestrator, one deployment per send step (pausable alone), the cancel flow, and the
    reconciler and the report on the schedules of `settings` (default: the environment)."""
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
    chosen = settings or load_settings()
    specs.append(
        DeploymentSpec(
            RECONCILER_FLOW_NAME,
            RECONCILER_DEPLOYMENT,
            RECONCILER_ENTRY,
            "Start again every signup and due email whose run was lost (crash, outage).",
            RECONCILER_QUEUE.name,
            interval_seconds=chosen.reconciler.every_seconds,
        )
    )
    specs.append(
        DeploymentSpec(
            REPORT_FLOW_NAME,
            REPORT_DEPLOYMENT,
            REPORT_ENTRY,
            "Publish the campaign report (per email and segment) as the artifact christmas-report.",
            REPORT_QUEUE.name,
            interval_seconds=chosen.report_interval_seconds,
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
                + (
                    f"at most {queue.concurrency_limit} running."
                    if queue.concurrency_limit is not None
                    else "no limit."
                )
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


def ensure_silent_run_automation(settings: Settings) -> str:
    """Create or update the automation that marks a campaign run Crashed when it goes silent.

    Prefect's recipe for zombie runs: after a run's heartbeat, expect another event of that run
    (a heartbeat or any state change) within LOST_RUN_AFTER_SECONDS; when none comes, the
    process died, and the run is set Crashed so that the reconciler can start it again. The
    watch also starts when the run turns Running (an event the server emits): a process killed
    before its first heartbeat left it would otherwise stay Running for ever.
    """
    from prefect.automations import Automation
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import EventTrigger, Posture
    from prefect.events.schemas.events import ResourceSpecification

    within = settings.reconciler.lost_after_seconds
    trigger = EventTrigger(
        match=ResourceSpecification({"prefect.resource.id": "prefect.flow-run.*"}),
        match_related=ResourceSpecification(
            {"prefect.resource.role": "tag", "prefect.resource.id": f"prefect.tag.{CAMPAIGN}"}
        ),
        after={"prefect.flow-run.heartbeat", "prefect.flow-run.Running"},
        expect={"prefect.flow-run.*"},
        for_each={"prefect.resource.id"},
        posture=Posture.Proactive,
        threshold=1,
        within=timedelta(seconds=within),
    )
    action = ChangeFlowRunState(
        state=StateType.CRASHED,
        message=f"No heartbeat for {within:.0f} s: the run's process is gone.",
    )
    description = "Marks a campaign run Crashed when its heartbeats stop (deploy_all.py)."
    try:
        # read/create/update are sync here (no running event loop), as `from_source` below.
        existing = cast(Automation, Automation.read(name=SILENT_RUN_AUTOMATION))
    except ValueError:  # Prefect's way of saying there is none by that name
        Automation(
            name=SILENT_RUN_AUTOMATION,
            description=description,
            trigger=trigger,
            actions=[action],
        ).create()
    else:
        existing.description = description
        existing.trigger = trigger
        existing.actions = [action]
        existing.enabled = True
        existing.update()
    return (
        f"Automation {SILENT_RUN_AUTOMATION}: a run silent for {within:.0f} s is marked "
        "Crashed, and the reconciler starts it again."
    )


def heartbeat_env(settings: Settings) -> dict[str, str]:
    """How often deployed runs send a heartbeat (Prefect's own setting, per run process)."""
    return {"PREFECT_FLOWS_HEARTBEAT_FREQUENCY": str(settings.reconciler.heartbeat_seconds)}


def data_source_env(settings: Settings) -> dict[str, str]:
    """The three data-source ids as the environment variables runs read them from."""
    if settings.missing(NotionAccess):
        return {}
    ids = NotionCRM.from_settings(settings).data_source_ids()
    return {f"NOTION_{which.upper()}_DATA_SOURCE_ID": source for which, source in ids.items()}


def deploy_all(
    source: Path = REPO_ROOT,
    pool: str = WORK_POOL,
    env: dict[str, str] | None = None,
    settings: Settings | None = None,
) -> list[str]:
    """Register every deployment from the checked-out code on the work pool."""
    from prefect import flow

    names = []
    for spec in deployment_specs(settings):
        # from_source is sync here (no running event loop), despite its async-compatible type.
        loaded = cast(
            Flow[..., Any], flow.from_source(source=str(source), entrypoint=spec.entrypoint)
        )
        loaded.deploy(
            name=spec.name,
            work_pool_name=pool,
            work_queue_name=spec.work_queue,
            job_variables={"command": FLOW_RUN_COMMAND, "env": env or {}},
            interval=spec.interval_seconds,
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
    from campaigns.christmas_campaign.flows.reconciler import christmas_reconcile
    from campaigns.christmas_campaign.flows.report import christmas_report
    from campaigns.christmas_campaign.flows.send_email import christmas_send_email

    flows: dict[str, Flow[..., Any]] = {
        ORCHESTRATOR_ENTRY: christmas_email_sequence_orchestrator,
        SEND_ENTRY: christmas_send_email,
        CANCEL_ENTRY: christmas_cancel_sequence,
        RECONCILER_ENTRY: christmas_reconcile,
        REPORT_ENTRY: christmas_report,
    }
    deployments = [
        flows[spec.entrypoint].to_deployment(
            name=spec.name,
            tags=TAGS,
            description=spec.description,
            interval=spec.interval_seconds,
        )
        for spec in deployment_specs()
    ]
    serve(*deployments, limit=limit)  # type: ignore[arg-type]  # sync here, see deploy_all


def register(settings: Settings, pool: str = WORK_POOL) -> list[str]:
    """Everything the campaign needs on the server, upserted; one line per thing done."""
    lines = [ensure_notion_rate_limit(settings), ensure_silent_run_automation(settings)]
    created = ensure_work_pool(pool)
    lines.append(f"Work pool {pool} {'created' if created else 'already exists'} (process).")
    lines += ensure_work_queues(pool)
    sources = data_source_env(settings)
    lines.append(
        "Notion data sources looked up once; every run gets them from its deployment."
        if sources
        else "Notion settings are not set here: each run looks its data sources up itself."
    )
    names = deploy_all(pool=pool, env=sources | heartbeat_env(settings), settings=settings)
    lines += [f"Deployment {name} registered." for name in names]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help="serve all deployments locally")
    parser.add_argument("--pool", default=WORK_POOL, help="work pool name (default %(default)s)")
    args = parser.parse_args(argv)
    try:
        url = check_api()
        print(f"Prefect API reachable at {url}.")
        settings = load_settings()
        if args.serve:
            print(ensure_notion_rate_limit(settings))
            print(ensure_silent_run_automation(settings))
            print("Serving all deployments from this process; press Ctrl-C to stop.")
            serve_all()
            return 0
        for line in register(settings, args.pool):
            print(line)
    except CampaignError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    print(
        f"Next: start a worker with `prefect worker start --pool {args.pool} "
        f"--limit {WORKER_PROCESS_LIMIT}`, with this environment's bin folder first on PATH "
        f"(its runs start `{FLOW_RUN_COMMAND}`)."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
