"""The operator's commands on contacts and emails: signup, status, cancel, preview, simulate."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from campaigns.cli.output import describe_validation, handled, out
from campaigns.cli.sandbox import DEFAULT_STATE_DIR
from campaigns.errors import InputError
from campaigns.models import Segment, SequenceStatus, Signup, StopStatus
from campaigns.settings import load_settings

OPTION_NAMES = {
    "email": "--email",
    "first_name": "--first-name",
    "business_name": "--business-name",
    "assessment_score": "--score",
    "red_systems": "--red",
    "orange_systems": "--orange",
    "yellow_systems": "--yellow",
    "green_systems": "--green",
    "gps_score": "--gps-score",
    "money_score": "--money-score",
    "weakest_system_1": "--weakest-1",
    "weakest_system_2": "--weakest-2",
    "revenue_leak_monthly": "--revenue-leak",
    "input": "--red + --orange + --yellow + --green",
}


@handled
def signup(
    email: Annotated[str, typer.Option(help="The contact's address.")],
    first_name: Annotated[str, typer.Option(help="First name (used in every email).")],
    business_name: Annotated[str, typer.Option(help="Business name.")],
    red: Annotated[int, typer.Option(help="Red systems (0-8).")],
    orange: Annotated[int, typer.Option(help="Orange systems (0-8).")],
    yellow: Annotated[int, typer.Option(help="Yellow systems (0-8).")],
    green: Annotated[int, typer.Option(help="Green systems; the four add up to 8.")],
    score: Annotated[int, typer.Option(help="Assessment score (0-100).")],
    gps_score: Annotated[int | None, typer.Option(help="GPS score (0-100).")] = None,
    money_score: Annotated[int | None, typer.Option(help="Money score (0-100).")] = None,
    weakest_1: Annotated[str | None, typer.Option(help="Weakest system.")] = None,
    weakest_2: Annotated[str | None, typer.Option(help="Second weakest system.")] = None,
    revenue_leak: Annotated[str | None, typer.Option(help="Monthly revenue leak, $.")] = None,
    dry_run: Annotated[bool, typer.Option(help="Validate and classify only.")] = False,
) -> None:
    """Validate a signup and trigger the orchestrator, as the website's form does."""
    from campaigns.christmas_campaign.sequence import classify_segment

    try:
        valid = Signup.model_validate(
            {
                "email": email,
                "first_name": first_name,
                "business_name": business_name,
                "assessment_score": score,
                "red_systems": red,
                "orange_systems": orange,
                "yellow_systems": yellow,
                "green_systems": green,
                "gps_score": gps_score,
                "money_score": money_score,
                "weakest_system_1": weakest_1,
                "weakest_system_2": weakest_2,
                "revenue_leak_monthly": revenue_leak,
            }
        )
    except ValidationError as exc:
        raise InputError(describe_validation(exc, OPTION_NAMES)) from None
    segment = classify_segment(valid.red_systems, valid.orange_systems)
    out.print(f"Signup valid: {valid.email}, segment {segment.value}.", markup=False)
    if dry_run:
        return
    from campaigns.cli.orchestration import require_api, run_url, trigger_orchestrator

    require_api()
    run = trigger_orchestrator(valid)
    out.print(f"Orchestrator run {run.name} ({run.id}) created.", markup=False)
    link = run_url(run.id)
    where = f" or at {link}" if link else ""
    out.print(f"Follow it with `campaign status {valid.email}`{where}.", markup=False)


@handled
def status(email: Annotated[str, typer.Argument(help="The contact's address.")]) -> None:
    """A contact's segment and status, and its seven emails (Prefect and Notion)."""
    from campaigns.cli.output import err
    from campaigns.cli.status import contact_table, read_status, steps_table

    result = read_status(load_settings(), email)
    if result.prefect_problem:
        err.print(f"Warning: Prefect not read: {result.prefect_problem}", markup=False)
    out.print(contact_table(result))
    out.print(steps_table(result))


@handled
def cancel(
    email: Annotated[str, typer.Argument(help="The contact's address.")],
    status: Annotated[StopStatus, typer.Option(help="What the contact becomes.")] = (
        StopStatus.CANCELLED
    ),
) -> None:
    """Stop a contact's remaining emails: Notion status first, then its scheduled runs."""
    from campaigns.christmas_campaign.flows.cancel import cancel_contact_sequence
    from campaigns.cli.orchestration import prefect_errors, require_api

    settings = load_settings()
    require_api()  # before Notion changes: never half a cancel because Prefect is down
    with prefect_errors("cancelling the runs"):
        stop, count = cancel_contact_sequence(settings, email, SequenceStatus(status.value))
    shown = stop.status.value
    kept = f" ({shown} was already recorded and outranks {status.value})" if shown != status else ""
    out.print(
        f"Contact {email.strip().lower()} is now {shown}{kept}; {count} scheduled run(s) "
        "cancelled.",
        markup=False,
    )


@handled
def preview(
    email_number: Annotated[int, typer.Option(min=1, max=7, help="Step of the sequence.")],
    segment: Annotated[Segment, typer.Option(help="Which segment's variant.")],
    contact_json: Annotated[
        Path | None, typer.Option(help="JSON of signup fields (default: the sample contact).")
    ] = None,
    source: Annotated[str, typer.Option(help="Templates from `notion` or `files`.")] = "notion",
    at: Annotated[str | None, typer.Option(help="Render as of this ISO time (UTC).")] = None,
    out_dir: Annotated[Path, typer.Option(help="Where the HTML file goes.")] = (
        DEFAULT_STATE_DIR / "previews"
    ),
    open_browser: Annotated[bool, typer.Option("--open", help="Open the HTML file.")] = False,
) -> None:
    """Render one email exactly as it would be sent: subject, headers, HTML file, text."""
    from campaigns.cli.preview import TemplateStore, load_contact, render_preview
    from campaigns.cli.simulate import parse_start

    if source not in {s.value for s in TemplateStore}:
        raise InputError(f"--source must be notion or files, not {source!r}.")
    when = parse_start(at, UTC) if at else datetime.now(UTC)
    result = render_preview(
        load_settings(),
        email_number=email_number,
        segment=segment,
        signup=load_contact(contact_json, segment),
        source=TemplateStore(source),
        at=when,
        out_dir=out_dir,
    )
    if result.warning:
        out.print(f"Note: {result.warning}", markup=False)
    out.print(f"[bold]Template[/] {result.template_id} ({result.segment.value})")
    for name, value in result.headers.items():
        out.print(f"[bold]{name}:[/] {value}", highlight=False, soft_wrap=True)
    out.print(f"[bold]HTML:[/] {result.html_path.as_uri()}")
    out.rule("Text part")
    out.print(result.email.text, markup=False, highlight=False)
    if open_browser:
        import webbrowser

        webbrowser.open(result.html_path.as_uri())


@handled
def simulate(
    segment: Annotated[Segment, typer.Option(help="The contact's segment.")],
    start: Annotated[
        str | None, typer.Option(help="Signup time, ISO 8601 (no offset: read in --tz).")
    ] = None,
    tz: Annotated[
        str | None,
        typer.Option(
            help="The contact's IANA zone, e.g. Europe/Paris (default: CAMPAIGN_TIMEZONE)."
        ),
    ] = None,
    testing: Annotated[
        bool,
        typer.Option(
            "--testing/--production",
            help="The TESTING_MODE table at SEQUENCE_TIME_SCALE (default: the production table).",
        ),
    ] = False,
    time_scale: Annotated[
        float | None,
        typer.Option(
            help="Divide every delay (default: 1, or SEQUENCE_TIME_SCALE with --testing)."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the steps as a JSON list, for scripts.")
    ] = False,
) -> None:
    """The due times of one signup, which steps move or drop and why; no network at all."""
    import json

    from campaigns.christmas_campaign.timing import Timing
    from campaigns.cli.simulate import (
        parse_start,
        parse_zone,
        timeline,
        timeline_table,
        timing_summary,
        zone_label,
    )

    settings = load_settings()
    zone = parse_zone(tz) if tz else settings.campaign_zone
    begin = parse_start(start, zone)
    scale = (
        time_scale if time_scale is not None else (settings.sequence_time_scale if testing else 1)
    )
    if scale <= 0:
        raise InputError("--time-scale must be positive.")
    chosen = settings.model_copy(update={"testing_mode": testing, "sequence_time_scale": scale})
    timing = Timing.from_settings(chosen, now=begin)
    rows = timeline(segment, begin, zone, timing)
    if as_json:
        typer.echo(json.dumps([row.as_json() for row in rows], indent=2))
        return
    label = zone_label(zone, begin)
    out.print(timeline_table(rows, segment, label, begin.astimezone(zone)))
    out.print(timing_summary(timing, label), highlight=False)
