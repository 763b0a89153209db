"""The schedule's timing rules: the campaign's end, the minimum gap and the send window.

Everything here is pure: times are passed in, so each row states exactly what a contact gets.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from campaigns.christmas_campaign.send_decision import Action, decide_send
from campaigns.christmas_campaign.sequence import build_schedule
from campaigns.christmas_campaign.timing import (
    Timing,
    after_end,
    default_campaign_end,
    earliest_send_time,
    last_planned,
    next_window_opening,
    plan_schedule,
    previous_planned,
)
from campaigns.christmas_campaign.variables import days_until_christmas
from campaigns.models import Contact, Segment, SequenceStatus
from campaigns.settings import load_settings

END = datetime(2025, 12, 24, 18, 0, tzinfo=UTC)
PRODUCTION = Timing(ends_at=END)  # UTC, 12 h gap, window 08:00-20:00
NO_WINDOW = Timing(ends_at=END, send_window=None)
WINDOW = (time(8), time(20))
PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
KIRITIMATI = ZoneInfo("Pacific/Kiritimati")  # UTC+14
PAGO_PAGO = ZoneInfo("Pacific/Pago_Pago")  # UTC-11


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def kept(plan: list) -> list[int]:
    return [step.email_number for step in plan if step.due_at is not None]


def dues(plan: list) -> list[str]:
    return [step.due_at.strftime("%d %H:%M") for step in plan if step.due_at is not None]


# Signup at 10:00 UTC on each day of December, campaign zone UTC, production rules.
LATE_SIGNUPS = [
    (10, [1, 2, 3, 4, 5, 6, 7], "20 10:00"),  # the planned offsets: email 7 on the 20th
    (11, [1, 2, 3, 4, 5, 6, 7], "21 10:00"),
    (12, [1, 2, 3, 4, 5, 6, 7], "22 10:00"),
    (13, [1, 2, 3, 4, 5, 6, 7], "23 10:00"),
    (14, [1, 2, 3, 4, 5, 6, 7], "24 10:00"),  # the last day the planned offsets fit
    (15, [1, 2, 3, 4, 5, 6, 7], "23 10:00"),  # spaced evenly from here on
    (16, [1, 2, 3, 4, 5, 6, 7], "23 13:25"),
    (17, [1, 2, 3, 4, 5, 6, 7], "23 16:51"),
    (18, [1, 2, 3, 4, 5, 6, 7], "24 08:00"),
    (19, [1, 2, 3, 4, 5, 7], "24 08:00"),  # 6 is dropped first
    (20, [1, 2, 3, 4, 7], "24 08:00"),
    (21, [1, 2, 3, 7], "24 08:00"),
    (22, [1, 2, 7], "24 08:00"),
    (23, [1, 7], "24 08:00"),  # last call still fits, 22 h later
    (24, [1], None),  # 22:00 is the earliest, the window is closed until after the end
    (25, [], None),  # after the end: nothing
    (26, [], None),
]


@pytest.mark.parametrize(("day", "steps", "last_call"), LATE_SIGNUPS, ids=lambda v: str(v))
def test_late_signups_every_day_of_december(
    day: int, steps: list[int], last_call: str | None
) -> None:
    """A signup on each day from 10 to 26 December gets exactly these steps, last call as listed."""
    plan = plan_schedule(datetime(2025, 12, day, 10, tzinfo=UTC), Segment.URGENT, PRODUCTION)
    assert kept(plan) == steps
    seven = plan[6].due_at
    assert (seven.strftime("%d %H:%M") if seven else None) == last_call
    if steps:
        assert plan[0].due_at == datetime(2025, 12, day, 10, tzinfo=UTC)  # email 1 at once


@pytest.mark.parametrize("zone", [UTC, PARIS, NEW_YORK, KIRITIMATI, PAGO_PAGO], ids=str)
@pytest.mark.parametrize("day", range(10, 27))
def test_no_email_at_or_after_the_end_nor_too_close(day: int, zone: ZoneInfo) -> None:
    """At any hour from 10 to 26 December, every step is before the end, apart and in the window."""
    for hour in range(0, 24, 3):
        start = datetime(2025, 12, day, hour, tzinfo=UTC)
        plan = plan_schedule(start, Segment.CRITICAL, PRODUCTION, zone)
        times = [step.due_at for step in plan if step.due_at is not None]
        assert all(t < END for t in times)
        assert all(days_until_christmas(t) >= 1 for t in times)  # never 364
        assert all(b - a >= timedelta(hours=12) for a, b in pairwise(times))
        for t in times[1:]:
            assert time(8) <= t.astimezone(zone).time() < time(20)
        if start < END:
            assert kept(plan)[:1] == [1]  # email 1 always goes
        for step in plan:
            assert (step.due_at is None) == step.note.startswith(("Dropped", "Not sent"))


@pytest.mark.parametrize(
    ("not_before", "expected"),
    [
        ("2025-12-01T07:59:59", "2025-12-01T08:00:00"),  # just before opening
        ("2025-12-01T08:00:00", "2025-12-01T08:00:00"),  # the opening itself is inside
        ("2025-12-01T19:59:59", "2025-12-01T19:59:59"),  # the last second inside
        ("2025-12-01T20:00:00", "2025-12-02T08:00:00"),  # the closing is outside
        ("2025-12-01T23:30:00", "2025-12-02T08:00:00"),
        ("2025-12-01T00:00:00", "2025-12-01T08:00:00"),  # midnight: the same day's opening
    ],
)
def test_window_edges(not_before: str, expected: str) -> None:
    """A time outside 08:00-20:00 moves to the next opening; the edges are [open, close)."""
    at = earliest_send_time(2, utc(not_before), None, PRODUCTION)
    assert at == utc(expected)


def test_email_one_ignores_the_window() -> None:
    """Email 1 answers the signup at once, even at 23:30."""
    assert earliest_send_time(1, utc("2025-12-01T23:30"), None, PRODUCTION) == utc(
        "2025-12-01T23:30"
    )


@pytest.mark.parametrize(
    ("zone", "not_before", "expected"),
    [
        # Europe/Paris leaves CEST (+2) for CET (+1) at 01:00 UTC on 26 October 2025.
        (PARIS, "2025-10-25T05:59", "2025-10-25T06:00"),  # 07:59 CEST -> 08:00 CEST
        (PARIS, "2025-10-25T19:30", "2025-10-26T07:00"),  # 21:30 CEST -> 08:00 CET
        (PARIS, "2025-10-26T06:30", "2025-10-26T07:00"),  # 07:30 CET -> 08:00 CET
        (PARIS, "2025-10-26T18:59", "2025-10-26T18:59"),  # 19:59 CET is inside
        (PARIS, "2025-10-26T19:00", "2025-10-27T07:00"),  # 20:00 CET is outside
        # America/New_York leaves EDT (-4) for EST (-5) at 06:00 UTC on 2 November 2025.
        (NEW_YORK, "2025-11-01T12:00", "2025-11-01T12:00"),  # 08:00 EDT is inside
        (NEW_YORK, "2025-11-02T01:00", "2025-11-02T13:00"),  # 21:00 EDT -> 08:00 EST
        (NEW_YORK, "2025-11-02T12:30", "2025-11-02T13:00"),  # 07:30 EST -> 08:00 EST
        (NEW_YORK, "2025-11-03T00:59", "2025-11-03T00:59"),  # 19:59 EST is inside
        # Far from UTC: the local day is a different UTC day.
        (KIRITIMATI, "2025-12-01T17:59", "2025-12-01T18:00"),  # 07:59 -> 08:00 on the 2nd
        (KIRITIMATI, "2025-12-02T06:00", "2025-12-02T18:00"),  # 20:00 on the 2nd -> 08:00 3rd
        (PAGO_PAGO, "2025-12-01T18:59", "2025-12-01T19:00"),  # 07:59 -> 08:00 on the 1st
        (PAGO_PAGO, "2025-12-02T07:00", "2025-12-02T19:00"),  # 20:00 on the 1st -> 08:00 2nd
    ],
    ids=lambda v: str(v),
)
def test_window_across_dst_and_far_zones(zone: ZoneInfo, not_before: str, expected: str) -> None:
    """The window follows the recipient's wall clock through DST changes and far from UTC."""
    assert next_window_opening(utc(not_before), WINDOW, zone) == utc(expected)


def test_planned_step_moved_over_the_dst_change() -> None:
    """Email 2 due at 21:30 CEST on 25 October moves to 08:00 CET, one UTC hour later than CEST."""
    start = datetime(2025, 10, 23, 21, 30, tzinfo=PARIS)
    plan = plan_schedule(start, Segment.URGENT, PRODUCTION, PARIS)
    assert plan[1].due_at == utc("2025-10-26T07:00")
    assert plan[1].note == "Moved to the opening of the send window (08:00-20:00 Europe/Paris)."
    assert plan[2].due_at == utc("2025-10-27T07:00")  # 21:30 CET on the 26th -> 08:00 CET


@pytest.mark.parametrize(
    ("zone", "not_before", "expected"),
    [
        # The end is 24 Dec 18:00 UTC, i.e. 25 Dec 08:00 in Kiritimati: its opening is too late.
        (KIRITIMATI, "2025-12-23T18:00", "2025-12-23T18:00"),  # 24 Dec 08:00 local
        (KIRITIMATI, "2025-12-24T06:00", None),  # 24 Dec 20:00 local: next opening is the end
        # ...and 24 Dec 07:00 in Pago Pago, before that day's window opens.
        (PAGO_PAGO, "2025-12-24T06:59", "2025-12-24T06:59"),  # 23 Dec 19:59 local
        (PAGO_PAGO, "2025-12-24T07:00", None),  # 23 Dec 20:00 local: next opening after end
        (UTC, "2025-12-24T17:59:59", "2025-12-24T17:59:59"),
        (UTC, "2025-12-24T18:00", None),  # "before the end" is strict
    ],
    ids=lambda v: str(v),
)
def test_earliest_send_time_near_the_end(
    zone: ZoneInfo, not_before: str, expected: str | None
) -> None:
    """The last moment a step may go depends on the recipient's window; none at the end itself."""
    at = earliest_send_time(4, utc(not_before), None, PRODUCTION, zone)
    assert at == (utc(expected) if expected else None)


@pytest.mark.parametrize(
    ("previous", "not_before", "expected"),
    [
        ("2025-12-01T09:00", "2025-12-01T10:00", "2025-12-01T21:00"),  # 12 h after, no window
        ("2025-12-01T09:00", "2025-12-01T21:00", "2025-12-01T21:00"),  # exactly 12 h is enough
        ("2025-12-01T09:00", "2025-12-02T08:00", "2025-12-02T08:00"),  # later than the gap
        ("2025-12-24T06:00:01", "2025-12-24T07:00", None),  # the gap runs past the end
    ],
)
def test_minimum_gap(previous: str, not_before: str, expected: str | None) -> None:
    """A step goes no sooner than the minimum gap after the email before it."""
    at = earliest_send_time(3, utc(not_before), utc(previous), NO_WINDOW)
    assert at == (utc(expected) if expected else None)


def test_minimum_gap_moves_a_planned_step_and_says_so() -> None:
    """A 36 h gap moves email 3 (planned 24 h after email 2) to 36 h after it."""
    timing = Timing(ends_at=END, min_gap=timedelta(hours=36), send_window=None)
    plan = plan_schedule(utc("2025-12-01T09:00"), Segment.URGENT, timing)
    assert plan[1].due_at == utc("2025-12-03T09:00")
    assert plan[2].due_at == utc("2025-12-04T21:00")
    assert plan[2].note == "Moved to keep 36 h after the email before."


@pytest.mark.parametrize(
    ("testing_mode", "time_scale", "gap"),
    [
        (False, 1, timedelta(hours=12)),
        (False, 60, timedelta(minutes=12)),
        (True, 1, timedelta(seconds=81)),  # 12 h x 27 min / 240 h
        (True, 60, timedelta(seconds=1.35)),
    ],
)
def test_gap_is_scaled_like_the_offsets(
    testing_mode: bool, time_scale: float, gap: timedelta
) -> None:
    """The minimum gap shrinks with the table in force and the time scale."""
    timing = Timing(ends_at=None, testing_mode=testing_mode, time_scale=time_scale)
    assert timing.gap == gap


@pytest.mark.parametrize("time_scale", [1, 60])
def test_scaled_run_without_end_or_window_is_the_planned_table(time_scale: float) -> None:
    """In TESTING_MODE with no end and no window, the plan is the testing table unchanged."""
    timing = Timing(ends_at=None, send_window=None, testing_mode=True, time_scale=time_scale)
    start = utc("2025-12-20T23:00")
    plan = plan_schedule(start, Segment.OPTIMIZE, timing)
    planned = build_schedule(start, Segment.OPTIMIZE, testing_mode=True, time_scale=time_scale)
    assert [(s.email_number, s.template_id, s.due_at) for s in plan] == [
        (s.email_number, s.template_id, s.due_at) for s in planned
    ]
    assert all(step.note == "" for step in plan)


@pytest.mark.parametrize(
    ("hours_left", "steps"),
    [
        (72 + 1 / 60, [1, 2, 3, 4, 5, 6, 7]),  # six gaps of 12 h fit with a minute to spare
        (72, [1, 2, 3, 4, 5, 7]),  # the sixth would land on the end: 6 goes
        (60, [1, 2, 3, 4, 7]),  # then 5
        (48, [1, 2, 3, 7]),  # then 4
        (36, [1, 2, 7]),  # then 3
        (24, [1, 7]),  # then 2: last call outlives every middle step
        (12 + 1 / 3600, [1, 7]),  # last call still fits one second before the end
        (12, [1]),  # last call would be at the end itself
        (1, [1]),  # email 1 always goes before the end
    ],
)
def test_dropped_steps(hours_left: float, steps: list[int]) -> None:
    """Steps are dropped 6, 5, 4, 3, 2 and last call last, only when they cannot fit."""
    start = END - timedelta(hours=hours_left)
    plan = plan_schedule(start, Segment.URGENT, NO_WINDOW)
    assert kept(plan) == steps
    for step in plan:
        if step.due_at is None:
            assert step.note == (
                "Dropped: it cannot go out before the campaign ends (2025-12-24 18:00 UTC) at "
                "least 12 h after the email before it."
            )


def test_spaced_evenly_between_enrollment_and_the_end() -> None:
    """Seven steps in 140 h: email 1 at once, then one every 20 h, the last 20 h before the end."""
    start = END - timedelta(hours=140)
    plan = plan_schedule(start, Segment.URGENT, NO_WINDOW)
    assert [s.due_at - start for s in plan] == [timedelta(hours=20 * k) for k in range(7)]
    assert plan[0].note == ""
    assert plan[3].note == "Spaced evenly to fit before the campaign ends (2025-12-24 18:00 UTC)."


@pytest.mark.parametrize(
    "start",
    ["2025-12-24T18:00", "2025-12-24T18:00:01", "2025-12-27T09:00", "2025-12-31T23:59"],
)
def test_signups_after_the_end_get_nothing(start: str) -> None:
    """A signup at or after the end drops every step, email 1 included, and says why."""
    plan = plan_schedule(utc(start), Segment.CRITICAL, PRODUCTION)
    assert kept(plan) == []
    assert {s.note for s in plan} == {
        "Not sent: the signup came after the campaign ended (2025-12-24 18:00 UTC)."
    }


@pytest.mark.parametrize(
    ("now", "timing", "expected"),
    [
        ("2025-12-24T17:59:59", PRODUCTION, False),
        ("2025-12-24T18:00", PRODUCTION, True),
        ("2026-01-02T00:00", PRODUCTION, True),
        ("2099-01-01T00:00", Timing(ends_at=None), False),  # no end: never after it
    ],
)
def test_after_end(now: str, timing: Timing, expected: bool) -> None:
    """A run at or after the end must not send; without an end nothing is ever after it."""
    assert after_end(utc(now), timing) is expected


@pytest.mark.parametrize(
    ("now", "zone", "expected"),
    [
        ("2025-12-01T00:00", UTC, datetime(2025, 12, 24, 18, tzinfo=UTC)),
        ("2025-12-27T09:00", UTC, datetime(2025, 12, 24, 18, tzinfo=UTC)),  # so: after it
        ("2026-01-01T00:00", UTC, datetime(2026, 12, 24, 18, tzinfo=UTC)),  # the next one
        # 31 Dec 23:30 UTC is already 1 January in Kiritimati: the year is the zone's.
        ("2025-12-31T23:30", KIRITIMATI, datetime(2026, 12, 24, 18, tzinfo=KIRITIMATI)),
        ("2025-12-01T00:00", PARIS, datetime(2025, 12, 24, 17, tzinfo=UTC)),
    ],
)
def test_default_end_is_christmas_eve_of_nows_year(
    now: str, zone: ZoneInfo, expected: datetime
) -> None:
    """The default end is 24 December 18:00 in the campaign's zone, of the year `now` is in."""
    assert default_campaign_end(utc(now), zone) == expected


@pytest.mark.parametrize(
    ("overrides", "ends_at", "window"),
    [
        ({}, datetime(2025, 12, 24, 18, tzinfo=UTC), WINDOW),
        ({"testing_mode": True}, None, None),  # a test run does not depend on the date
        ({"sequence_time_scale": 60}, None, None),
        ({"testing_mode": True, "send_window_in_testing": True}, None, WINDOW),
        (
            {"testing_mode": True, "campaign_ends_at": "2025-12-20T12:00"},
            datetime(2025, 12, 20, 12, tzinfo=UTC),
            None,
        ),
        (
            {"campaign_timezone": "Europe/Paris", "campaign_ends_at": "2025-12-23T18:00"},
            datetime(2025, 12, 23, 17, tzinfo=UTC),  # a naive end is read in the campaign zone
            WINDOW,
        ),
        ({"send_window": "off"}, datetime(2025, 12, 24, 18, tzinfo=UTC), None),
        (
            {"send_window": "09:30-17:00"},
            datetime(2025, 12, 24, 18, tzinfo=UTC),
            (time(9, 30), time(17)),
        ),
    ],
)
def test_timing_from_settings(
    overrides: dict[str, object], ends_at: datetime | None, window: tuple[time, time] | None
) -> None:
    """The settings give the end, the window and the scale; scaled runs drop the defaults."""
    values: dict[str, object] = {
        "testing_mode": False,
        "sequence_time_scale": 1,
        "campaign_timezone": "UTC",
        "campaign_ends_at": None,
        "send_window": "08:00-20:00",
        "send_window_in_testing": False,
    }
    settings = load_settings(None, **(values | overrides))
    timing = Timing.from_settings(settings, now=utc("2025-12-01T00:00"))
    assert timing.ends_at == ends_at
    assert timing.send_window == window


def test_previous_and_last_planned_skip_dropped_steps() -> None:
    """With 3 to 6 dropped, email 7 follows email 2, and email 7 is the last."""
    plan = plan_schedule(END - timedelta(hours=36), Segment.URGENT, NO_WINDOW)
    assert kept(plan) == [1, 2, 7]
    previous = previous_planned(plan, 7)
    assert previous is not None and previous.email_number == 2
    assert previous_planned(plan, 1) is None
    assert last_planned(plan) == 7
    short = plan_schedule(END - timedelta(hours=6), Segment.URGENT, NO_WINDOW)
    assert last_planned(short) == 1


@pytest.mark.parametrize(
    ("previous_email_number", "action"),
    [
        (None, Action.WAIT),  # without the plan, email 6 looks due and unsent
        (2, Action.SEND),  # with it, email 2 is the one before 7, and it is sent
    ],
)
def test_a_dropped_step_is_not_waited_for(
    previous_email_number: int | None, action: Action
) -> None:
    """decide_send waits for the previous step of the plan, not for a dropped one."""
    contact = Contact(
        page_id="p", email="a@b.co", sequence_status=SequenceStatus.ACTIVE, last_email_sent=2
    )
    decision = decide_send(
        contact,
        7,
        previous_due_at=utc("2025-12-23T08:00"),
        now=utc("2025-12-24T08:00"),
        previous_email_number=previous_email_number,
    )
    assert decision.action == action


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ends_at": datetime(2025, 12, 24, 18)}, "ends_at must be timezone-aware"),
        ({"ends_at": END, "time_scale": 0}, "time_scale must be positive"),
        ({"ends_at": END, "min_gap": timedelta(hours=-1)}, "min_gap must not be negative"),
        ({"ends_at": END, "send_window": (time(20), time(8))}, "must open before it closes"),
    ],
)
def test_bad_timing_is_refused(kwargs: dict[str, object], message: str) -> None:
    """A naive end, a zero scale, a negative gap or a window across midnight is refused."""
    with pytest.raises(ValueError, match=message):
        Timing(**kwargs)  # type: ignore[arg-type]


def test_naive_times_are_refused() -> None:
    """A naive enrollment or `not_before` would be read in the wrong zone, so it is refused."""
    with pytest.raises(ValueError, match="enrolled_at must be timezone-aware"):
        plan_schedule(datetime(2025, 12, 1, 9), Segment.URGENT, PRODUCTION)
    with pytest.raises(ValueError, match="not_before must be timezone-aware"):
        earliest_send_time(2, datetime(2025, 12, 1, 9), None, PRODUCTION)
