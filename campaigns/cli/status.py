"""`campaign status EMAIL`: a contact as Notion holds it, and its seven emails as Prefect runs them.

Notion is the record (segment, status, the send log); Prefect says what is scheduled, running or
cancelled. When Prefect cannot be reached the Notion half is still shown, with a warning line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import typer
from rich.table import Table

from campaigns.christmas_campaign.sequence import EMAIL_COUNT, template_id_for
from campaigns.cli.output import err, handled, out, utc
from campaigns.errors import CommandError, OrchestrationError
from campaigns.models import Contact, SendRecord
from campaigns.notion_crm import NotionCRM
from campaigns.settings import Settings, load_settings


@dataclass(frozen=True)
class StepStatus:
    email_number: int
    template_id: str
    scheduled_for: str
    prefect_state: str
    notion_status: str
    sent_at: str
    resend_id: str
    detail: str


@dataclass(frozen=True)
class ContactStatus:
    contact: Contact
    steps: list[StepStatus]
    prefect_problem: str  # empty when Prefect answered


def read_status(settings: Settings, email: str) -> ContactStatus:
    crm = NotionCRM.from_settings(settings)
    contact = crm.find_contact(email)
    if contact is None:
        raise CommandError(
            f"No contact {email.strip().lower()} in the Notion Contacts database. Check the "
            "address, or enroll it with `campaign signup`."
        )
    runs, problem = _runs(email)
    rows = crm.find_sends(email)
    steps = [
        _step(number, contact, rows.get(number), runs.get(number), problem)
        for number in range(1, EMAIL_COUNT + 1)
    ]
    return ContactStatus(contact, steps, problem)


def _runs(email: str) -> tuple[dict[int, Any], str]:
    try:
        from campaigns.cli.orchestration import contact_runs, require_api

        require_api()
        return contact_runs(email), ""
    except OrchestrationError as exc:
        return {}, str(exc)


def _step(
    number: int, contact: Contact, row: SendRecord | None, run: Any, problem: str
) -> StepStatus:
    template = row.template_id if row and row.template_id else ""
    if not template and contact.segment is not None:
        template = template_id_for(number, contact.segment)
    scheduled = row.scheduled_for if row else None
    if run is not None and run.expected_start_time is not None:
        scheduled = run.expected_start_time
    if run is not None and run.state is not None:
        state = str(run.state.name)
    else:
        state = "?" if problem else "-"
    return StepStatus(
        email_number=number,
        template_id=template or "-",
        scheduled_for=utc(scheduled),
        prefect_state=state,
        notion_status=row.status.value if row and row.status else "-",
        sent_at=utc(row.sent_at) if row else "-",
        resend_id=row.resend_email_id if row and row.resend_email_id else "-",
        detail=row.detail if row else "",
    )


def contact_table(status: ContactStatus) -> Table:
    contact = status.contact
    table = Table(show_header=False, box=None, padding=(0, 2, 0, 0))
    table.add_column(style="bold")
    table.add_column()
    last = (
        f"email {contact.last_email_sent} at {utc(contact.last_email_sent_at)}"
        if contact.last_email_sent
        else "-"
    )
    for label, value in (
        ("Contact", contact.email),
        ("Name", contact.first_name or "-"),
        ("Business", contact.business_name or "-"),
        ("Segment", contact.segment.value if contact.segment else "-"),
        ("Sequence Status", contact.sequence_status.value if contact.sequence_status else "-"),
        ("Enrolled at", utc(contact.enrolled_at)),
        ("Last email sent", last),
    ):
        table.add_row(label, value)
    return table


def steps_table(status: ContactStatus) -> Table:
    table = Table(title="The seven emails")
    table.add_column("#", justify="right")
    for name in ("Template", "Scheduled (UTC)", "Prefect state", "Send log", "Sent at (UTC)"):
        table.add_column(name)
    table.add_column("Resend id", overflow="fold")
    for step in status.steps:
        table.add_row(
            str(step.email_number),
            step.template_id,
            step.scheduled_for,
            step.prefect_state,
            step.notion_status + (f" ({step.detail})" if step.detail else ""),
            step.sent_at,
            step.resend_id,
        )
    return table


@handled
def status(email: Annotated[str, typer.Argument(help="The contact's address.")]) -> None:
    """A contact's segment and status, and its seven emails (Prefect and Notion)."""
    result = read_status(load_settings(), email)
    if result.prefect_problem:
        err.print(f"Warning: Prefect not read: {result.prefect_problem}", markup=False)
    out.print(contact_table(result))
    out.print(steps_table(result))
