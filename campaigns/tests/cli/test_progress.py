"""The demo's progress: new emails as lines, each contact's next step, the live table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rich.console import Console

from campaigns.cli.demo.progress import DemoWatch, LiveReporter, NextStep, PlainReporter
from campaigns.cli.demo.sandbox import demo_signups


def _email(to: str, number: int, segment: str) -> dict[str, Any]:
    return {
        "id": f"{to}-{number}",
        "to": [to],
        "subject": f"Subject {number}",
        "received_at": f"2025-12-01T09:00:0{number}.000Z",
        "tags": [
            {"name": "email_number", "value": str(number)},
            {"name": "segment", "value": segment},
            {"name": "template", "value": f"christmas_email_{number}"},
        ],
    }


def test_watch_reports_each_email_once_and_the_next_step() -> None:
    """Only the demo's contacts count; an email is new once; finished contacts have no next."""
    signups = demo_signups(1)
    maria, tom = signups[0].email, signups[1].email
    outbox = [_email("someone@else.example", 1, "URGENT"), _email(maria, 1, "CRITICAL")]
    due = datetime.now(UTC) + timedelta(seconds=30)
    watch = DemoWatch(signups, lambda: list(outbox), lambda: {tom: NextStep(1, due, "Scheduled")})
    first = watch.poll()
    assert [e["id"] for e in first.new_emails] == [f"{maria}-1"]
    assert first.sent == 1 and first.expected == 21 and not first.done
    assert first.contacts[1].next_step == NextStep(1, due, "Scheduled")
    outbox.extend(_email(maria, n, "CRITICAL") for n in range(2, 8))
    second = watch.poll()
    assert len(second.new_emails) == 6 and second.contacts[0].done
    assert second.contacts[0].next_step is None


def test_next_step_wording() -> None:
    """A future step says when; a due one is starting; a running one is sending."""
    now = datetime(2025, 12, 1, 9, 0, tzinfo=UTC)
    assert NextStep(4, now + timedelta(seconds=7), "Scheduled").describe(now) == "email 4 in 7 s"
    assert NextStep(4, now - timedelta(seconds=2), "Late").describe(now) == "email 4 starting"
    assert NextStep(4, now, "Running").describe(now) == "email 4 sending"


def test_a_failing_prefect_read_keeps_the_last_answer() -> None:
    """A 503 from a busy SQLite server does not stop the demo's progress."""
    calls = {"n": 0}
    signups = demo_signups(1)
    step = NextStep(2, None, "Scheduled")

    def upcoming() -> dict[str, NextStep]:
        calls["n"] += 1
        if calls["n"] > 1:
            raise RuntimeError("database is locked")
        return {signups[0].email: step}

    watch = DemoWatch(signups, list, upcoming)
    watch.poll()
    assert watch.poll().contacts[0].next_step == step


def test_plain_and_live_reporters(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    """Plain mode prints a line per email; live mode renders a table of the three contacts."""
    signups = demo_signups(1)
    outbox = [_email(signups[0].email, 1, "CRITICAL")]
    snapshot = DemoWatch(signups, lambda: outbox, None).poll()
    PlainReporter(every=0).update(snapshot)
    printed = capsys.readouterr().out
    assert "email 1/7 (christmas_email_1) -> maria@harbourplumbing.example (CRITICAL)" in printed
    assert "1/21 emails sent" in printed

    console = Console(record=True, width=160)
    monkeypatch.setattr("campaigns.cli.demo.progress.out", console)
    reporter = LiveReporter("Outbox: http://127.0.0.1:8025/")
    reporter.update(snapshot)
    reporter.close()
    text = console.export_text()
    assert "1/21 emails sent" in text and "#...... 1/7" in text and "Subject 1" in text
