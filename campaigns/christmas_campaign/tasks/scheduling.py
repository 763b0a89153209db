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
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import StateType
from prefect.exceptions import ObjectNotFound
from prefect.states import Cancelled, Scheduled

from campaigns.christmas_campaign.tasks.common import TASK_OPTIONS
from campaigns.christmas_campaign.topology import run_tags, step_path
from campaigns.errors import DeploymentMissing
from campaigns.idempotency import contact_ref

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


@task(name="schedule-send-runs", **TASK_OPTIONS)
def schedule_send_runs(email: str, steps: list[StepRun]) -> list[CreatedRun]:
    """Create (or find again, by idempotency key) one Scheduled run per step."""
    created: list[CreatedRun] = []
    with get_client(sync_client=True) as client:
        for step in steps:
            name = step_path(step.email_number)
            try:
                deployment = client.read_deployment_by_name(name)
            except ObjectNotFound:
                raise DeploymentMissing(
                    f"Deployment {name} does not exist; register the deployments with "
                    "`python campaigns/christmas_campaign/deployments/deploy_all.py`."
                ) from None
            run = client.create_flow_run_from_deployment(
                deployment.id,
                parameters=step.parameters,
                state=Scheduled(scheduled_time=step.due_at),
                idempotency_key=step.idempotency_key,
                tags=run_tags(email, step.email_number),
                name=f"email-{step.email_number}-{contact_ref(email)[:8]}",
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
