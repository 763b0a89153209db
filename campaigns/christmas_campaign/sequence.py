"""The Christmas sequence as data: segments, the seven steps and due times (docs/contract.md §1).

Pure functions only: the enrollment time is passed in, so the schedule is the same on every
retry and every machine, and tests need no clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from campaigns.models import Segment

CAMPAIGN = "christmas"
EMAIL_COUNT = 7

# (production offset, TESTING_MODE offset) from enrollment, cumulative.
_OFFSETS: dict[int, tuple[timedelta, timedelta]] = {
    1: (timedelta(hours=0), timedelta(minutes=0)),
    2: (timedelta(hours=48), timedelta(minutes=2)),
    3: (timedelta(hours=72), timedelta(minutes=5)),
    4: (timedelta(hours=96), timedelta(minutes=9)),
    5: (timedelta(hours=144), timedelta(minutes=14)),
    6: (timedelta(hours=192), timedelta(minutes=20)),
    7: (timedelta(hours=240), timedelta(minutes=27)),
}

# Steps whose template differs by segment; the others use `christmas_email_<n>` for everyone.
_SEGMENT_SUFFIX = {
    Segment.CRITICAL: "a_critical",
    Segment.URGENT: "b_urgent",
    Segment.OPTIMIZE: "c_optimize",
}
_PER_SEGMENT_STEPS = frozenset({2, 7})


def classify_segment(red: int, orange: int) -> Segment:
    """CRITICAL at 2+ red; URGENT at exactly 1 red or 2+ orange; OPTIMIZE otherwise."""
    if red >= 2:
        return Segment.CRITICAL
    if red == 1 or orange >= 2:
        return Segment.URGENT
    return Segment.OPTIMIZE


def template_id_for(email_number: int, segment: Segment) -> str:
    """The template id this segment receives at this step."""
    _check_step(email_number)
    if email_number in _PER_SEGMENT_STEPS:
        return f"christmas_email_{email_number}{_SEGMENT_SUFFIX[segment]}"
    return f"christmas_email_{email_number}"


def all_template_ids() -> list[str]:
    """The eleven template ids of the campaign, in step order."""
    ids: list[str] = []
    for number in range(1, EMAIL_COUNT + 1):
        for segment in Segment:
            template_id = template_id_for(number, segment)
            if template_id not in ids:
                ids.append(template_id)
    return ids


@dataclass(frozen=True)
class ScheduledEmail:
    email_number: int
    template_id: str
    due_at: datetime


def offset_for(email_number: int, *, testing_mode: bool, time_scale: float = 1.0) -> timedelta:
    """How long after enrollment this step is due, with the time scale applied."""
    _check_step(email_number)
    if time_scale <= 0:
        raise ValueError(f"time_scale must be positive, got {time_scale}")
    production, testing = _OFFSETS[email_number]
    return (testing if testing_mode else production) / time_scale


def scale_duration(
    duration: timedelta, *, testing_mode: bool, time_scale: float = 1.0
) -> timedelta:
    """A production duration shrunk the way the table in force shrinks the sequence.

    The TESTING_MODE table runs the ten days of the production table in 27 minutes, so a
    duration is multiplied by that ratio there; then, like every offset, divided by the scale.
    """
    if time_scale <= 0:
        raise ValueError(f"time_scale must be positive, got {time_scale}")
    if testing_mode:
        production, testing = _OFFSETS[EMAIL_COUNT]
        duration = duration * (testing / production)
    return duration / time_scale


def build_schedule(
    enrolled_at: datetime, segment: Segment, *, testing_mode: bool, time_scale: float = 1.0
) -> list[ScheduledEmail]:
    """The seven (email number, template id, due time) rows for one enrollment, in UTC.

    These are the planned offsets only; `timing.plan_schedule` fits them to the campaign's end
    and the send window, and is what the orchestrator schedules.
    """
    if enrolled_at.tzinfo is None or enrolled_at.utcoffset() is None:
        # A naive time would be read as UTC by Prefect and could shift a send by hours.
        raise ValueError("enrolled_at must be timezone-aware")
    start = enrolled_at.astimezone(UTC)
    return [
        ScheduledEmail(
            email_number=n,
            template_id=template_id_for(n, segment),
            due_at=start + offset_for(n, testing_mode=testing_mode, time_scale=time_scale),
        )
        for n in range(1, EMAIL_COUNT + 1)
    ]


def _check_step(email_number: int) -> None:
    # bool is an int and True == 1, so it would pass the lookup below.
    if (
        isinstance(email_number, bool)
        or not isinstance(email_number, int)
        or (email_number not in _OFFSETS)
    ):
        raise ValueError(f"email_number must be 1..{EMAIL_COUNT}, got {email_number}")
