"""Flow `christmas-email-sequence-orchestrator`: enroll one signup and schedule its seven emails.

Order matters: everything that can fail for a reason a person must fix (bad input, a missing or
Draft template, a missing variable) is checked before anything is written or scheduled.

It is idempotent (the enrollment time of an Active contact is reused, so the runs' keys are the
same), so it is safe to retry as a whole: transient Notion failures are retried inside each
call for minutes (`NOTION_RETRY_BUDGET_SECONDS`), Prefect API failures by Prefect's client, and
a run that still fails is retried three times, five minutes apart. Notion requests: read the
contact, read the seven templates in one query, create or update the contact, and for a contact
seen before, read its send log once (so a re-enrolled contact's runs know their rows).
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
from campaigns.christmas_campaign.tasks.common import Services, retry_only_transient
from campaigns.christmas_campaign.tasks.contacts import enroll_contact, read_contact
from campaigns.christmas_campaign.tasks.scheduling import (
    CreatedRun,
    StepRun,
    schedule_send_runs,
)
from campaigns.christmas_campaign.tasks.send_log import read_send_log
from campaigns.christmas_campaign.tasks.templates import render_sequence
from campaigns.christmas_campaign.topology import ORCHESTRATOR_FLOW_NAME
from campaigns.idempotency import contact_ref, step_run_key
from campaigns.models import DO_NOT_CONTACT, Contact, SendRecord, SequenceStatus, Signup
from campaigns.settings import CONTENT, NOTION, RESEND, load_settings

# Statuses after which a new signup does not restart the sequence, with the reason given.
_NOT_REENROLLED = DO_NOT_CONTACT | {SequenceStatus.COMPLETED, SequenceStatus.CONVERTED}


# Three whole-run retries, five minutes apart, for what outlived the adapters' own retries.
@flow(name=ORCHESTRATOR_FLOW_NAME, log_prints=False, retries=3, retry_delay_seconds=300)
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
    parameters = dict(locals())
    with retry_only_transient():
        return _enroll(Signup.model_validate(parameters))  # a bad field fails before any I/O


def _enroll(signup: Signup) -> list[CreatedRun] | State:
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
    enroll_contact(services, existing, signup, segment, enrolled_at)
    # A new contact has no send-log rows yet; a returning one may (sent, skipped, failed).
    rows = read_send_log(services, signup.email) if existing is not None else {}
    runs = schedule_send_runs(
        signup.email,
        [
            _step_run(signup, segment.value, enrolled_at, s, rows.get(s.email_number))
            for s in schedule
        ],
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


def _step_run(
    signup: Signup,
    segment: str,
    enrolled_at: datetime,
    step: ScheduledEmail,
    row: SendRecord | None,
) -> StepRun:
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
            "send_log_row_id": row.page_id if row else None,
            "send_log_read": True,
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
