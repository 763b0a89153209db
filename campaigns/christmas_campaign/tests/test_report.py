"""The campaign report's counting: stages a status has passed, contacts' exits, conversion."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from campaigns.christmas_campaign.report import METRICS, STAGES, build_report
from campaigns.models import Contact, Segment, SendRecord, SendStatus, SequenceStatus

WHEN = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def contact(
    name: str,
    segment: Segment | None,
    status: SequenceStatus = SequenceStatus.ACTIVE,
    last: int | None = None,
    enrolled: bool = True,
) -> Contact:
    return Contact(
        page_id=f"page-{name}",
        email=f"{name}@example.com",
        segment=segment,
        sequence_status=status,
        last_email_sent=last,
        enrolled_at=WHEN if enrolled else None,
    )


def send(name: str, number: int, status: SendStatus | None) -> SendRecord:
    return SendRecord(
        page_id=f"row-{name}-{number}",
        email=f"{name}@example.com",
        email_number=number,
        status=status,
    )


@pytest.mark.parametrize(
    ("status", "counted"),
    [
        (SendStatus.SCHEDULED, {"scheduled"}),
        (SendStatus.SKIPPED, {"skipped"}),
        (SendStatus.FAILED, {"failed"}),
        (SendStatus.SENT, {"sent"}),
        (SendStatus.DELIVERED, {"sent", "delivered"}),
        (SendStatus.OPENED, {"sent", "delivered", "opened"}),
        (SendStatus.CLICKED, {"sent", "delivered", "opened", "clicked"}),
        (SendStatus.BOUNCED, {"sent", "bounced"}),
        (SendStatus.COMPLAINED, {"sent", "delivered", "complained"}),
    ],
    ids=lambda value: value.value if isinstance(value, SendStatus) else None,
)
def test_a_status_counts_for_every_stage_it_has_passed(
    status: SendStatus, counted: set[str]
) -> None:
    """One row of each status counts once in each stage before it, and nowhere else."""
    report = build_report([contact("ava", Segment.URGENT)], [send("ava", 3, status)])
    expected = {metric: int(metric in counted) for metric in METRICS}
    assert report.by_step[3].as_dict() == expected
    assert report.by_segment[Segment.URGENT].as_dict() == expected
    assert report.total.as_dict() == expected
    assert report.by_step[1].as_dict() == dict.fromkeys(METRICS, 0)


def test_every_send_status_has_its_stages() -> None:
    """A new send status cannot be added without saying which stages it has passed."""
    assert set(STAGES) == set(SendStatus)


def test_exits_count_for_the_segment_and_the_last_email_received() -> None:
    """An unsubscribe after email 2 and a booked call after email 4 land on those steps."""
    contacts = [
        contact("ava", Segment.CRITICAL, SequenceStatus.UNSUBSCRIBED, last=2),
        contact("ben", Segment.CRITICAL, SequenceStatus.CONVERTED, last=4),
        contact("cem", Segment.CRITICAL),
        contact("dan", Segment.OPTIMIZE, SequenceStatus.CONVERTED, last=None),
        contact("eve", None, SequenceStatus.CONVERTED, last=1, enrolled=False),
    ]
    report = build_report(contacts, [])
    assert report.by_step[2]["unsubscribed"] == 1 and report.by_step[4]["converted"] == 1
    assert report.by_step[1]["converted"] == 1  # eve: no segment, still a step and the total
    assert report.by_segment[Segment.CRITICAL]["unsubscribed"] == 1
    assert report.total["converted"] == 3
    critical = report.conversion[Segment.CRITICAL]
    assert (critical.enrolled, critical.converted, critical.rate) == (3, 1, pytest.approx(1 / 3))
    assert report.conversion[Segment.OPTIMIZE].rate == 1.0
    assert report.conversion[Segment.URGENT].rate is None


def test_rates_and_rows_without_a_known_contact_or_status() -> None:
    """Rates divide by the stage before; rows of unknown contacts or statuses are handled."""
    sends = [
        send("ava", 1, SendStatus.CLICKED),
        send("ava", 2, SendStatus.DELIVERED),
        send("ava", 3, SendStatus.BOUNCED),
        send("zed", 1, SendStatus.SENT),  # no such contact: steps and total only
        send("ava", 4, None),  # a status typed by hand: not counted
    ]
    report = build_report([contact("ava", Segment.URGENT)], sends)
    assert report.rows == 4
    assert report.by_segment[Segment.URGENT]["sent"] == 3 and report.total["sent"] == 4
    rates = report.by_segment[Segment.URGENT].rates()
    assert rates["delivery rate"] == pytest.approx(2 / 3)
    assert rates["open rate"] == pytest.approx(1 / 2)
    assert rates["bounce rate"] == pytest.approx(1 / 3)
    assert report.by_segment[Segment.OPTIMIZE].rates()["open rate"] is None
    assert report.as_json()["by_step"]["1"]["sent"] == 2  # type: ignore[index]
