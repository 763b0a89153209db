"""When each email of one enrollment is due: the campaign's end, the minimum gap, the send window.

Pure: every time is passed in (no clock, no I/O, no Prefect), so the orchestrator, the send flow,
`campaign simulate` and the tests compute the same schedule from the same inputs. docs/timing.md
explains the policy for marketers; `plan_schedule` states it exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Protocol

from campaigns.christmas_campaign.sequence import (
    EMAIL_COUNT,
    offset_for,
    scale_duration,
    template_id_for,
)
from campaigns.models import Segment, iana_zone

DEFAULT_MIN_GAP = timedelta(hours=12)
DEFAULT_WINDOW = (time(8, 0), time(20, 0))
LAST_CALL = EMAIL_COUNT
# The order in which steps give way when the sequence does not fit before the end. Email 1 is
# never dropped; email 7 (last call) goes last, only when no step at all fits after email 1.
DROP_ORDER = (6, 5, 4, 3, 2, LAST_CALL)


class TimingSettings(Protocol):
    """The settings `Timing.from_settings` reads (campaigns.settings.Settings has them all)."""

    campaign_ends_at: datetime | None
    min_email_gap: timedelta
    send_window_in_testing: bool
    testing_mode: bool
    sequence_time_scale: float

    @property
    def campaign_zone(self) -> tzinfo: ...

    @property
    def send_window_times(self) -> tuple[time, time] | None: ...


@dataclass(frozen=True)
class Timing:
    """The rules a schedule obeys, as values.

    `ends_at` is the campaign's end (None: no end, see `from_settings`); `zone` the campaign's
    time zone, used for recipients who gave none; `min_gap` the production minimum between two
    emails of one contact (scaled like the offsets by `gap`); `send_window` the local opening and
    closing times, or None when every hour is open.
    """

    ends_at: datetime | None
    zone: tzinfo = UTC
    min_gap: timedelta = DEFAULT_MIN_GAP
    send_window: tuple[time, time] | None = DEFAULT_WINDOW
    testing_mode: bool = False
    time_scale: float = 1.0

    def __post_init__(self) -> None:
        if self.ends_at is not None and not _aware(self.ends_at):
            raise ValueError("ends_at must be timezone-aware")
        if self.min_gap < timedelta(0):
            raise ValueError(f"min_gap must not be negative, got {self.min_gap}")
        if self.time_scale <= 0:
            raise ValueError(f"time_scale must be positive, got {self.time_scale}")
        if self.send_window is not None:
            check_window(*self.send_window)

    @property
    def scaled(self) -> bool:
        """True when the sequence runs faster than in production (tests and demos)."""
        return self.testing_mode or self.time_scale != 1

    @property
    def gap(self) -> timedelta:
        """The minimum gap as the table in force and the time scale shrink it."""
        return scale_duration(
            self.min_gap, testing_mode=self.testing_mode, time_scale=self.time_scale
        )

    def offset(self, email_number: int) -> timedelta:
        """The planned offset of a step from enrollment (docs/contract.md §1)."""
        return offset_for(email_number, testing_mode=self.testing_mode, time_scale=self.time_scale)

    @classmethod
    def from_settings(cls, settings: TimingSettings, *, now: datetime) -> Timing:
        """The timing the settings ask for, with the default end of `now`'s year.

        Only reads attributes. In production the end defaults to 24 December 18:00 of the year
        of `now` in the campaign's zone. When the sequence is scaled (TESTING_MODE or a time
        scale other than 1), a test run must not depend on the date it runs on: there is no end
        unless CAMPAIGN_ENDS_AT sets one, and no send window unless SEND_WINDOW_IN_TESTING asks.
        """
        testing, scale = settings.testing_mode, settings.sequence_time_scale
        scaled = testing or scale != 1
        zone = settings.campaign_zone
        ends_at = settings.campaign_ends_at
        if ends_at is None and not scaled:
            ends_at = default_campaign_end(now, zone)
        window = settings.send_window_times
        if scaled and not settings.send_window_in_testing:
            window = None
        return cls(
            ends_at=ends_at,
            zone=zone,
            min_gap=settings.min_email_gap,
            send_window=window,
            testing_mode=testing,
            time_scale=scale,
        )


@dataclass(frozen=True)
class PlannedStep:
    """One step of a plan: its due time in UTC, or None when it is dropped, and why.

    `note` is empty when the step is due at its planned offset; otherwise one or more plain
    sentences saying why it moved or was dropped (a dropped step's note becomes the Detail of
    its Skipped row in the send log).
    """

    email_number: int
    template_id: str
    due_at: datetime | None
    note: str = ""

    @property
    def dropped(self) -> bool:
        return self.due_at is None


def default_campaign_end(now: datetime, zone: tzinfo) -> datetime:
    """24 December 18:00 in `zone`, of the year `now` falls in there.

    So a signup between 24 December 18:00 and New Year's Eve is after the end (it is not carried
    over to next Christmas), and one from 1 January on belongs to the coming Christmas.
    """
    _require_aware(now, "now")
    return datetime(now.astimezone(zone).year, 12, 24, 18, 0, tzinfo=zone)


def after_end(now: datetime, timing: Timing) -> bool:
    """True at or after the campaign's end: nothing may be enrolled or sent any more."""
    _require_aware(now, "now")
    return timing.ends_at is not None and now >= timing.ends_at


def earliest_send_time(
    email_number: int,
    not_before: datetime,
    previous_sent_at: datetime | None,
    timing: Timing,
    zone: tzinfo | None = None,
) -> datetime | None:
    """The earliest moment at or after `not_before` this step may go out, in UTC.

    It is at least the minimum gap after `previous_sent_at` (when given), inside the send window
    of `zone` (the campaign's zone when None; email 1 answers the signup and is exempt) and
    strictly before the campaign's end. None when no such moment exists.
    """
    at, _ = _earliest(email_number, not_before, previous_sent_at, timing, zone or timing.zone)
    return at


def plan_schedule(
    enrolled_at: datetime,
    segment: Segment,
    timing: Timing,
    zone: tzinfo | None = None,
) -> list[PlannedStep]:
    """The seven steps of one enrollment fitted to the campaign's end and the send window.

    The policy, in order (docs/timing.md says the same for marketers):

    1. A signup at or after the end gets nothing: every step is dropped (the orchestrator does
       not enroll it at all).
    2. Email 1 answers the signup: it is due at enrollment, whatever the hour.
    3. Each later step is due at its planned offset, moved to the next opening of the send window
       when it falls outside it (local time of `zone`, the campaign's zone when None) and to at
       least the minimum gap after the step before it. When every step then falls before the
       end, that is the plan.
    4. Otherwise the steps after email 1 are spaced evenly between enrollment and the end (the
       k-th of m steps at enrollment + k x (end - enrollment) / (m + 1)), then moved the same
       way. When that does not fit either (the window pushed one past the end), they are packed
       as early as the gap and the window allow.
    5. When even packed they do not fit, steps are dropped one at a time, 6, 5, 4, 3, 2, and the
       rest planned again from rule 4. Email 7 (last call) is dropped only when no step at all
       fits after email 1, that is when it cannot go before the end at the minimum gap.

    "Before the end" means strictly earlier. Every moved or dropped step says why in its note.
    """
    _require_aware(enrolled_at, "enrolled_at")
    zone = zone or timing.zone
    start = enrolled_at.astimezone(UTC)
    numbers = list(range(1, EMAIL_COUNT + 1))
    if after_end(start, timing):
        note = f"Not sent: the signup came after the campaign ended ({_end_text(timing)})."
        return [_step(n, segment, None, note) for n in numbers]
    planned = {n: start + timing.offset(n) for n in numbers}
    placed = _place(numbers, planned, start, timing, zone)
    if placed is not None:
        return _result(numbers, segment, placed, "")
    assert timing.ends_at is not None  # without an end, every planned step fits
    span = timing.ends_at - start
    end = _end_text(timing)
    kept = numbers
    for dropped in (None, *DROP_ORDER):
        if dropped is not None:
            kept = [n for n in kept if n != dropped]
        fits = _place(kept, _spaced(kept[1:], start, span, timing), start, timing, zone)
        why = f"Spaced evenly to fit before the campaign ends ({end})."
        if fits is None:
            fits = _place(kept, dict.fromkeys(kept, start), start, timing, zone)
            why = f"Packed at the minimum gap to fit before the campaign ends ({end})."
        if fits is not None:
            return _result(numbers, segment, fits, why, _dropped_note(timing, zone))
    raise AssertionError("email 1 alone always fits before the end")  # pragma: no cover


def contact_plan(
    settings: TimingSettings, enrolled_at: datetime, segment: Segment, time_zone: str | None
) -> list[PlannedStep]:
    """The plan of an enrolled contact, as the orchestrator made it: the end of the enrollment's
    year, the contact's own zone when it gave one (`Time Zone`), else the campaign's."""
    timing = Timing.from_settings(settings, now=enrolled_at)
    zone = iana_zone(time_zone) if time_zone else timing.zone
    return plan_schedule(enrolled_at, segment, timing, zone)


def previous_planned(plan: Sequence[PlannedStep], email_number: int) -> PlannedStep | None:
    """The last step before `email_number` that is not dropped (None for email 1)."""
    before = [s for s in plan if s.email_number < email_number and not s.dropped]
    return before[-1] if before else None


def last_planned(plan: Sequence[PlannedStep]) -> int:
    """The number of the last step that is not dropped: after it, the sequence is complete."""
    return max((s.email_number for s in plan if not s.dropped), default=0)


def check_window(opens: time, closes: time) -> None:
    """A send window opens before it closes on the same day (no window across midnight)."""
    if opens.tzinfo is not None or closes.tzinfo is not None:
        raise ValueError("the send window's times are local wall-clock times, without a zone")
    if not opens < closes:
        raise ValueError(
            f"the send window must open before it closes, got {opens:%H:%M}-{closes:%H:%M}"
        )


def next_window_opening(at: datetime, window: tuple[time, time], zone: tzinfo) -> datetime:
    """`at` itself when it is inside the window in `zone`, else the next opening, in UTC."""
    _require_aware(at, "at")
    opens, closes = window
    local = at.astimezone(zone)
    wall = local.time()
    if opens <= wall < closes:
        return at.astimezone(UTC)
    day = local.date() if wall < opens else local.date() + timedelta(days=1)
    opening = datetime.combine(day, opens, tzinfo=zone).astimezone(UTC)
    if opening < at:  # `opens` happens twice that night and `at` is in the second pass
        opening = datetime.combine(day, opens, tzinfo=zone).replace(fold=1).astimezone(UTC)
    return opening


# --- internals -------------------------------------------------------------------------------


def _earliest(
    email_number: int,
    not_before: datetime,
    previous: datetime | None,
    timing: Timing,
    zone: tzinfo,
) -> tuple[datetime | None, list[str]]:
    """The earliest moment and the sentences saying what moved it."""
    if isinstance(email_number, bool) or email_number not in range(1, EMAIL_COUNT + 1):
        raise ValueError(f"email_number must be 1..{EMAIL_COUNT}, got {email_number}")
    _require_aware(not_before, "not_before")
    at = not_before.astimezone(UTC)
    why: list[str] = []
    if previous is not None:
        _require_aware(previous, "previous_sent_at")
        gap_end = previous.astimezone(UTC) + timing.gap
        if gap_end > at:
            at = gap_end
            why.append(f"Moved to keep {duration_text(timing.gap)} after the email before.")
    if email_number != 1 and timing.send_window is not None:
        moved = next_window_opening(at, timing.send_window, zone)
        if moved != at:
            at = moved
            opens, closes = timing.send_window
            why.append(
                f"Moved to the opening of the send window ({opens:%H:%M}-{closes:%H:%M} "
                f"{_zone_name(zone)})."
            )
    if timing.ends_at is not None and at >= timing.ends_at:
        return None, why
    return at, why


def _place(
    numbers: list[int],
    targets: dict[int, datetime],
    start: datetime,
    timing: Timing,
    zone: tzinfo,
) -> dict[int, tuple[datetime, list[str]]] | None:
    """Each step at the earliest moment from its target, in order; None when one does not fit."""
    placed: dict[int, tuple[datetime, list[str]]] = {}
    previous: datetime | None = None
    for n in numbers:
        target = start if n == 1 else targets[n]
        at, why = _earliest(n, target, previous, timing, zone)
        if at is None:
            return None
        placed[n] = (at, why)
        previous = at
    return placed


def _result(
    numbers: list[int],
    segment: Segment,
    placed: dict[int, tuple[datetime, list[str]]],
    fitted: str,
    dropped_note: str = "",
) -> list[PlannedStep]:
    steps = []
    for n in numbers:
        if n not in placed:
            steps.append(_step(n, segment, None, dropped_note))
            continue
        at, why = placed[n]
        sentences = ([fitted] if fitted and n != 1 else []) + why
        steps.append(_step(n, segment, at, " ".join(sentences)))
    return steps


def _dropped_note(timing: Timing, zone: tzinfo) -> str:
    window = ""
    if timing.send_window is not None:
        opens, closes = timing.send_window
        window = f", inside the send window ({opens:%H:%M}-{closes:%H:%M} {_zone_name(zone)})"
    return (
        f"Dropped: it cannot go out before the campaign ends ({_end_text(timing)}) at least "
        f"{duration_text(timing.gap)} after the email before it{window}."
    )


def _spaced(
    numbers: list[int], start: datetime, span: timedelta, timing: Timing
) -> dict[int, datetime]:
    """The k-th of m steps at start + k x span / (m + 1), on whole minutes (seconds if scaled)."""
    unit = 1 if timing.scaled else 60
    targets = {}
    for k, n in enumerate(numbers, start=1):
        seconds = int((span * k / (len(numbers) + 1)).total_seconds())
        targets[n] = start + timedelta(seconds=seconds // unit * unit)
    return targets


def _step(n: int, segment: Segment, at: datetime | None, note: str) -> PlannedStep:
    return PlannedStep(n, template_id_for(n, segment), at, note)


def _end_text(timing: Timing) -> str:
    if timing.ends_at is None:
        return "no end"
    local = timing.ends_at.astimezone(timing.zone)
    return f"{local:%Y-%m-%d %H:%M} {_zone_name(timing.zone)}"


def _zone_name(zone: tzinfo) -> str:
    return str(getattr(zone, "key", None) or zone)


def duration_text(value: timedelta) -> str:
    """`12 h`, `90 min`, `81 s`: the largest unit that divides it, else seconds."""
    seconds = value.total_seconds()
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def _aware(value: datetime) -> bool:
    return value.tzinfo is not None and value.utcoffset() is not None


def _require_aware(value: datetime, name: str) -> None:
    if not _aware(value):
        raise ValueError(f"{name} must be timezone-aware")
