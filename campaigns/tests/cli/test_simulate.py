"""`campaign simulate`: the timeline of one enrollment, offline."""

from __future__ import annotations

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


def test_defaults_come_from_the_settings(bare_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without flags the table and scale are TESTING_MODE and SEQUENCE_TIME_SCALE."""
    monkeypatch.setenv("TESTING_MODE", "true")
    monkeypatch.setenv("SEQUENCE_TIME_SCALE", "60")
    result = run("simulate", "--segment", "OPTIMIZE", "--tz", "UTC")
    assert result.exit_code == 0, result.output
    assert "TESTING_MODE (minutes), time scale 60" in result.output
    assert "+27 s" in result.output and "christmas_email_7c_optimize" in result.output


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
