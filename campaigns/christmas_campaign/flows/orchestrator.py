"""Flow `christmas-email-sequence-orchestrator`: enroll one signup and schedule its seven emails.

The due times come from `timing.plan_schedule`: fitted before the campaign's end and into the
contact's send window. A step that cannot fit gets a Skipped row in the send log saying why and
no run; a signup after the end is not enrolled at all (the contact is recorded as Campaign
Ended and the run ends Completed, saying so).

Order matters: everything that can fail for a reason a person must fix (bad input, a missing or
Draft template, a missing variable) is checked before anything is written or scheduled.

It is idempotent (the enrollment time of an Active contact is reused, so the runs' keys are the
same), so it is safe to retry as a whole: transient Notion failures are retried inside each
call for minutes (`NOTION_RETRY_BUDGET_SECONDS`), Prefect API failures by Prefect's client, and
a run that still fails is retried three times, five minutes apart. Notion requests: read the
contact, read the seven templates in one query, create or update the contact, and for a contact
seen before, read its send log once (so a re-enrolled contact's runs know their rows), and one
write per dropped step.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import Annotated

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from prefect.client.schemas.objects import State
from prefect.states import Completed
from pydantic import WithJsonSchema

from campaigns.christmas_campaign.sequence import CAMPAIGN, ScheduledEmail, classify_segment
from campaigns.christmas_campaign.tasks.common import FlowServices, retry_only_transient
from campaigns.christmas_campaign.tasks.contacts import (
    enroll_contact,
    read_contact,
    record_late_signup,
)
from campaigns.christmas_campaign.tasks.scheduling import (
    CreatedRun,
    StepRun,
    schedule_send_runs,
)
from campaigns.christmas_campaign.tasks.send_log import ALREADY_SENT, read_send_log, write_send_row
from campaigns.christmas_campaign.tasks.templates import render_sequence
from campaigns.christmas_campaign.timing import PlannedStep, Timing, after_end, plan_schedule
from campaigns.christmas_campaign.topology import ORCHESTRATOR_FLOW_NAME
from campaigns.idempotency import contact_ref, step_run_key
from campaigns.models import (
    DO_NOT_CONTACT,
    SYSTEM_COUNT,
    Contact,
    Segment,
    SendRecord,
    SendStatus,
    SendUpdate,
    SequenceStatus,
    Signup,
    iana_zone,
)
from campaigns.settings import SEND_GROUPS, load_settings

# Statuses after which a new signup does not restart the sequence, with the reason given.
_NOT_REENROLLED = DO_NOT_CONTACT | {SequenceStatus.COMPLETED, SequenceStatus.CONVERTED}


# The deployment's Run form in the Prefect UI is built from the signature below: each input's
# help is the docstring's `Args:` entry, its bounds come from these schemas. They only describe
# the form (and the API checks runs created from the deployment against them); the values are
# validated by `Signup`, whose rules they mirror, so a bad field still fails the run at once
# with `Signup`'s message. The test of the form compares the two.
_FormEmail = Annotated[str, WithJsonSchema({"type": "string", "format": "email", "maxLength": 200})]
_FormName = Annotated[str, WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 100})]
_FormBusinessName = Annotated[
    str, WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 200})
]
_FormScore = Annotated[int, WithJsonSchema({"type": "integer", "minimum": 0, "maximum": 100})]
_FormColourCount = Annotated[
    int, WithJsonSchema({"type": "integer", "minimum": 0, "maximum": SYSTEM_COUNT})
]
_FormLabel = Annotated[str, WithJsonSchema({"type": "string", "maxLength": 100})]
# One number input. The flow reads any number, or text such as "3200", exactly as a Decimal;
# a run created through the deployment must send a JSON number (the API refuses text here).
_FormDollars = Annotated[
    Decimal, WithJsonSchema({"type": "number", "minimum": 0, "maximum": 1_000_000_000})
]
_FormTimeZone = Annotated[str, WithJsonSchema({"type": "string", "maxLength": 64})]


# Three whole-run retries, five minutes apart, for what outlived the adapters' own retries.
@flow(name=ORCHESTRATOR_FLOW_NAME, log_prints=False, retries=3, retry_delay_seconds=300)
def christmas_email_sequence_orchestrator(
    email: _FormEmail,
    first_name: _FormName,
    business_name: _FormBusinessName,
    assessment_score: _FormScore,
    red_systems: _FormColourCount,
    orange_systems: _FormColourCount,
    yellow_systems: _FormColourCount,
    green_systems: _FormColourCount,
    gps_score: _FormScore | None = None,
    money_score: _FormScore | None = None,
    weakest_system_1: _FormLabel | None = None,
    weakest_system_2: _FormLabel | None = None,
    revenue_leak_monthly: _FormDollars | None = None,
    timezone: _FormTimeZone | None = None,
) -> list[CreatedRun] | State:
    """Validate, classify, check every template, enroll in Notion and schedule seven runs.

    Args:
        email: The contact's email address. The seven emails go to it.
        first_name: The contact's first name, as the emails greet them (1 to 100 characters).
        business_name: The contact's business name, as the emails mention it (1 to 200
            characters).
        assessment_score: The overall assessment score, a whole number from 0 to 100.
        red_systems: How many of the 8 business systems the assessment rated red (0 to 8). The
            four colour counts must add up to 8. Two or more red: the CRITICAL emails.
        orange_systems: How many systems were rated orange (0 to 8). One red, or two or more
            orange: the URGENT emails.
        yellow_systems: How many systems were rated yellow (0 to 8).
        green_systems: How many systems were rated green (0 to 8). With no red and at most one
            orange: the OPTIMIZE emails.
        gps_score: The GPS score of the assessment, from 0 to 100, if it has one.
        money_score: The Money score of the assessment, from 0 to 100, if it has one.
        weakest_system_1: The name of the contact's weakest system, as the emails name it (up
            to 100 characters).
        weakest_system_2: The name of the second weakest system (up to 100 characters).
        revenue_leak_monthly: The revenue the contact loses each month, in US dollars, as a
            plain number such as 3200 or 3200.50 (no $ sign, no commas; 0 to 1,000,000,000, at
            most two decimals). The emails show it, and twelve times it as the yearly loss.
        timezone: The contact's time zone, as an IANA name such as Europe/Paris or
            America/New_York. Emails 2 to 7 go out in its daytime. None: the campaign's time
            zone.
    """
    parameters = dict(locals())
    with retry_only_transient():
        return _enroll(Signup.model_validate(parameters))  # a bad field fails before any I/O


def _enroll(signup: Signup) -> list[CreatedRun] | State:
    settings = load_settings().require(*SEND_GROUPS)
    services = FlowServices(settings)
    segment = classify_segment(signup.red_systems, signup.orange_systems)
    now = datetime.now(UTC).replace(microsecond=0)
    timing = Timing.from_settings(settings, now=now)
    existing = read_contact(services, signup.email)
    if existing is not None and existing.sequence_status in _NOT_REENROLLED:
        return _not_reenrolled(existing)
    if after_end(now, timing):
        return _after_end(services, existing, signup, segment, timing)
    enrolled_at = _enrollment_time(existing, now)
    plan = plan_schedule(enrolled_at, segment, timing, _zone(signup, timing))
    schedule = [
        ScheduledEmail(s.email_number, s.template_id, s.due_at)
        for s in plan
        if s.due_at is not None
    ]
    render_sequence(services, schedule, signup, segment)  # nothing is written before this
    contact = enroll_contact(services, existing, signup, segment, enrolled_at)
    # A new contact has no send-log rows yet; a returning one may (sent, skipped, failed).
    rows = read_send_log(services, signup.email) if existing is not None else {}
    dropped = [s for s in plan if s.due_at is None]
    for step in dropped:
        _record_dropped(services, signup.email, contact, enrolled_at, timing, step, rows)
    runs = schedule_send_runs(
        signup.email,
        [
            _step_run(signup, segment.value, enrolled_at, s, rows.get(s.email_number))
            for s in schedule
        ],
    )
    _publish_schedule(signup.email, segment.value, runs, dropped)
    get_run_logger().info(
        "Scheduled %d emails for contact %s (segment %s, enrolled %s); %d dropped to fit before "
        "the campaign's end.",
        len(runs),
        contact_ref(signup.email),
        segment.value,
        enrolled_at.isoformat(),
        len(dropped),
    )
    return runs


def _zone(signup: Signup, timing: Timing) -> tzinfo:
    """The contact's own zone when the signup gave one, else the campaign's."""
    return iana_zone(signup.timezone) if signup.timezone else timing.zone


def _after_end(
    services: FlowServices,
    existing: Contact | None,
    signup: Signup,
    segment: Segment,
    timing: Timing,
) -> State:
    """Record the contact as Campaign Ended and schedule nothing: the campaign is over."""
    record_late_signup(services, existing, signup, segment)
    ends_at = timing.ends_at.astimezone(UTC).isoformat() if timing.ends_at else "unset"
    message = (
        f"Contact {contact_ref(signup.email)} is not enrolled: the signup came after the "
        f"campaign ended at {ends_at}. Its Sequence Status is Campaign Ended."
    )
    get_run_logger().info(message)
    return Completed(message=message)


def _record_dropped(
    services: FlowServices,
    email: str,
    contact: Contact,
    enrolled_at: datetime,
    timing: Timing,
    step: PlannedStep,
    rows: dict[int, SendRecord],
) -> None:
    """A Skipped row saying why the step was dropped (unless the log already says so)."""
    row = rows.get(step.email_number)
    if row is not None and (
        row.status in ALREADY_SENT or (row.status == SendStatus.SKIPPED and row.detail == step.note)
    ):
        return
    write_send_row(
        services,
        email,
        step.email_number,
        step.template_id,
        contact.page_id,
        enrolled_at + timing.offset(step.email_number),  # when it would have been due
        SendUpdate(status=SendStatus.SKIPPED, detail=step.note),
        row.page_id if row else None,
    )


def _not_reenrolled(contact: Contact) -> State:
    status = contact.sequence_status.value if contact.sequence_status else "unknown"
    message = (
        f"Contact {contact_ref(contact.email)} is not re-enrolled: its Sequence Status is {status}."
    )
    get_run_logger().info(message)
    return Completed(message=message)


def _enrollment_time(contact: Contact | None, now: datetime) -> datetime:
    """Reuse the current enrollment so a second run finds the same runs by idempotency key."""
    if (
        contact is not None
        and contact.sequence_status == SequenceStatus.ACTIVE
        and contact.enrolled_at is not None
    ):
        return contact.enrolled_at.astimezone(UTC)
    return now


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


def _publish_schedule(
    email: str, segment: str, runs: list[CreatedRun], dropped: list[PlannedStep]
) -> None:
    table = [
        {
            "email": run.email_number,
            "scheduled for (UTC)": run.scheduled_for.astimezone(UTC).isoformat(),
            "flow run": run.name,
            "state": run.state,
            "segment": segment,
        }
        for run in runs
    ] + [
        {
            "email": step.email_number,
            "scheduled for (UTC)": "",
            "flow run": "",
            "state": f"Skipped. {step.note}",
            "segment": segment,
        }
        for step in dropped
    ]
    create_table_artifact(
        key=f"christmas-schedule-{contact_ref(email)}",
        table=sorted(table, key=lambda row: int(str(row["email"]))),
        description=f"Christmas sequence of contact {contact_ref(email)}",
    )
