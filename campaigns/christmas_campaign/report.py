"""How the campaign is doing, per email step and per segment, from the contacts and the send log.

Pure: the Contacts rows and the Email Sends rows go in (as `notion_crm` reads them), counts and
rates come out. A send-log row keeps only its latest status, and a status implies the ones
before it on the way to the inbox (a Clicked email was also sent, delivered and opened), so each
status counts towards every stage it has passed (`STAGES`). Unsubscribes and booked calls are
facts about a contact, not an email: they count towards the segment, and towards the last email
the contact had received when it happened (its Last Email Sent).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from campaigns.christmas_campaign.sequence import EMAIL_COUNT
from campaigns.models import Contact, Segment, SendRecord, SendStatus, SequenceStatus

# The columns of the report, in the order of the funnel.
METRICS = (
    "scheduled",
    "sent",
    "skipped",
    "failed",
    "delivered",
    "opened",
    "clicked",
    "bounced",
    "complained",
    "unsubscribed",
    "converted",
)

# Every stage a send-log row with this status has passed.
STAGES: Mapping[SendStatus, frozenset[str]] = {
    SendStatus.SCHEDULED: frozenset({"scheduled"}),
    SendStatus.SKIPPED: frozenset({"skipped"}),
    SendStatus.FAILED: frozenset({"failed"}),
    SendStatus.SENT: frozenset({"sent"}),
    SendStatus.DELIVERED: frozenset({"sent", "delivered"}),
    SendStatus.OPENED: frozenset({"sent", "delivered", "opened"}),
    SendStatus.CLICKED: frozenset({"sent", "delivered", "opened", "clicked"}),
    SendStatus.BOUNCED: frozenset({"sent", "bounced"}),
    SendStatus.COMPLAINED: frozenset({"sent", "delivered", "complained"}),
}

# The contact statuses counted as a metric of their own.
CONTACT_METRICS: Mapping[SequenceStatus, str] = {
    SequenceStatus.UNSUBSCRIBED: "unsubscribed",
    SequenceStatus.CONVERTED: "converted",
}

# Each rate: (name, numerator, denominator).
RATES = (
    ("delivery rate", "delivered", "sent"),
    ("open rate", "opened", "delivered"),
    ("click rate", "clicked", "delivered"),
    ("bounce rate", "bounced", "sent"),
    ("complaint rate", "complained", "sent"),
    ("unsubscribe rate", "unsubscribed", "sent"),
)


@dataclass
class Counts:
    """One row of the report: how many of each metric."""

    values: Counter[str] = field(default_factory=Counter)

    def __getitem__(self, metric: str) -> int:
        return self.values[metric]

    def add(self, metrics: Iterable[str]) -> None:
        self.values.update(metrics)

    def rates(self) -> dict[str, float | None]:
        """Each rate of `RATES` (None where its denominator is 0)."""
        return {
            name: (self[top] / self[bottom] if self[bottom] else None)
            for name, top, bottom in RATES
        }

    def as_dict(self) -> dict[str, int]:
        return {metric: self[metric] for metric in METRICS}


@dataclass(frozen=True)
class Conversion:
    """Booked calls of one segment, against the contacts enrolled in it."""

    enrolled: int
    converted: int

    @property
    def rate(self) -> float | None:
        return self.converted / self.enrolled if self.enrolled else None

    def text(self) -> str:
        """As the report shows it: `converted/enrolled (rate)`."""
        return f"{self.converted}/{self.enrolled} ({percent(self.rate)})"


@dataclass
class CampaignReport:
    """The report: per email step, per segment, the whole campaign, and conversion."""

    by_step: dict[int, Counts]
    by_segment: dict[Segment, Counts]
    total: Counts
    conversion: dict[Segment, Conversion]
    contacts: int
    rows: int

    def as_json(self) -> dict[str, object]:
        def row(counts: Counts) -> dict[str, object]:
            return {**counts.as_dict(), "rates": counts.rates()}

        return {
            "contacts": self.contacts,
            "send_log_rows": self.rows,
            "by_step": {str(n): row(c) for n, c in self.by_step.items()},
            "by_segment": {s.value: row(c) for s, c in self.by_segment.items()},
            "total": row(self.total),
            "conversion": {
                s.value: {"enrolled": c.enrolled, "converted": c.converted, "rate": c.rate}
                for s, c in self.conversion.items()
            },
        }


def build_report(contacts: Iterable[Contact], sends: Iterable[SendRecord]) -> CampaignReport:
    """The report of these contacts and send-log rows (rows of unknown contacts count in the
    steps and the total, not in a segment)."""
    people = list(contacts)
    segment_of = {c.email.strip().lower(): c.segment for c in people}
    by_step = {n: Counts() for n in range(1, EMAIL_COUNT + 1)}
    by_segment = {segment: Counts() for segment in Segment}
    total = Counts()
    rows = 0
    for send in sends:
        if send.status is None:
            continue  # a status typed by hand that the contract does not know
        rows += 1
        stages = STAGES[send.status]
        by_step.setdefault(send.email_number, Counts()).add(stages)
        segment = segment_of.get(send.email.strip().lower())
        if segment is not None:
            by_segment[segment].add(stages)
        total.add(stages)
    enrolled: Counter[Segment] = Counter()
    converted: Counter[Segment] = Counter()
    for contact in people:
        if contact.segment is not None and contact.enrolled_at is not None:
            enrolled[contact.segment] += 1
        metric = CONTACT_METRICS.get(contact.sequence_status) if contact.sequence_status else None
        if metric is None:
            continue
        if contact.last_email_sent:
            by_step.setdefault(contact.last_email_sent, Counts()).add([metric])
        if contact.segment is not None:
            by_segment[contact.segment].add([metric])
            converted[contact.segment] += metric == "converted"
        total.add([metric])
    conversion = {s: Conversion(enrolled[s], converted[s]) for s in Segment}
    return CampaignReport(by_step, by_segment, total, conversion, len(people), rows)


def report_markdown(report: CampaignReport, notion_requests: int) -> str:
    """The report as markdown tables, as the Prefect UI shows an artifact."""

    def table(first: str, rows: list[tuple[str, Counts]]) -> list[str]:
        lines = [
            "| " + " | ".join([first, *(m.capitalize() for m in METRICS)]) + " |",
            "|---" + "|---:" * len(METRICS) + "|",
        ]
        lines += [
            "| " + " | ".join([label, *(str(counts[m]) for m in METRICS)]) + " |"
            for label, counts in rows
        ]
        return lines

    steps = [(f"Email {n}", c) for n, c in sorted(report.by_step.items())]
    segments = [(s.value, c) for s, c in report.by_segment.items()]
    rates = [
        "| Segment | "
        + " | ".join(name.capitalize() for name, _, _ in RATES)
        + " | Booked calls |",
        "|---" + "|---:" * (len(RATES) + 1) + "|",
    ]
    for segment, counts in report.by_segment.items():
        conversion = report.conversion[segment]
        shown = [percent(rate) for rate in counts.rates().values()]
        rates.append("| " + " | ".join([segment.value, *shown, conversion.text()]) + " |")
    return "\n".join(
        [
            "# Christmas campaign report",
            "",
            f"{report.contacts} contacts, {report.rows} send-log rows, read in "
            f"{notion_requests} Notion requests.",
            "",
            "## By email",
            "",
            *table("Email", [*steps, ("Total", report.total)]),
            "",
            "## By segment",
            "",
            *table("Segment", segments),
            "",
            "## Rates",
            "",
            *rates,
            "",
        ]
    )


def percent(rate: float | None) -> str:
    """A rate as the report shows it: a whole percentage, or `-` when there is none."""
    return "-" if rate is None else f"{rate:.0%}"
