"""Runs of one step or signup after the orchestrator: read them, start one again, defer one.

The reconciler reads a contact's runs to judge a step (`reconcile.judge_runs`) and starts lost
steps and signups again; a send run that must wait defers itself by creating the step's next
run. Every run created here carries an idempotency key built on the key of the step it belongs
to (`idempotency.redrive_key`, `idempotency.defer_key`, `idempotency.signup_run_key`), so the
step's runs share one prefix, and a retried creation finds the run it already made.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from prefect import get_client
from prefect.client.schemas.filters import (
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterExpectedStartTime,
    FlowRunFilterStartTime,
    FlowRunFilterState,
    FlowRunFilterStateType,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.client.schemas.sorting import FlowRunSort
from prefect.events.filters import (
    EventFilter,
    EventNameFilter,
    EventOccurredFilter,
    EventOrder,
    EventResourceFilter,
)
from prefect.exceptions import ObjectNotFound
from prefect.states import Crashed, Scheduled

from campaigns.christmas_campaign.reconcile import RunView
from campaigns.christmas_campaign.topology import (
    ORCHESTRATOR_FLOW_NAME,
    ORCHESTRATOR_PATH,
    PERMANENT_FAILURE_TAG,
    SEND_FLOW_NAME,
    contact_tag,
    orchestrator_tags,
    run_tags,
    step_path,
    step_run_name,
)
from campaigns.errors import DeploymentMissing
from campaigns.idempotency import contact_ref

RECONCILER_SOURCE = "reconciler"
_PAGE = 200


def view(run: FlowRun) -> RunView:
    """The reconciler's view of a Prefect flow run."""
    state = run.state
    created = run.created or datetime.now(UTC)
    return RunView(
        id=str(run.id),
        name=run.name,
        state_type=state.type.value if state else "SCHEDULED",
        state_name=(state.name or state.type.value.title()) if state else "Unknown",
        state_since=state.timestamp if state and state.timestamp else created,
        created=created,
        redrive=f"source:{RECONCILER_SOURCE}" in run.tags
        or "/redrive-" in (run.idempotency_key or ""),
        message=(state.message or "") if state else "",
        permanent=PERMANENT_FAILURE_TAG in run.tags,
        due=run.expected_start_time,
    )


def contact_send_runs(email: str) -> list[FlowRun]:
    """Every send run of this contact, all steps and enrollments."""
    return _read(
        FlowFilter(name=FlowFilterName(any_=[SEND_FLOW_NAME])),
        FlowRunFilter(tags=FlowRunFilterTags(all_=run_tags(email))),
    )


def contact_signup_runs(email: str) -> list[FlowRun]:
    """Every orchestrator run of this contact that carries its contact tag."""
    return _read(
        FlowFilter(name=FlowFilterName(any_=[ORCHESTRATOR_FLOW_NAME])),
        FlowRunFilter(tags=FlowRunFilterTags(all_=[contact_tag(email)])),
    )


def troubled_signup_runs(since: datetime, running_since: datetime) -> list[FlowRun]:
    """Orchestrator runs expected to start after `since` that ended Failed or Crashed, sit
    Pending (a worker may have died while starting them), or have been Running since before
    `running_since` (a worker may have died while running them; the many healthy runs of a
    burst are not read)."""
    troubled = [StateType.FAILED, StateType.CRASHED, StateType.PENDING]
    orchestrator = FlowFilter(name=FlowFilterName(any_=[ORCHESTRATOR_FLOW_NAME]))
    expected = FlowRunFilterExpectedStartTime(after_=since)
    ended_or_waiting = FlowRunFilter(
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=troubled)),
        expected_start_time=expected,
    )
    running_long = FlowRunFilter(
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.RUNNING])),
        expected_start_time=expected,
        start_time=FlowRunFilterStartTime(before_=running_since),
    )
    return [*_read(orchestrator, ended_or_waiting), *_read(orchestrator, running_long)]


def running_runs(flow_name: str) -> list[FlowRun]:
    """Every Running run of the flow `flow_name`."""
    return _read(
        FlowFilter(name=FlowFilterName(any_=[flow_name])),
        FlowRunFilter(
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.RUNNING]))
        ),
    )


def mark_crashed(run_id: str, reason: str) -> None:
    """Move a run that no process will ever finish to Crashed, so nothing starts it later."""
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(UUID(run_id), Crashed(message=reason), force=True)


def last_sign_of_life(run_id: str, *, since: datetime) -> datetime:
    """When the run last showed it was alive: its newest event (a heartbeat or a state change)
    after `since`, or `since` itself when there is none."""
    with get_client(sync_client=True) as client:
        page = client.read_events(
            EventFilter(
                occurred=EventOccurredFilter(since=since, until=datetime.now(UTC)),
                event=EventNameFilter(prefix=["prefect.flow-run."]),
                resource=EventResourceFilter(id=[f"prefect.flow-run.{run_id}"]),
                order=EventOrder.DESC,
            ),
            limit=1,
        )
    return max([since, *(event.occurred for event in page.events)])


def step_runs(runs: list[FlowRun], step_key: str) -> list[FlowRun]:
    """The runs of one step of one enrollment: its first run's key, or a key built on it."""
    return [
        run for run in runs if _key_of(run) == step_key or _key_of(run).startswith(step_key + "/")
    ]


def enrollment_runs(runs: list[FlowRun], enrollment_key: str) -> list[FlowRun]:
    """The runs of one enrollment of a contact (a re-enrollment has a new key)."""
    return [run for run in runs if _key_of(run).startswith(enrollment_key + "/")]


def start_step_again(
    email: str, email_number: int, parameters: dict[str, Any], key: str, attempt: int
) -> FlowRun:
    """Create a run of step `email_number` due now, with the lost run's parameters."""
    return _create(
        step_path(email_number),
        parameters,
        key,
        tags=[*run_tags(email, email_number), f"source:{RECONCILER_SOURCE}"],
        name=step_run_name(email, email_number, f"redrive-{attempt}"),
    )


def defer_step(
    email: str, email_number: int, parameters: dict[str, Any], key: str, at: datetime
) -> FlowRun:
    """Create the step's next run, due at `at`, with this run's parameters."""
    return _create(
        step_path(email_number),
        parameters,
        key,
        tags=run_tags(email, email_number),
        name=step_run_name(email, email_number, "deferred"),
        at=at,
    )


def start_signup(
    email: str, parameters: dict[str, Any], key: str, *, source: str, name: str | None = None
) -> FlowRun:
    """Create an orchestrator run of this signup, due now; a second call with the same `key`
    returns the first run. The one way a signup is started in sync code (the CLI, the
    reconciler); the webhook service does the same with Prefect's async client."""
    return _create(
        ORCHESTRATOR_PATH, parameters, key, tags=orchestrator_tags(email, source), name=name
    )


def start_signup_again(email: str, parameters: dict[str, Any], key: str) -> FlowRun:
    """Create an orchestrator run with the lost run's parameters (the signup), due now."""
    name = f"signup-{contact_ref(email)[:8]}-redrive"
    return start_signup(email, parameters, key, source=RECONCILER_SOURCE, name=name)


def _create(
    deployment_path: str,
    parameters: dict[str, Any],
    key: str,
    *,
    tags: list[str],
    name: str | None = None,
    at: datetime | None = None,
) -> FlowRun:
    with get_client(sync_client=True) as client:
        try:
            deployment = client.read_deployment_by_name(deployment_path)
        except ObjectNotFound:
            raise DeploymentMissing(deployment_path) from None
        return client.create_flow_run_from_deployment(
            deployment.id,
            parameters=parameters,
            state=Scheduled(scheduled_time=at or datetime.now(UTC)),
            idempotency_key=key,
            tags=tags,
            name=name,
        )


def _key_of(run: FlowRun) -> str:
    return run.idempotency_key or ""


def _read(flows: FlowFilter, runs: FlowRunFilter) -> list[FlowRun]:
    return list(_pages(flows, runs))


def _pages(flows: FlowFilter, runs: FlowRunFilter) -> Iterator[FlowRun]:
    offset = 0
    with get_client(sync_client=True) as client:
        while True:
            page = client.read_flow_runs(
                flow_filter=flows,
                flow_run_filter=runs,
                sort=FlowRunSort.EXPECTED_START_TIME_ASC,
                limit=_PAGE,
                offset=offset,
            )
            yield from page
            if len(page) < _PAGE:
                return
            offset += _PAGE
