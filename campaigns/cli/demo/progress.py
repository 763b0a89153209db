"""Following the demo: which email went to whom (the Resend stand-in's outbox) and what is next
(the contacts' scheduled runs on Prefect), as a live table or as plain lines.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from rich.console import Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from campaigns.christmas_campaign.sequence import EMAIL_COUNT, classify_segment
from campaigns.cli.output import out
from campaigns.models import Segment, Signup
from campaigns.standins.outbox_page import recipient, tag

log = logging.getLogger("campaigns.cli")
Emails = Callable[[], list[dict[str, Any]]]
Upcoming = Callable[[], dict[str, "NextStep"]]  # email -> its next run


@dataclass(frozen=True)
class NextStep:
    email_number: int
    due: datetime | None
    state: str

    def describe(self, now: datetime) -> str:
        """`email 4 in 7 s`, `email 4 starting` (due, a process is starting), `email 4 sending`."""
        if self.state == "Running":
            return f"email {self.email_number} sending"
        wait = (self.due - now).total_seconds() if self.due is not None else 0.0
        if wait >= 0.5:
            return f"email {self.email_number} in {wait:.0f} s"
        return f"email {self.email_number} starting"


@dataclass
class ContactView:
    signup: Signup
    segment: Segment
    emails: list[dict[str, Any]] = field(default_factory=list)
    next_step: NextStep | None = None

    @property
    def done(self) -> bool:
        return len(self.emails) >= EMAIL_COUNT


@dataclass
class Snapshot:
    contacts: list[ContactView]
    new_emails: list[dict[str, Any]]
    elapsed: float

    @property
    def sent(self) -> int:
        return sum(len(c.emails) for c in self.contacts)

    @property
    def expected(self) -> int:
        return EMAIL_COUNT * len(self.contacts)

    @property
    def done(self) -> bool:
        return all(c.done for c in self.contacts)


class DemoWatch:
    """Polls the outbox (and, when given, Prefect) for the demo's contacts."""

    def __init__(self, signups: list[Signup], emails: Emails, upcoming: Upcoming | None) -> None:
        self.signups = signups
        self._emails = emails
        self._upcoming = upcoming
        self._seen: set[str] = set()
        self._next: dict[str, NextStep] = {}
        self._started = time.monotonic()

    def poll(self) -> Snapshot:
        addresses = {s.email for s in self.signups}
        mine = [e for e in self._emails() if recipient(e) in addresses]
        new = [e for e in mine if e["id"] not in self._seen]
        self._seen.update(e["id"] for e in new)
        if self._upcoming is not None:
            try:
                self._next = self._upcoming()
            except Exception as exc:  # a busy SQLite answers 503 now and then: keep the last
                log.debug("Reading the upcoming runs failed: %s", exc)
        views = []
        for signup in self.signups:
            view = ContactView(signup, classify_segment(signup.red_systems, signup.orange_systems))
            view.emails = [e for e in mine if recipient(e) == signup.email]
            view.next_step = None if view.done else self._next.get(signup.email)
            views.append(view)
        return Snapshot(views, new, time.monotonic() - self._started)


def email_line(email: dict[str, Any], elapsed: float) -> str:
    number = tag(email, "email_number")
    return (
        f"[{elapsed:6.1f} s] email {number}/{EMAIL_COUNT} ({tag(email, 'template')}) -> "
        f"{recipient(email)} ({tag(email, 'segment')}): {email.get('subject', '')}"
    )


class Reporter(Protocol):
    def update(self, snapshot: Snapshot) -> None: ...

    def close(self) -> None: ...


class PlainReporter:
    """One line per email, and a status line every `every` seconds; nothing interactive."""

    def __init__(self, every: float = 15.0) -> None:
        self._every = every
        self._last = 0.0

    def update(self, snapshot: Snapshot) -> None:
        for email in snapshot.new_emails:
            out.print(email_line(email, snapshot.elapsed), markup=False)
        if snapshot.elapsed - self._last >= self._every:
            self._last = snapshot.elapsed
            now = datetime.now(UTC)
            upcoming = "; ".join(
                f"{c.signup.email}: {c.next_step.describe(now)}"
                for c in snapshot.contacts
                if c.next_step is not None
            )
            line = f"[{snapshot.elapsed:6.1f} s] {snapshot.sent}/{snapshot.expected} emails sent"
            out.print(line + (f"; next: {upcoming}" if upcoming else ""), markup=False)

    def close(self) -> None:
        return None


class LiveReporter:
    """A table that redraws in place, with the latest emails below it."""

    def __init__(self, header: str, keep: int = 8) -> None:
        self._header = header
        self._keep = keep
        self._lines: list[str] = []
        self._live = Live(console=out, refresh_per_second=4, transient=False)
        self._live.start()

    def update(self, snapshot: Snapshot) -> None:
        self._lines.extend(email_line(e, snapshot.elapsed) for e in snapshot.new_emails)
        self._lines = self._lines[-self._keep :]
        self._live.update(self.render(snapshot))

    def render(self, snapshot: Snapshot) -> RenderableType:
        now = datetime.now(UTC)
        table = Table(title=f"{snapshot.sent}/{snapshot.expected} emails sent")
        table.add_column("Contact", no_wrap=True)
        for column in ("Segment", "Sent", "Last email", "Next"):
            table.add_column(column)
        for contact in snapshot.contacts:
            last = contact.emails[-1].get("subject", "") if contact.emails else "-"
            if contact.done:
                upcoming = "[green]sequence complete[/]"
            elif contact.next_step is not None:
                upcoming = contact.next_step.describe(now)
            else:
                upcoming = "enrolling" if not contact.emails else "-"
            bar = "#" * len(contact.emails) + "." * (EMAIL_COUNT - len(contact.emails))
            table.add_row(
                contact.signup.email,
                contact.segment.value,
                f"{bar} {len(contact.emails)}/{EMAIL_COUNT}",
                str(last),
                upcoming,
            )
        recent = Text("\n".join(self._lines) or "waiting for the first email...", style="dim")
        return Group(Text(self._header), table, recent)

    def close(self) -> None:
        self._live.stop()
