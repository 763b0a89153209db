"""The data contract as pydantic models: what a signup may contain and what Notion rows hold.

Validation happens here, at the edge, so every later step can trust its input. Each rule names
the field it checks, which is what the UI form, the webhook and the CLI show the user.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from functools import cache
from typing import Annotated
from zoneinfo import ZoneInfo, available_timezones

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    PlainSerializer,
    model_validator,
)

SYSTEM_COUNT = 8  # the assessment rates eight business systems


class Segment(StrEnum):
    CRITICAL = "CRITICAL"
    URGENT = "URGENT"
    OPTIMIZE = "OPTIMIZE"


class TemplateSegment(StrEnum):
    ALL = "ALL"
    CRITICAL = "CRITICAL"
    URGENT = "URGENT"
    OPTIMIZE = "OPTIMIZE"


class SequenceStatus(StrEnum):
    ACTIVE = "Active"
    COMPLETED = "Completed"
    UNSUBSCRIBED = "Unsubscribed"
    BOUNCED = "Bounced"
    COMPLAINED = "Complained"
    CONVERTED = "Converted"
    CANCELLED = "Cancelled"
    # Signed up after the campaign's end, so never enrolled (or enrolled, and the end came).
    CAMPAIGN_ENDED = "Campaign Ended"


# Statuses that mean "never email this person again" (consent withdrawn or address unusable).
DO_NOT_CONTACT = frozenset(
    {SequenceStatus.UNSUBSCRIBED, SequenceStatus.BOUNCED, SequenceStatus.COMPLAINED}
)


class StopStatus(StrEnum):
    """The statuses that end a sequence, weakest first: a status is never replaced by a weaker
    one. A person who unsubscribed and then books a call stays Unsubscribed (withdrawn consent
    outlives a conversion), and a complaint outranks everything. The cancel flow, `campaign
    cancel` and the webhook service take this type; `STOP_RANK` is its order."""

    CANCELLED = "Cancelled"
    CONVERTED = "Converted"
    UNSUBSCRIBED = "Unsubscribed"
    BOUNCED = "Bounced"
    COMPLAINED = "Complained"


# How strongly a status says "stop"; any other status (Active, Completed) ranks 0.
STOP_RANK = {SequenceStatus(stop.value): rank for rank, stop in enumerate(StopStatus, start=1)}


def outranks(current: SequenceStatus | None, new: SequenceStatus) -> bool:
    """True when `current` already says "stop" at least as strongly as `new`."""
    return current is not None and STOP_RANK.get(current, 0) >= STOP_RANK.get(new, 0)


class TemplateStatus(StrEnum):
    ACTIVE = "Active"
    DRAFT = "Draft"


class SendStatus(StrEnum):
    SCHEDULED = "Scheduled"
    SENT = "Sent"
    SKIPPED = "Skipped"
    FAILED = "Failed"
    DELIVERED = "Delivered"
    BOUNCED = "Bounced"
    COMPLAINED = "Complained"
    OPENED = "Opened"
    CLICKED = "Clicked"


def _clean_text(value: str) -> str:
    """Refuse control characters (CR/LF in a name is how header injection starts) and template
    markers (a name like `{{x}}` would make every email of the contact fail its final check)."""
    for char in value:
        if unicodedata.category(char) in {"Cc", "Zl", "Zp"}:
            raise ValueError("must not contain control characters or line breaks")
    if "{{" in value or "{%" in value:
        raise ValueError("must not contain '{{' or '{%'")
    return value


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def _blank_to_none(value: object) -> object:
    """An empty optional form field means "not answered", not an empty name."""
    if isinstance(value, str) and not value.strip():
        return None
    return _strip(value)


def _lower(value: str) -> str:
    return value.lower()


@cache
def _zone_names() -> frozenset[str]:
    """The IANA names this machine knows (read once: listing them scans the zone files)."""
    # `localtime` and `Factory` are files of the zone directory, not places.
    return (frozenset(available_timezones()) | {"UTC"}) - {"localtime", "Factory", "posixrules"}


def iana_zone(name: str) -> ZoneInfo:
    """The IANA time zone of this exact name, or a ValueError saying what is expected.

    Only names of the zone database are accepted, so a path or `localtime` never reaches the
    file system.
    """
    if name not in _zone_names():
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as Europe/Paris")
    return ZoneInfo(name)


def _check_zone(value: str) -> str:
    iana_zone(value)
    return value


Email = Annotated[EmailStr, BeforeValidator(_strip), AfterValidator(_lower), Field(max_length=200)]
Name = Annotated[
    str, BeforeValidator(_strip), Field(min_length=1, max_length=100), AfterValidator(_clean_text)
]
BusinessName = Annotated[
    str, BeforeValidator(_strip), Field(min_length=1, max_length=200), AfterValidator(_clean_text)
]
Label = Annotated[str, Field(max_length=100), AfterValidator(_clean_text)]
OptionalLabel = Annotated[Label | None, BeforeValidator(_blank_to_none)]
ColourCount = Annotated[int, Field(ge=0, le=SYSTEM_COUNT)]
Score = Annotated[int, Field(ge=0, le=100)]


def _dollars_as_number(value: Decimal) -> int | float:
    """In JSON a dollar amount is a number (cents at most, so a float holds it exactly): the
    orchestrator's run form and Prefect's parameter schema take a number, not text."""
    return int(value) if value == value.to_integral_value() else float(value)


Dollars = Annotated[
    Decimal,
    Field(ge=0, le=1_000_000_000, decimal_places=2),
    PlainSerializer(_dollars_as_number, when_used="json"),
]
TimeZoneName = Annotated[str, Field(max_length=64), AfterValidator(_check_zone)]
OptionalTimeZone = Annotated[TimeZoneName | None, BeforeValidator(_blank_to_none)]


class Signup(BaseModel):
    """One completed assessment, as the website or the Prefect UI form hands it over."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    email: Email
    first_name: Name
    business_name: BusinessName
    assessment_score: Score
    red_systems: ColourCount
    orange_systems: ColourCount
    yellow_systems: ColourCount
    green_systems: ColourCount
    gps_score: Score | None = None
    money_score: Score | None = None
    weakest_system_1: OptionalLabel = None
    weakest_system_2: OptionalLabel = None
    revenue_leak_monthly: Dollars | None = None
    # The contact's IANA zone, e.g. from `Intl.DateTimeFormat().resolvedOptions().timeZone`;
    # None: CAMPAIGN_TIMEZONE. Emails 2 to 7 go out inside the send window of this zone.
    timezone: OptionalTimeZone = None

    @model_validator(mode="after")
    def _colours_cover_every_system(self) -> Signup:
        total = self.red_systems + self.orange_systems + self.yellow_systems + self.green_systems
        if total != SYSTEM_COUNT:
            raise ValueError(
                "red_systems + orange_systems + yellow_systems + green_systems must add up to "
                f"{SYSTEM_COUNT} (the assessment rates {SYSTEM_COUNT} systems), got {total}"
            )
        return self


class Contact(BaseModel):
    """A row of the Contacts database."""

    model_config = ConfigDict(frozen=True)

    page_id: str
    email: str
    first_name: str = ""
    business_name: str = ""
    segment: Segment | None = None
    assessment_score: int | None = None
    red_systems: int | None = None
    orange_systems: int | None = None
    yellow_systems: int | None = None
    green_systems: int | None = None
    sequence_status: SequenceStatus | None = None
    enrolled_at: datetime | None = None
    last_email_sent: int | None = None
    last_email_sent_at: datetime | None = None
    time_zone: str = ""  # the IANA zone the contact gave at signup; empty: CAMPAIGN_TIMEZONE


class EmailTemplate(BaseModel):
    """A row of the Email Templates database."""

    model_config = ConfigDict(frozen=True)

    template_id: str = Field(min_length=1)
    subject: str
    preview_text: str = ""
    body_html: str
    email_number: int = Field(ge=1)
    segment: TemplateSegment = TemplateSegment.ALL
    status: TemplateStatus = TemplateStatus.DRAFT
    page_id: str | None = None


class SendRecord(BaseModel):
    """A row of the Email Sends database: one per (contact, email number)."""

    model_config = ConfigDict(frozen=True)

    page_id: str
    email: str
    email_number: int
    template_id: str = ""
    status: SendStatus | None = None
    contact_id: str | None = None
    scheduled_for: datetime | None = None
    sent_at: datetime | None = None
    resend_email_id: str = ""
    idempotency_key: str = ""
    flow_run_id: str = ""
    detail: str = ""


class NewSend(BaseModel):
    """What identifies a send-log row when it is created (its status comes from a `SendUpdate`)."""

    model_config = ConfigDict(frozen=True)

    email: str
    email_number: int
    template_id: str
    contact_id: str | None
    scheduled_for: AwareDatetime
    idempotency_key: str


class SendUpdate(BaseModel):
    """The fields a step of the send flow writes to its send-log row; None means unchanged."""

    status: SendStatus
    sent_at: AwareDatetime | None = None
    resend_email_id: str | None = None
    flow_run_id: str | None = None
    detail: str | None = None
    scheduled_for: AwareDatetime | None = None
