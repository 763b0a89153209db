"""`campaign simulate`: the seven due times of one enrollment, computed offline.

It runs the same `build_schedule` the orchestrator runs, so what it prints is what Prefect would
be asked to schedule. Nothing here touches the network (or imports Prefect).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rich import box
from rich.table import Table

from campaigns.christmas_campaign.sequence import build_schedule
from campaigns.christmas_campaign.variables import days_until_christmas
from campaigns.errors import InputError
from campaigns.models import Segment


@dataclass(frozen=True)
class TimelineRow:
    email_number: int
    template_id: str
    offset: timedelta
    due_utc: datetime
    due_local: datetime
    days_until_christmas: int


def parse_zone(name: str | None) -> tzinfo:
    """An IANA zone by name; without a name, this machine's local zone."""
    if not name:
        local = datetime.now().astimezone().tzinfo
        return local if local is not None else UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
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


def timeline(
    segment: Segment, start: datetime, zone: tzinfo, *, testing_mode: bool, time_scale: float
) -> list[TimelineRow]:
    schedule = build_schedule(start, segment, testing_mode=testing_mode, time_scale=time_scale)
    return [
        TimelineRow(
            email_number=step.email_number,
            template_id=step.template_id,
            offset=step.due_at - start.astimezone(UTC),
            due_utc=step.due_at,
            due_local=step.due_at.astimezone(zone),
            days_until_christmas=days_until_christmas(step.due_at),
        )
        for step in schedule
    ]


def human_offset(offset: timedelta) -> str:
    """`+0 s`, `+4.4 s`, `+2 min`, `+2 d 0 h`: short and exact enough to read."""
    seconds = offset.total_seconds()
    if seconds < 120:
        return f"+{seconds:.1f} s".replace(".0 s", " s")
    if seconds < 2 * 3600:
        return f"+{seconds / 60:.1f} min".replace(".0 min", " min")
    days, rest = divmod(seconds, 86400)
    return f"+{int(days)} d {rest / 3600:.0f} h"


def timeline_table(rows: list[TimelineRow], segment: Segment, zone_name: str) -> Table:
    start = rows[0].due_local if rows else None
    title = f"Christmas sequence of a {segment.value} contact"
    if start is not None:
        title += f" enrolled {start.strftime('%Y-%m-%d %H:%M:%S %Z')}"
    table = Table(title=title, box=box.SIMPLE, collapse_padding=True, pad_edge=False)
    table.add_column("#", justify="right")
    table.add_column("Template", no_wrap=True)
    table.add_column("After", justify="right", no_wrap=True)
    table.add_column("UTC", no_wrap=True)
    table.add_column(zone_name, min_width=len(zone_name))
    table.add_column("To Xmas", justify="right", no_wrap=True)
    seconds = any(row.due_utc.second or row.due_utc.microsecond for row in rows)
    clock = "%H:%M:%S" if seconds else "%H:%M"
    for row in rows:
        table.add_row(
            str(row.email_number),
            row.template_id,
            human_offset(row.offset),
            row.due_utc.strftime(f"%d %b {clock}"),
            row.due_local.strftime(f"%a %d %b {clock} %Z"),
            f"{row.days_until_christmas} d",
        )
    return table


def zone_label(zone: tzinfo, start: datetime) -> str:
    key = getattr(zone, "key", None)
    return str(key) if key else str(start.astimezone(zone).tzname() or "local")
