"""What the demo tells the user: the next step of each contact while it runs, then the summary
and where to look (the outbox page, the Prefect UI, the sandbox's files).
"""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from campaigns.christmas_campaign.sequence import EMAIL_COUNT
from campaigns.christmas_campaign.topology import contact_tag
from campaigns.cli import orchestration
from campaigns.cli.demo.progress import NextStep, Snapshot, Upcoming
from campaigns.cli.output import out
from campaigns.models import Signup
from campaigns.standins.outbox_page import tag


def upcoming_reader(signups: list[Signup]) -> Upcoming:
    """A function giving each contact's soonest unfinished send run on Prefect."""
    by_tag = {contact_tag(s.email): s.email for s in signups}

    def read() -> dict[str, NextStep]:
        upcoming: dict[str, NextStep] = {}
        for run in orchestration.pending_runs():
            email = next((by_tag[t] for t in run.tags if t in by_tag), None)
            number = run.parameters.get("email_number")
            if email is None or email in upcoming or not isinstance(number, int):
                continue
            state = str(run.state.name) if run.state else "Scheduled"
            upcoming[email] = NextStep(number, run.expected_start_time, state)
        return upcoming

    return read


def print_summary(snapshot: Snapshot, statuses: dict[str, str]) -> None:
    table = Table(title=f"Demo finished: {snapshot.sent} emails in {snapshot.elapsed:.0f} s")
    table.add_column("Contact", no_wrap=True)
    for column in ("Segment", "Emails", "Templates", "Notion status"):
        table.add_column(column)
    for contact in snapshot.contacts:
        templates = ", ".join(
            tag(e, "template").removeprefix("christmas_email_") for e in contact.emails
        )
        table.add_row(
            contact.signup.email,
            contact.segment.value,
            f"{len(contact.emails)}/{EMAIL_COUNT}",
            templates or "-",
            statuses.get(contact.signup.email, "-"),
        )
    out.print(table)


def where_to_look(state_dir: Path, outbox_url: str, ui_url: str, *, interactive: bool) -> None:
    out.print("[bold]Where to look[/]")
    if interactive:
        out.print(f"  Outbox, every email as the recipient sees it: {outbox_url}", markup=False)
        out.print(f"  Prefect UI, the runs of the sequence:          {ui_url}", markup=False)
    else:
        out.print(
            f"  Outbox: saved in {state_dir / 'resend.json'}; browse it with "
            f"`campaign outbox --state-dir {state_dir}`.",
            markup=False,
        )
    out.print(
        f"  Sandbox data: {state_dir} (notion.json: the three databases; resend.json: the "
        "outbox; logs/: the server and worker logs).",
        markup=False,
    )
    out.print(
        "  Again: `campaign demo` enrolls the samples again under new addresses; "
        "`campaign demo --fresh` starts from an empty sandbox.",
        markup=False,
    )
