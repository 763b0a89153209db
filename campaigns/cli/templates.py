"""`campaign templates seed` and `campaign templates check`.

The check walks the sequence of every segment (seven template ids each, eleven distinct) and
reports each template that would stop a send: missing, not Active, empty, invalid, using an
unknown variable, or filed under the wrong email number or segment.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import typer
from rich.table import Table

from campaigns.christmas_campaign.emails import check_template
from campaigns.christmas_campaign.sequence import EMAIL_COUNT, template_id_for
from campaigns.cli.output import handled, out
from campaigns.errors import TemplateError
from campaigns.models import EmailTemplate, Segment, TemplateSegment, TemplateStatus
from campaigns.notion_crm import NotionCRM
from campaigns.settings import load_settings


@dataclass
class TemplateCheck:
    template_id: str
    email_number: int
    segments: list[Segment] = field(default_factory=list)
    status: str = "-"
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def expected_segment(template_id: str, email_number: int) -> TemplateSegment:
    """ALL for a step every segment shares; the one segment for a per-segment variant."""
    owners = [s for s in Segment if template_id_for(email_number, s) == template_id]
    return TemplateSegment.ALL if len(owners) > 1 else TemplateSegment(owners[0].value)


def check_templates(crm: NotionCRM) -> list[TemplateCheck]:
    """One entry per distinct template id of the sequence, in step order."""
    checks: dict[str, TemplateCheck] = {}
    for number in range(1, EMAIL_COUNT + 1):
        for segment in Segment:
            template_id = template_id_for(number, segment)
            entry = checks.setdefault(template_id, TemplateCheck(template_id, number))
            entry.segments.append(segment)
    for entry in checks.values():
        _inspect(entry, crm.find_template(entry.template_id))
    return list(checks.values())


def _inspect(entry: TemplateCheck, template: EmailTemplate | None) -> None:
    if template is None:
        entry.status = "missing"
        entry.problems.append(
            "missing from the Email Templates database (run `campaign templates seed` or add it)"
        )
        return
    entry.status = template.status.value
    if template.status != TemplateStatus.ACTIVE:
        entry.problems.append(f"Status is {template.status.value}; only Active templates are sent")
    empty = [
        name
        for name, value in (("Subject", template.subject), ("Body HTML", template.body_html))
        if not value.strip()
    ]
    entry.problems.extend(f"{name} is empty" for name in empty)
    if not empty:
        try:
            check_template(template)
        except TemplateError as exc:
            entry.problems.append(str(exc).removeprefix(f"Template {entry.template_id} "))
    if template.email_number != entry.email_number:
        entry.problems.append(
            f"Email Number is {template.email_number}; it must be {entry.email_number}"
        )
    segment = expected_segment(entry.template_id, entry.email_number)
    if template.segment != segment:
        entry.problems.append(f"Segment is {template.segment.value}; it must be {segment.value}")


def check_table(checks: list[TemplateCheck]) -> Table:
    table = Table(title="Email templates of the Christmas sequence")
    table.add_column("#", justify="right")
    table.add_column("Template ID")
    table.add_column("Segments")
    table.add_column("Status")
    table.add_column("Result")
    for entry in checks:
        segments = "all" if len(entry.segments) == len(Segment) else ", ".join(entry.segments)
        result = "[green]OK[/]" if entry.ok else "[red]" + "; ".join(entry.problems) + "[/]"
        table.add_row(str(entry.email_number), entry.template_id, segments, entry.status, result)
    return table


def problem_lines(checks: list[TemplateCheck]) -> list[str]:
    """`CRITICAL email 2 (christmas_email_2a_critical): ...`, one line per segment and problem."""
    lines: list[str] = []
    for segment in Segment:
        for entry in checks:
            if segment in entry.segments:
                lines.extend(
                    f"{segment.value} email {entry.email_number} ({entry.template_id}): {problem}"
                    for problem in entry.problems
                )
    return lines


app = typer.Typer(
    help="Seed the campaign's templates into Notion, or check the ones there.",
    no_args_is_help=True,
)


@app.command("seed")
@handled
def seed() -> None:
    """Write the repository's eleven templates into Notion as Active (by Template ID)."""
    from campaigns.christmas_campaign.seed_templates import seed_templates

    report = seed_templates(NotionCRM.from_settings(load_settings()))
    table = Table(title="Templates seeded")
    table.add_column("Template ID")
    table.add_column("Action")
    for template_id in report.created:
        table.add_row(template_id, "created")
    for template_id in report.updated:
        table.add_row(template_id, "updated")
    out.print(table)
    out.print(report.summary())


@app.command("check")
@handled
def check() -> None:
    """Report every template of the three segments that is missing, Draft, empty or invalid."""
    checks = check_templates(NotionCRM.from_settings(load_settings()))
    out.print(check_table(checks))
    problems = problem_lines(checks)
    for line in problems:
        out.print(line, markup=False)
    if problems:
        out.print(f"{sum(not c.ok for c in checks)} of {len(checks)} templates need fixing.")
        raise typer.Exit(1)
    out.print(f"All {len(checks)} templates are ready for the three segments.")
