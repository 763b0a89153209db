"""The seven steps of docs/contract.md §1: offsets, time scale, template ids and due times."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone

import pytest

from campaigns.christmas_campaign.sequence import (
    EMAIL_COUNT,
    all_template_ids,
    build_schedule,
    offset_for,
    template_id_for,
)
from campaigns.models import Segment

ENROLLED = datetime(2024, 12, 1, 9, 30, tzinfo=UTC)

PRODUCTION_HOURS = {1: 0, 2: 48, 3: 72, 4: 96, 5: 144, 6: 192, 7: 240}
TESTING_MINUTES = {1: 0, 2: 2, 3: 5, 4: 9, 5: 14, 6: 20, 7: 27}

CONTRACT_TEMPLATE_IDS = [
    "christmas_email_1",
    "christmas_email_2a_critical",
    "christmas_email_2b_urgent",
    "christmas_email_2c_optimize",
    "christmas_email_3",
    "christmas_email_4",
    "christmas_email_5",
    "christmas_email_6",
    "christmas_email_7a_critical",
    "christmas_email_7b_urgent",
    "christmas_email_7c_optimize",
]


@pytest.mark.parametrize(
    ("email_number", "hours"),
    [pytest.param(n, h, id=f"email{n}-{h}h") for n, h in PRODUCTION_HOURS.items()],
)
def test_production_offsets(email_number: int, hours: int) -> None:
    """In production each step is due the contract's number of hours after enrollment."""
    assert offset_for(email_number, testing_mode=False) == timedelta(hours=hours)


@pytest.mark.parametrize(
    ("email_number", "minutes"),
    [pytest.param(n, m, id=f"email{n}-{m}min") for n, m in TESTING_MINUTES.items()],
)
def test_testing_offsets(email_number: int, minutes: int) -> None:
    """In TESTING_MODE each step is due the contract's number of minutes after enrollment."""
    assert offset_for(email_number, testing_mode=True) == timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("testing_mode", "time_scale", "email_number", "expected"),
    [
        pytest.param(True, 60, 7, timedelta(seconds=27), id="testing-60-email7-27s"),
        pytest.param(True, 60, 2, timedelta(seconds=2), id="testing-60-email2-2s"),
        pytest.param(True, 60, 1, timedelta(0), id="testing-60-email1-0s"),
        pytest.param(True, 2, 3, timedelta(minutes=2, seconds=30), id="testing-2-email3-150s"),
        pytest.param(True, 0.5, 7, timedelta(minutes=54), id="testing-half-email7-54min"),
        pytest.param(False, 3600, 7, timedelta(seconds=240), id="production-3600-email7-240s"),
        pytest.param(False, 3600, 2, timedelta(seconds=48), id="production-3600-email2-48s"),
        pytest.param(False, 24, 5, timedelta(hours=6), id="production-24-email5-6h"),
        pytest.param(False, 1.0, 6, timedelta(hours=192), id="production-1-unchanged"),
    ],
)
def test_time_scale_divides_the_offset(
    testing_mode: bool, time_scale: float, email_number: int, expected: timedelta
) -> None:
    """SEQUENCE_TIME_SCALE divides the offset of whichever table is in force."""
    assert offset_for(email_number, testing_mode=testing_mode, time_scale=time_scale) == expected


@pytest.mark.parametrize("testing_mode", [False, True], ids=["production", "testing"])
def test_scaled_schedule_is_proportional(testing_mode: bool) -> None:
    """Scaling by 60 makes every step due exactly sixty times sooner."""
    plain = build_schedule(ENROLLED, Segment.URGENT, testing_mode=testing_mode)
    fast = build_schedule(ENROLLED, Segment.URGENT, testing_mode=testing_mode, time_scale=60)
    for slow_row, fast_row in zip(plain, fast, strict=True):
        assert (slow_row.due_at - ENROLLED) == (fast_row.due_at - ENROLLED) * 60


SEGMENT_IDS = [
    pytest.param(1, Segment.CRITICAL, "christmas_email_1", id="1-critical"),
    pytest.param(1, Segment.URGENT, "christmas_email_1", id="1-urgent"),
    pytest.param(1, Segment.OPTIMIZE, "christmas_email_1", id="1-optimize"),
    pytest.param(2, Segment.CRITICAL, "christmas_email_2a_critical", id="2-critical"),
    pytest.param(2, Segment.URGENT, "christmas_email_2b_urgent", id="2-urgent"),
    pytest.param(2, Segment.OPTIMIZE, "christmas_email_2c_optimize", id="2-optimize"),
    *(
        pytest.param(n, segment, f"christmas_email_{n}", id=f"{n}-{segment.value.lower()}")
        for n in (3, 4, 5, 6)
        for segment in Segment
    ),
    pytest.param(7, Segment.CRITICAL, "christmas_email_7a_critical", id="7-critical"),
    pytest.param(7, Segment.URGENT, "christmas_email_7b_urgent", id="7-urgent"),
    pytest.param(7, Segment.OPTIMIZE, "christmas_email_7c_optimize", id="7-optimize"),
]


@pytest.mark.parametrize(("email_number", "segment", "expected"), SEGMENT_IDS)
def test_template_id_per_segment(email_number: int, segment: Segment, expected: str) -> None:
    """Steps 2 and 7 have one template per segment; every other step is shared."""
    assert template_id_for(email_number, segment) == expected


def test_all_template_ids_are_the_contracts_eleven_in_order() -> None:
    """all_template_ids gives the eleven ids of docs/contract.md §1 in step order."""
    assert all_template_ids() == CONTRACT_TEMPLATE_IDS


@pytest.mark.parametrize("segment", list(Segment), ids=str)
@pytest.mark.parametrize("testing_mode", [False, True], ids=["production", "testing"])
def test_schedule_rows(segment: Segment, testing_mode: bool) -> None:
    """The schedule has seven rows numbered 1..7, each with its segment's template and offset."""
    schedule = build_schedule(ENROLLED, segment, testing_mode=testing_mode)
    assert [row.email_number for row in schedule] == list(range(1, EMAIL_COUNT + 1))
    for row in schedule:
        assert row.template_id == template_id_for(row.email_number, segment)
        assert row.due_at - ENROLLED == offset_for(row.email_number, testing_mode=testing_mode)
    assert schedule[0].due_at == ENROLLED


@pytest.mark.parametrize("segment", list(Segment), ids=str)
@pytest.mark.parametrize(
    ("testing_mode", "time_scale"),
    [
        pytest.param(False, 1.0, id="production"),
        pytest.param(True, 1.0, id="testing"),
        pytest.param(True, 60.0, id="testing-60"),
        pytest.param(False, 3600.0, id="production-3600"),
    ],
)
def test_due_times_strictly_increase(
    segment: Segment, testing_mode: bool, time_scale: float
) -> None:
    """Each step is due strictly after the one before it."""
    schedule = build_schedule(ENROLLED, segment, testing_mode=testing_mode, time_scale=time_scale)
    due = [row.due_at for row in schedule]
    assert all(earlier < later for earlier, later in itertools.pairwise(due))


@pytest.mark.parametrize(
    "enrolled_at",
    [
        pytest.param(datetime(2024, 12, 1, 9, 30, tzinfo=UTC), id="utc"),
        pytest.param(
            datetime(2024, 12, 1, 4, 30, tzinfo=timezone(timedelta(hours=-5))), id="utc-minus-5"
        ),
        pytest.param(
            datetime(2024, 12, 1, 20, 0, tzinfo=timezone(timedelta(hours=10, minutes=30))),
            id="utc-plus-10h30",
        ),
        pytest.param(
            datetime(2024, 12, 2, 0, 30, tzinfo=timezone(timedelta(hours=15))), id="next-day-local"
        ),
    ],
)
def test_due_times_are_utc_and_the_same_instant(enrolled_at: datetime) -> None:
    """An enrollment given in another timezone yields UTC due times for the same instants."""
    assert enrolled_at == ENROLLED  # same instant, different wall clock
    schedule = build_schedule(enrolled_at, Segment.CRITICAL, testing_mode=False)
    reference = build_schedule(ENROLLED, Segment.CRITICAL, testing_mode=False)
    for row, expected in zip(schedule, reference, strict=True):
        assert row.due_at.utcoffset() == timedelta(0)
        assert row.due_at.tzinfo is UTC
        assert row.due_at == expected.due_at
        assert (row.due_at.year, row.due_at.hour, row.due_at.minute) == (
            expected.due_at.year,
            expected.due_at.hour,
            expected.due_at.minute,
        )


def test_naive_enrolled_at_raises() -> None:
    """A naive enrollment time is refused rather than guessed to be UTC."""
    with pytest.raises(ValueError, match="timezone-aware"):
        build_schedule(datetime(2024, 12, 1, 9, 30), Segment.URGENT, testing_mode=False)


@pytest.mark.parametrize(
    "time_scale",
    [
        pytest.param(0, id="zero"),
        pytest.param(0.0, id="zero-float"),
        pytest.param(-1, id="minus1"),
        pytest.param(-0.5, id="minus-half"),
    ],
)
def test_non_positive_time_scale_raises(time_scale: float) -> None:
    """A time scale of zero or less is refused by offset_for and build_schedule."""
    with pytest.raises(ValueError, match="time_scale"):
        offset_for(2, testing_mode=True, time_scale=time_scale)
    with pytest.raises(ValueError, match="time_scale"):
        build_schedule(ENROLLED, Segment.URGENT, testing_mode=True, time_scale=time_scale)


@pytest.mark.parametrize(
    "email_number",
    [pytest.param(n, id=str(n)) for n in (0, 8, -1, 70)],
)
def test_email_number_outside_the_sequence_raises(email_number: int) -> None:
    """Email numbers outside 1..7 are refused by offset_for and template_id_for."""
    with pytest.raises(ValueError, match="email_number"):
        offset_for(email_number, testing_mode=False)
    with pytest.raises(ValueError, match="email_number"):
        template_id_for(email_number, Segment.CRITICAL)
