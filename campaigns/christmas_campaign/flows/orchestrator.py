"""Flow `christmas-email-sequence-orchestrator`: enroll one signup and schedule its seven emails.

Order matters: everything that can fail for a reason a person must fix (bad input, a missing or
Draft template, a missing variable) is checked before anything is written or scheduled.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from prefect.client.schemas.objects import State
from prefect.states import Completed

from campaigns.christmas_campaign.sequence import (
    CAMPAIGN,
    ScheduledEmail,
    build_schedule,
    classify_segment,
)
from campaigns.christmas_campaign.tasks.common import Services
from campaigns.christmas_campaign.tasks.contacts import (
    enroll_contact,
    find_or_create_contact,
    read_contact,
)
from campaigns.christmas_campaign.tasks.scheduling import (
    CreatedRun,
    StepRun,
    schedule_send_runs,
)
from campaigns.christmas_campaign.tasks.send_log import schedule_send_rows
from campaigns.christmas_campaign.tasks.templates import render_sequence
from campaigns.idempotency import contact_ref, step_run_key
from campaigns.models import DO_NOT_CONTACT, Contact, SequenceStatus, Signup
from campaigns.settings import CONTENT, NOTION, RESEND, load_settings

# Statuses after which a new signup does not restart the sequence, with the reason given.
_NOT_REENROLLED = DO_NOT_CONTACT | {SequenceStatus.COMPLETED, SequenceStatus.CONVERTED}


@flow(name="christmas-email-sequence-orchestrator", log_prints=False)
def christmas_email_sequence_orchestrator(
    email: str,
    first_name: str,
    business_name: str,
    assessment_score: int,
    red_systems: int,
    orange_systems: int,
    yellow_systems: int,
    green_systems: int,
    gps_score: int | None = None,
    money_score: int | None = None,
    weakest_system_1: str | None = None,
    weakest_system_2: str | None = None,
    revenue_leak_monthly: Decimal | None = None,
) -> list[CreatedRun] | State:
    """Validate, classify, check every template, enroll in Notion and schedule seven runs."""
    signup = Signup.model_validate(locals())  # first: a bad field fails before any I/O
    settings = load_settings().require(*NOTION, *CONTENT, *RESEND)  # sends need all of them
    services = Services(settings)
    segment = classify_segment(signup.red_systems, signup.orange_systems)
    existing = read_contact(services, signup.email)
    if existing is not None and existing.sequence_status in _NOT_REENROLLED:
        return _not_reenrolled(existing)
    enrolled_at = _enrollment_time(existing)
    schedule = build_schedule(
        enrolled_at,
        segment,
        testing_mode=settings.testing_mode,
        time_scale=settings.sequence_time_scale,
    )
    render_sequence(services, schedule, signup, segment)  # nothing is written before this
    contact = find_or_create_contact(services, signup, existing)
    contact = enroll_contact(services, contact, signup, segment, enrolled_at)
    # Rows before runs: email 1 is due at once, and its run must find its row.
    schedule_send_rows(services, signup.email, schedule, contact.page_id)
    runs = schedule_send_runs(
        signup.email, [_step_run(signup, segment.value, enrolled_at, s) for s in schedule]
    )
    _publish_schedule(signup.email, segment.value, runs)
    get_run_logger().info(
        "Scheduled %d emails for contact %s (segment %s, enrolled %s).",
        len(runs),
        contact_ref(signup.email),
        segment.value,
        enrolled_at.isoformat(),
    )
    return runs


def _not_reenrolled(contact: Contact) -> State:
    status = contact.sequence_status.value if contact.sequence_status else "unknown"
    message = (
        f"Contact {contact_ref(contact.email)} is not re-enrolled: its Sequence Status is {status}."
    )
    get_run_logger().info(message)
    return Completed(message=message)


def _enrollment_time(contact: Contact | None) -> datetime:
    """Reuse the current enrollment so a second run finds the same runs by idempotency key."""
    if (
        contact is not None
        and contact.sequence_status == SequenceStatus.ACTIVE
        and contact.enrolled_at is not None
    ):
        return contact.enrolled_at.astimezone(UTC)
    return datetime.now(UTC).replace(microsecond=0)


def _step_run(signup: Signup, segment: str, enrolled_at: datetime, step: ScheduledEmail) -> StepRun:
    return StepRun(
        email_number=step.email_number,
        due_at=step.due_at,
        idempotency_key=step_run_key(CAMPAIGN, signup.email, enrolled_at, step.email_number),
        parameters={
            "email": signup.email,
            "email_number": step.email_number,
            "template_id": step.template_id,
            "segment": segment,
            "scheduled_for": step.due_at.isoformat(),
            "signup": signup.model_dump(mode="json"),
        },
    )


def _publish_schedule(email: str, segment: str, runs: list[CreatedRun]) -> None:
    create_table_artifact(
        key=f"christmas-schedule-{contact_ref(email)}",
        table=[
            {
                "email": run.email_number,
                "scheduled for (UTC)": run.scheduled_for.astimezone(UTC).isoformat(),
                "flow run": run.name,
                "state": run.state,
                "segment": segment,
            }
            for run in runs
        ],
        description=f"Christmas sequence of contact {contact_ref(email)}",
    )
