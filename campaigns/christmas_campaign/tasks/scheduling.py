"""Tasks that create, find and cancel the seven send-email flow runs of a contact on Prefect.

Each run is created with a deterministic idempotency key (campaign, contact, enrollment, step):
Prefect answers a second create with the same key with the run it already has, so re-running
the orchestrator, or two deliveries of one signup, never schedule a second set.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from prefect import get_client, task
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterName,
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import StateType
from prefect.states import Cancelled, Scheduled

from campaigns.christmas_campaign.tasks.common import PREFECT_API_RETRIES, TASK_OPTIONS
from campaigns.christmas_campaign.topology import (
    SEND_FLOW_NAME,
    run_tags,
    step_deployment,
    step_path,
    step_run_name,
)
from campaigns.errors import DeploymentMissing

_NOT_STARTED = [StateType.SCHEDULED, StateType.PENDING, StateType.PAUSED]


@dataclass(frozen=True)
class StepRun:
    """One scheduled send-email run, as the orchestrator asks Prefect to create it."""

    email_number: int
    due_at: datetime
    parameters: dict[str, Any]
    idempotency_key: str


@dataclass(frozen=True)
class CreatedRun:
    email_number: int
    flow_run_id: UUID
    name: str
    state: str
    scheduled_for: datetime


@task(name="schedule-send-runs", **TASK_OPTIONS, **PREFECT_API_RETRIES)
def schedule_send_runs(email: str, steps: list[StepRun]) -> list[CreatedRun]:
    """Create (or find again, by idempotency key) one Scheduled run per step."""
    created: list[CreatedRun] = []
    with get_client(sync_client=True) as client:
        deployments = {
            deployment.name: deployment.id
            for deployment in client.read_deployments(
                flow_filter=FlowFilter(name=FlowFilterName(any_=[SEND_FLOW_NAME])),
                deployment_filter=DeploymentFilter(
                    name=DeploymentFilterName(any_=[step_deployment(s.email_number) for s in steps])
                ),
            )
        }
        for step in steps:
            deployment_id = deployments.get(step_deployment(step.email_number))
            if deployment_id is None:
                raise DeploymentMissing(step_path(step.email_number))
            run = client.create_flow_run_from_deployment(
                deployment_id,
                parameters=step.parameters,
                state=Scheduled(scheduled_time=step.due_at),
                idempotency_key=step.idempotency_key,
                tags=run_tags(email, step.email_number),
                name=step_run_name(email, step.email_number),
            )
            created.append(
                CreatedRun(
                    email_number=step.email_number,
                    flow_run_id=run.id,
                    name=run.name,
                    state=str(run.state.name) if run.state else "Unknown",
                    scheduled_for=run.expected_start_time or step.due_at,
                )
            )
    return created


def cancel_not_started_runs(email: str, reason: str) -> list[UUID]:
    """Move every not-yet-started run of this contact to Cancelled; return their ids."""
    cancelled: list[UUID] = []
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                tags=FlowRunFilterTags(all_=run_tags(email)),
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=_NOT_STARTED)),
            ),
            limit=200,
        )
        for run in runs:
            result: Any = client.set_flow_run_state(run.id, Cancelled(message=reason))
            if result.state is not None and result.state.is_cancelled():
                cancelled.append(run.id)
    return cancelled
