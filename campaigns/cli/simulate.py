"""`campaign simulate`: the seven due times of one enrollment, computed offline.

It runs the same `timing.plan_schedule` the orchestrator runs (the campaign's end, the minimum
gap, the send window of the contact's zone), so what it prints is what Prefect would be asked
to schedule, and which steps would be moved or dropped, and why. Nothing here touches the
network (or imports Prefect).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from campaigns.christmas_campaign.timing import Timing, duration_text, plan_schedule
from campaigns.christmas_campaign.variables import days_until_christmas
from campaigns.cli.output import handled, out
from campaigns.errors import InputError
from campaigns.models import Segment, iana_zone
from campaigns.settings import load_settings


@dataclass(frozen=True)
class TimelineRow:
    email_number: int
    template_id: str
    offset: timedelta | None  # None: the step is dropped
    due_utc: datetime | None
    due_local: datetime | None
    days_until_christmas: int | None
    note: str = ""

    def as_json(self) -> dict[str, object]:
        """The row for `--json`: ISO 8601 times, UTC and local, null when the step is dropped."""
        return {
            "email_number": self.email_number,
            "template_id": self.template_id,
            "due_at": self.due_utc.isoformat() if self.due_utc else None,
            "local_due_at": self.due_local.isoformat() if self.due_local else None,
            "note": self.note,
        }


def parse_zone(name: str | None) -> tzinfo:
    """An IANA zone by name; without a name, this machine's local zone."""
    if not name:
        local = datetime.now().astimezone().tzinfo
        return local if local is not None else UTC
    try:
        return iana_zone(name)
    except ValueError:
        raise InputError(
            f"Unknown time zone {name!r}. Use an IANA name such as Europe/Paris or "
            "America/New_York, or UTC."
        ) from None


def parse_start(value: str | None, zone: tzinfo) -> datetime:
    """An ISO 8601 time; one without an offset is read in `zone`. Default: now."""
    if not value:
        return datetime.now(UTC).replace(microsecond=0)
    try:
        start = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(
            f"--start {value!r} is not an ISO 8601 time; use e.g. 2025-12-01T09:00 or "
            "2025-12-01T09:00:00+01:00."
        ) from None
    return start.replace(tzinfo=zone) if start.tzinfo is None else start


def timeline(segment: Segment, start: datetime, zone: tzinfo, timing: Timing) -> list[TimelineRow]:
    """The plan of one enrollment at `start` for a contact in `zone`, row by row."""
    rows = []
    for step in plan_schedule(start, segment, timing, zone):
        due = step.due_at
        rows.append(
            TimelineRow(
                email_number=step.email_number,
                template_id=step.template_id,
                offset=due - start.astimezone(UTC) if due else None,
                due_utc=due,
                due_local=due.astimezone(zone) if due else None,
                days_until_christmas=days_until_christmas(due) if due else None,
                note=step.note,
            )
        )
    return rows


def human_offset(offset: timedelta) -> str:
    """`+0 s`, `+4.4 s`, `+2 min`, `+2 d 0 h`: short and exact enough to read."""
    seconds = offset.total_seconds()
    if seconds < 120:
        return f"+{seconds:.1f} s".replace(".0 s", " s")
    if seconds < 2 * 3600:
        return f"+{seconds / 60:.1f} min".replace(".0 min", " min")
    days, rest = divmod(seconds, 86400)
    return f"+{int(days)} d {rest / 3600:.0f} h"


def timeline_table(
    rows: list[TimelineRow], segment: Segment, zone_name: str, start: datetime
) -> Table:
    title = f"Christmas sequence of a {segment.value} contact"
    title += f" enrolled {start.strftime('%Y-%m-%d %H:%M:%S %Z')}"
    table = Table(title=title, box=box.SIMPLE, collapse_padding=True, pad_edge=False)
    table.add_column("#", justify="right")
    table.add_column("Template", no_wrap=True)
    table.add_column("After", justify="right", no_wrap=True)
    table.add_column("UTC", no_wrap=True)
    table.add_column(zone_name, min_width=len(zone_name))
    table.add_column("To Xmas", justify="right", no_wrap=True)
    table.add_column("Note")
    seconds = any(
        row.due_utc.second or row.due_utc.microsecond for row in rows if row.due_utc is not None
    )
    clock = "%H:%M:%S" if seconds else "%H:%M"
    for row in rows:
        if row.due_utc is None or row.due_local is None or row.offset is None:
            table.add_row(
                str(row.email_number), row.template_id, "-", "dropped", "-", "-", row.note
            )
            continue
        table.add_row(
            str(row.email_number),
            row.template_id,
            human_offset(row.offset),
            row.due_utc.strftime(f"%d %b {clock}"),
            row.due_local.strftime(f"%a %d %b {clock} %Z"),
            f"{row.days_until_christmas} d",
            row.note,
        )
    return table


def timing_summary(timing: Timing, zone_name: str) -> str:
    """One sentence per rule in force: the table, the end, the window, the gap."""
    table = "TESTING_MODE (minutes)" if timing.testing_mode else "production (hours)"
    parts = [f"Table: {table}, time scale {timing.time_scale:g}."]
    if timing.ends_at is None:
        parts.append("No campaign end (a scaled run without CAMPAIGN_ENDS_AT).")
    else:
        end = timing.ends_at.astimezone(timing.zone)
        parts.append(f"Campaign ends {end:%Y-%m-%d %H:%M %Z}.")
    if timing.send_window is None:
        parts.append("No send window.")
    else:
        opens, closes = timing.send_window
        parts.append(f"Send window {opens:%H:%M}-{closes:%H:%M} {zone_name}.")
    parts.append(f"Minimum gap {duration_text(timing.gap)}.")
    return " ".join(parts)


def zone_label(zone: tzinfo, start: datetime) -> str:
    key = getattr(zone, "key", None)
    return str(key) if key else str(start.astimezone(zone).tzname() or "local")


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
