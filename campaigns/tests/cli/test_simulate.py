"""`campaign simulate`: the timeline of one enrollment, offline."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from campaigns.tests.cli.conftest import no_traceback, run


def test_production_timeline_in_utc_and_a_zone(bare_env: Path) -> None:
    """A Paris-time enrollment lists all seven steps with UTC and local due times."""
    result = run(
        "simulate", "--segment", "CRITICAL", "--start", "2025-12-01T09:00", "--tz", "Europe/Paris"
    )
    assert result.exit_code == 0, result.output
    lines = [line.split() for line in result.output.splitlines() if line.strip()[:1].isdigit()]
    assert [row[1] for row in lines] == [
        "christmas_email_1",
        "christmas_email_2a_critical",
        "christmas_email_3",
        "christmas_email_4",
        "christmas_email_5",
        "christmas_email_6",
        "christmas_email_7a_critical",
    ]
    first, last = " ".join(lines[0]), " ".join(lines[-1])
    assert "01 Dec 08:00" in first and "Mon 01 Dec 09:00 CET" in first and "24 d" in first
    assert "+10 d 0 h" in last and "11 Dec 08:00" in last and "Thu 11 Dec 09:00 CET" in last
    assert "production (hours)" in result.output


def test_testing_mode_with_a_time_scale(bare_env: Path) -> None:
    """TESTING_MODE at scale 27 puts email 7 one minute after enrollment."""
    result = run(
        "simulate", "--segment", "URGENT", "--testing", "--time-scale", "27", "--tz", "UTC",
        "--start", "2025-12-01T10:00:00+00:00",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "christmas_email_7b_urgent" in result.output
    assert "+60 s" in result.output and "01 Dec 10:01:00" in result.output


def test_production_table_unless_testing_is_given(
    bare_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --testing the production table is used, even with TESTING_MODE set."""
    monkeypatch.setenv("TESTING_MODE", "true")
    monkeypatch.setenv("SEQUENCE_TIME_SCALE", "60")
    result = run("simulate", "--segment", "OPTIMIZE", "--tz", "UTC", "--start", "2025-12-01T09:00")
    assert result.exit_code == 0, result.output
    assert "production (hours), time scale 1." in result.output
    assert "+10 d 0 h" in result.output


def test_testing_takes_the_scale_from_the_settings(
    bare_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With --testing the scale is SEQUENCE_TIME_SCALE, with no end and no window."""
    monkeypatch.setenv("SEQUENCE_TIME_SCALE", "60")
    result = run("simulate", "--segment", "OPTIMIZE", "--tz", "UTC", "--testing")
    assert result.exit_code == 0, result.output
    assert "TESTING_MODE (minutes), time scale 60" in result.output
    assert "No campaign end" in result.output and "No send window" in result.output
    assert "+27 s" in result.output and "christmas_email_7c_optimize" in result.output


def test_late_signup_shows_moved_and_dropped_steps(bare_env: Path) -> None:
    """A 22 December signup keeps emails 1, 2 and 7 and says why 3 to 6 are dropped."""
    result = run(
        "simulate", "--segment", "URGENT", "--start", "2025-12-22T10:00", "--tz", "Europe/Paris"
    )
    assert result.exit_code == 0, result.output
    rows = {
        line.split()[0]: line for line in result.output.splitlines() if line[:2].strip().isdigit()
    }
    assert "Tue 23 Dec 08:00 CET" in rows["2"] and "Moved to the opening" in rows["2"]
    assert "Wed 24 Dec 08:00 CET" in rows["7"]
    for number in "3456":
        assert "dropped" in rows[number] and "Dropped: it cannot go out" in rows[number]
    assert "Campaign ends 2025-12-24 18:00 UTC" in result.output
    assert "Send window 08:00-20:00 Europe/Paris" in result.output


def test_json_lists_every_step_for_scripts(bare_env: Path) -> None:
    """--json prints one object per step: UTC and local ISO times, null and a note when dropped."""
    result = run(
        "simulate", "--segment", "CRITICAL", "--start", "2025-12-22T10:00", "--tz",
        "America/New_York", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    steps = json.loads(result.output)
    assert [s["email_number"] for s in steps] == [1, 2, 3, 4, 5, 6, 7]
    assert set(steps[0]) == {"email_number", "template_id", "due_at", "local_due_at", "note"}
    assert steps[0] == {
        "email_number": 1,
        "template_id": "christmas_email_1",
        "due_at": "2025-12-22T15:00:00+00:00",
        "local_due_at": "2025-12-22T10:00:00-05:00",
        "note": "",
    }
    assert steps[1]["due_at"] == "2025-12-23T13:00:00+00:00"
    assert steps[1]["note"].endswith("(08:00-20:00 America/New_York).")
    assert steps[2]["due_at"] is None and steps[2]["local_due_at"] is None
    assert steps[2]["note"].startswith("Dropped: ")
    assert steps[6]["template_id"] == "christmas_email_7a_critical"


def test_json_after_the_end_drops_everything(bare_env: Path) -> None:
    """A signup on 27 December is after that year's end: every step is null, saying why."""
    result = run("simulate", "--segment", "URGENT", "--start", "2025-12-27T09:00Z", "--json")
    assert result.exit_code == 0, result.output
    steps = json.loads(result.output)
    assert all(s["due_at"] is None for s in steps)
    assert steps[0]["note"].startswith("Not sent: the signup came after the campaign ended")


def test_settings_shape_the_simulation(bare_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """CAMPAIGN_ENDS_AT, SEND_WINDOW and MIN_EMAIL_GAP from the environment are used."""
    monkeypatch.setenv("CAMPAIGN_ENDS_AT", "2025-12-05T00:00:00+00:00")
    monkeypatch.setenv("SEND_WINDOW", "off")
    monkeypatch.setenv("MIN_EMAIL_GAP", "PT24H")
    result = run("simulate", "--segment", "URGENT", "--start", "2025-12-01T00:00Z", "--json")
    assert result.exit_code == 0, result.output
    due = [s["due_at"] for s in json.loads(result.output)]
    assert due == [
        "2025-12-01T00:00:00+00:00",
        "2025-12-02T00:00:00+00:00",
        "2025-12-03T00:00:00+00:00",
        None,
        None,
        None,
        "2025-12-04T00:00:00+00:00",
    ]


def test_needs_no_network(bare_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The simulation opens no connection at all."""

    def refuse(*args: object) -> None:
        raise AssertionError("simulate tried to connect")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    result = run("simulate", "--segment", "URGENT", "--tz", "Asia/Tokyo")
    assert result.exit_code == 0, result.output
    assert "JST" in result.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--tz", "Mars/Olympus"], "Unknown time zone 'Mars/Olympus'"),
        (["--start", "next tuesday"], "--start 'next tuesday' is not an ISO 8601 time"),
        (["--time-scale", "0"], "--time-scale must be positive"),
    ],
)
def test_bad_input_is_one_error_line(bare_env: Path, args: list[str], expected: str) -> None:
    """A bad zone, date or scale is one `Error:` line and exit status 1."""
    result = run("simulate", "--segment", "URGENT", *args)
    assert result.exit_code == 1
    no_traceback(result)
    errors = [line for line in result.output.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("Error: ") and expected in errors[0]


def test_unknown_segment_is_a_usage_error(bare_env: Path) -> None:
    """Typer refuses a segment that is not one of the three, naming the choices."""
    result = run("simulate", "--segment", "VIP")
    assert result.exit_code == 2
    assert "CRITICAL" in result.output and "Traceback" not in result.output
