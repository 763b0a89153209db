"""The commands that check or prepare the accounts: `doctor`, `templates seed`, `templates check`.

A check that finds problems prints them all and exits with status 1, so CI and cron jobs can
run it; only a failure to run the check at all is an `Error:` line.
"""

from __future__ import annotations

import typer
from rich.table import Table

from campaigns.cli.output import handled, out
from campaigns.settings import load_settings


@handled
def doctor() -> None:
    """Check every setting, the Notion token and schemas, Resend, Prefect and the deployments."""
    from campaigns.cli.doctor import Result, doctor_table, run_doctor, summary
    from campaigns.cli.doctor_services import notion_checks, prefect_checks, resend_checks

    checks = run_doctor([notion_checks, resend_checks, prefect_checks])
    out.print(doctor_table(checks))
    out.print(summary(checks))
    if any(check.result == Result.FAIL for check in checks):
        raise typer.Exit(1)


@handled
def templates_seed() -> None:
    """Write the repository's eleven templates into Notion as Active (by Template ID)."""
    from campaigns.christmas_campaign.seed_templates import seed_templates
    from campaigns.notion_crm import NotionCRM

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


@handled
def templates_check() -> None:
    """Report every template of the three segments that is missing, Draft, empty or invalid."""
    from campaigns.cli.templates import check_table, check_templates, problem_lines
    from campaigns.notion_crm import NotionCRM

    checks = check_templates(NotionCRM.from_settings(load_settings()))
    out.print(check_table(checks))
    problems = problem_lines(checks)
    for line in problems:
        out.print(line, markup=False)
    if problems:
        out.print(f"{sum(not c.ok for c in checks)} of {len(checks)} templates need fixing.")
        raise typer.Exit(1)
    out.print(f"All {len(checks)} templates are ready for the three segments.")
