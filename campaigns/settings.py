"""The one settings object, built once per entry point from the environment and `.env`.

Nothing else in the package reads `os.environ` for its settings. The variables keep flat names
(NOTION_TOKEN, EMAIL_FROM); which of them are *required* depends on the entry point (the webhook
service needs signing secrets, a send needs Resend), so they are also read as typed groups
(`settings.notion`, `settings.resend`, `settings.content`, `settings.webhooks`) whose fields are
required; an entry point asks for its groups at start (`require(NotionAccess, ...)`), and a
missing variable stops it there, named with every other missing one.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Annotated, Any, ClassVar, Self
from zoneinfo import ZoneInfo

from notion_client.helpers import extract_database_id
from pydantic import (
    AnyHttpUrl,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict

from campaigns.errors import SettingsError
from campaigns.models import iana_zone

PositiveScale = Annotated[float, Field(gt=0, le=1_000_000)]


def _seconds_as_number(value: object) -> object:
    """A plain number of seconds ("43200") is a duration too, besides ISO 8601 ("PT12H")."""
    if isinstance(value, str) and re.fullmatch(r"\s*\d+(\.\d+)?\s*", value):
        return float(value)
    return value


Duration = Annotated[timedelta, BeforeValidator(_seconds_as_number)]


class SettingsGroup(BaseModel):
    """Settings one part of the product needs together, typed and complete.

    A group is read from the flat settings (the environment variables keep their names: each
    field's alias is the `Settings` field it comes from), and only when every required one is
    set: `Settings.require` names every missing variable of the groups asked for, in one error.
    """

    model_config = ConfigDict(frozen=True)
    title: ClassVar[str]
    needed_by: ClassVar[str]

    @classmethod
    def variables(cls) -> tuple[str, ...]:
        """The environment variables the group cannot do without."""
        return tuple(_variable(f) for f in cls.model_fields.values() if f.is_required())

    @classmethod
    def variable(cls, field: str) -> str:
        """The environment variable of one field, for messages: `variable("token")`."""
        return _variable(cls.model_fields[field])

    @classmethod
    def of(cls, settings: Settings) -> Self:
        """The group, from `settings`; `SettingsError` naming every variable that is unset."""
        settings.require(cls)
        values = {f.alias: getattr(settings, str(f.alias)) for f in cls.model_fields.values()}
        return cls.model_validate(values)


class NotionAccess(SettingsGroup):
    """The Notion integration and the three databases of docs/contract.md §3."""

    title: ClassVar[str] = "Notion"
    needed_by: ClassVar[str] = "every flow"
    token: SecretStr = Field(alias="notion_token", description="The integration's secret.")
    contacts_db_id: str = Field(alias="notion_contacts_db_id", description="Contacts database.")
    templates_db_id: str = Field(alias="notion_templates_db_id", description="Templates database.")
    sends_db_id: str = Field(alias="notion_sends_db_id", description="Send log database.")


class ResendAccess(SettingsGroup):
    """The Resend account and the sender of every email."""

    title: ClassVar[str] = "Resend"
    needed_by: ClassVar[str] = "the send flow"
    api_key: SecretStr = Field(alias="resend_api_key", description="Resend's API key.")
    email_from: str = Field(alias="email_from", description="The From header: `Name <a@b.c>`.")
    reply_to: str | None = Field(default=None, alias="email_reply_to", description="Reply-To.")


class EmailContent(SettingsGroup):
    """What every email carries besides its template: links, the postal address."""

    title: ClassVar[str] = "Content"
    needed_by: ClassVar[str] = "every email"
    postal_address: str = Field(alias="postal_address", description="The sender's address.")
    public_base_url: AnyHttpUrl = Field(
        alias="public_base_url", description="Where the unsubscribe page is served."
    )
    unsubscribe_secret: SecretStr = Field(
        alias="unsubscribe_secret", description="Signs unsubscribe links."
    )
    booking_url: AnyHttpUrl = Field(alias="booking_url", description="The call booking link.")


class WebhookSecrets(SettingsGroup):
    """The webhook service's signing secrets (docs/website-integration.md)."""

    title: ClassVar[str] = "Webhooks"
    needed_by: ClassVar[str] = "the webhook service"
    signup: SecretStr = Field(alias="signup_webhook_secret", description="whsec_ of signups.")
    resend: SecretStr = Field(alias="resend_webhook_secret", description="whsec_ of Resend.")
    booking: SecretStr = Field(alias="booking_webhook_secret", description="Cal.com's secret.")
    unsubscribe: SecretStr = Field(
        alias="unsubscribe_secret", description="Checks unsubscribe links."
    )


class PrefectAccess(SettingsGroup):
    """The Prefect API a long-running service (the webhook service) talks to."""

    title: ClassVar[str] = "Prefect"
    needed_by: ClassVar[str] = "the webhook service"
    api_url: str = Field(alias="prefect_api_url", description="PREFECT_API_URL.")


# Everything a run that renders or sends an email needs (orchestrator and send flow).
SEND_GROUPS = (NotionAccess, EmailContent, ResendAccess)


def _variable(field: FieldInfo) -> str:
    return str(field.alias).upper()


class Settings(BaseSettings):
    """Every setting of docs/contract.md §2; secrets are `SecretStr` so they never print."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,  # a blank line copied from .env.example means "unset"
        extra="ignore",
        case_sensitive=False,
    )

    notion_token: SecretStr | None = None
    notion_contacts_db_id: str | None = None
    notion_templates_db_id: str | None = None
    notion_sends_db_id: str | None = None
    notion_api_url: AnyHttpUrl = AnyHttpUrl("https://api.notion.com")
    # Not in the contract: Notion asks integrations for about 3 requests/s; 0 turns pacing off.
    notion_requests_per_second: float = Field(
        default=3.0,
        ge=0,
        description="The whole Notion budget of the integration, shared by every process.",
    )
    notion_webhook_requests_per_second: float = Field(
        default=0.3,
        ge=0,
        description="The webhook service's own share of that budget (a local throttle); flow "
        "runs share the rest through Prefect's global rate limit.",
    )
    notion_retry_budget_seconds: float = Field(
        default=600.0,
        gt=0,
        description="How long a flow run keeps retrying one Notion call that is rate limited, "
        "answers 5xx or times out, before the run fails.",
    )
    # The data sources behind the three databases (API 2025-09-03). `deploy_all.py` looks them
    # up and hands them to every flow run, so runs do not look them up again; empty: look up.
    notion_contacts_data_source_id: str | None = None
    notion_templates_data_source_id: str | None = None
    notion_sends_data_source_id: str | None = None

    resend_api_key: SecretStr | None = None
    resend_api_url: AnyHttpUrl = AnyHttpUrl("https://api.resend.com")
    resend_webhook_secret: SecretStr | None = None

    email_from: str | None = None
    email_reply_to: str | None = None
    postal_address: str | None = None
    public_base_url: AnyHttpUrl | None = None
    unsubscribe_secret: SecretStr | None = None
    signup_webhook_secret: SecretStr | None = None
    # Not in the contract: the Cal.com webhook's signing secret (X-Cal-Signature-256), issue 4.
    booking_webhook_secret: SecretStr | None = None
    booking_url: AnyHttpUrl | None = None

    testing_mode: bool = False
    sequence_time_scale: PositiveScale = 1.0
    prefect_api_url: str | None = None

    # When emails may go out (campaigns/christmas_campaign/timing.py, docs/timing.md).
    campaign_timezone: str = Field(
        default="UTC",
        description="The campaign's IANA time zone: the default end is read in it, and so is "
        "the send window of a contact who gave no time zone.",
    )
    campaign_ends_at: datetime | None = Field(
        default=None,
        description="The campaign's end, ISO 8601; without an offset it is read in "
        "CAMPAIGN_TIMEZONE. Unset: 24 December 18:00 of the current year (in production; a "
        "scaled test run has no end unless this is set).",
    )
    min_email_gap: Duration = Field(
        default=timedelta(hours=12),
        ge=timedelta(0),
        description="The least time between two emails of one contact, in seconds or ISO 8601 "
        "(PT12H); shrunk like every offset in TESTING_MODE and by SEQUENCE_TIME_SCALE.",
    )
    send_window: str = Field(
        default="08:00-20:00",
        description="The local hours emails 2 to 7 may go out in, every day, as HH:MM-HH:MM, "
        "or `off`. A due time outside it moves to the next opening.",
    )
    send_window_in_testing: bool = Field(
        default=False,
        description="Apply SEND_WINDOW also with TESTING_MODE or a SEQUENCE_TIME_SCALE other "
        "than 1 (it is off there otherwise, so tests stay fast).",
    )

    # The reconciler (flows/reconciler.py): how often it looks, and when a run counts as lost.
    # Unset: the production value, or the TESTING_MODE one (see `reconciler`).
    reconcile_every_seconds: float | None = Field(
        default=None,
        ge=10,
        description="How often the reconciler runs (300 s; 30 s in TESTING_MODE).",
    )
    reconcile_grace_seconds: float | None = Field(
        default=None,
        ge=0,
        description="How long after its due time a step may still have no run before the "
        "reconciler schedules it (600 s; 60 s in TESTING_MODE).",
    )
    run_heartbeat_seconds: int | None = Field(
        default=None,
        ge=30,
        description="How often a flow run tells Prefect it is alive "
        "(PREFECT_FLOWS_HEARTBEAT_FREQUENCY of the deployed runs; 60 s, 30 s in TESTING_MODE).",
    )
    lost_run_after_seconds: float | None = Field(
        default=None,
        ge=60,
        description="A Running run silent (no heartbeat) or a Pending run not started for this "
        "long is marked Crashed and re-driven (300 s; 90 s in TESTING_MODE).",
    )
    report_every_seconds: float | None = Field(
        default=None,
        ge=60,
        description="How often the `christmas-report` deployment publishes the campaign report "
        "as an artifact (86400 s, daily; 300 s in TESTING_MODE).",
    )
    reconcile_lookback_days: float = Field(
        default=14,
        gt=0,
        description="How far back the reconciler looks for failed orchestrator runs.",
    )
    reconcile_max_redrives: int = Field(
        default=3,
        ge=0,
        description="How many times the reconciler starts one lost step or signup again before "
        "it reports it for a person instead.",
    )

    @field_validator(
        "notion_contacts_db_id",
        "notion_templates_db_id",
        "notion_sends_db_id",
        "notion_contacts_data_source_id",
        "notion_templates_data_source_id",
        "notion_sends_data_source_id",
    )
    @classmethod
    def _strip_id(cls, value: str | None) -> str | None:
        """An id, or a database's URL as copied from Notion (its id is taken out); pasted ids
        often carry spaces; an empty one means unset."""
        text = (value or "").strip()
        if not text.lower().startswith(("http://", "https://", "notion.so/", "www.notion.so/")):
            return text or None
        found = extract_database_id(text)
        if found is None:
            raise ValueError(f"{text!r} is a URL with no Notion id in it; paste the database's id")
        return found

    @field_validator("campaign_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        name = value.strip()
        iana_zone(name)  # a ValueError names the zone and what is expected
        return name

    @field_validator("send_window")
    @classmethod
    def _window(cls, value: str) -> str:
        window = parse_send_window(value)
        return "off" if window is None else f"{window[0]:%H:%M}-{window[1]:%H:%M}"

    @model_validator(mode="after")
    def _end_in_campaign_zone(self) -> Settings:
        """A CAMPAIGN_ENDS_AT without an offset is a wall-clock time in CAMPAIGN_TIMEZONE."""
        end = self.campaign_ends_at
        if end is not None and (end.tzinfo is None or end.utcoffset() is None):
            self.campaign_ends_at = end.replace(tzinfo=self.campaign_zone)
        return self

    @property
    def campaign_zone(self) -> ZoneInfo:
        return iana_zone(self.campaign_timezone)

    @property
    def send_window_times(self) -> tuple[time, time] | None:
        """The send window's opening and closing local times, or None when it is off."""
        return parse_send_window(self.send_window)

    def missing(self, *groups: type[SettingsGroup]) -> list[str]:
        """The required variables of `groups` that are unset (empty means all are set)."""
        names = dict.fromkeys(name for group in groups for name in group.variables())
        return [name for name in names if not _is_set(getattr(self, name.lower()))]

    def require(self, *groups: type[SettingsGroup]) -> Settings:
        """Raise `SettingsError` naming every unset variable of `groups`; return self."""
        missing = self.missing(*groups)
        if missing:
            raise SettingsError(
                f"Missing required setting(s): {', '.join(missing)}. "
                "Set them in the environment or in .env (see .env.example)."
            )
        return self

    @property
    def notion(self) -> NotionAccess:
        """The Notion group; `SettingsError` naming what is missing."""
        return NotionAccess.of(self)

    @property
    def resend(self) -> ResendAccess:
        """The Resend group; `SettingsError` naming what is missing."""
        return ResendAccess.of(self)

    @property
    def content(self) -> EmailContent:
        """What every email carries; `SettingsError` naming what is missing."""
        return EmailContent.of(self)

    @property
    def webhooks(self) -> WebhookSecrets:
        """The webhook service's secrets; `SettingsError` naming what is missing."""
        return WebhookSecrets.of(self)

    @property
    def prefect(self) -> PrefectAccess:
        """The Prefect API of a service; `SettingsError` naming what is missing."""
        return PrefectAccess.of(self)

    @property
    def notion_webhook_rate(self) -> float | None:
        """The webhook service's throttle: its share, never more than the budget (None: off)."""
        if not self.notion_requests_per_second:
            return None
        return min(self.notion_webhook_requests_per_second, self.notion_requests_per_second) or None

    @property
    def notion_flow_rate(self) -> float:
        """Requests/s the flow runs may make together: the budget less the webhook's share."""
        return max(0.0, self.notion_requests_per_second - self.notion_webhook_requests_per_second)

    @property
    def reconciler(self) -> ReconcilerTiming:
        """The reconciler's timings, with the TESTING_MODE defaults where a value is unset."""
        testing = self.testing_mode
        return ReconcilerTiming(
            every_seconds=_pick(self.reconcile_every_seconds, 300, 30, testing),
            grace_seconds=_pick(self.reconcile_grace_seconds, 600, 60, testing),
            heartbeat_seconds=int(_pick(self.run_heartbeat_seconds, 60, 30, testing)),
            lost_after_seconds=_pick(self.lost_run_after_seconds, 300, 90, testing),
            lookback_days=self.reconcile_lookback_days,
            max_redrives=self.reconcile_max_redrives,
        )

    @property
    def report_interval_seconds(self) -> float:
        """How often the report is published, with the TESTING_MODE default where unset."""
        return _pick(self.report_every_seconds, 86400, 300, self.testing_mode)

    @property
    def notion_base_url(self) -> str:
        """The Notion SDK appends `/v1/` itself, so a trailing slash would give `//v1`."""
        return str(self.notion_api_url).rstrip("/")

    @property
    def resend_base_url(self) -> str:
        """The Resend SDK joins `api_url + "/emails"`, so no trailing slash."""
        return str(self.resend_api_url).rstrip("/")


@dataclass(frozen=True)
class ReconcilerTiming:
    """When the reconciler looks and what it counts as lost, in seconds (days for the look-back)."""

    every_seconds: float
    grace_seconds: float
    heartbeat_seconds: int
    lost_after_seconds: float
    lookback_days: float
    max_redrives: int


def _pick(value: float | None, production: float, testing: float, testing_mode: bool) -> float:
    if value is not None:
        return value
    return testing if testing_mode else production


_WINDOW = re.compile(r"\s*(\d{1,2}):(\d{2})\s*[-\u2013]\s*(\d{1,2}):(\d{2})\s*")


def parse_send_window(text: str) -> tuple[time, time] | None:
    """`08:00-20:00` as (opening, closing) local times; `off` (or `none`) as None."""
    if text.strip().lower() in {"off", "none"}:
        return None
    match = _WINDOW.fullmatch(text)
    try:
        if match is None:
            raise ValueError
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        opens, closes = time(h1, m1), time(h2, m2)
    except ValueError:
        raise ValueError(
            f"send window {text!r} must be HH:MM-HH:MM (e.g. 08:00-20:00) or off"
        ) from None
    if not opens < closes:
        raise ValueError(f"send window {text!r} must open before it closes on the same day")
    return opens, closes


def _is_set(value: object) -> bool:
    if value is None:
        return False
    if isinstance(value, SecretStr):
        return bool(value.get_secret_value().strip())
    return bool(str(value).strip())


_DEFAULT = ".env"


def load_settings(env_file: str | None = _DEFAULT, **overrides: Any) -> Settings:
    """Build the settings, turning pydantic's report into one line per bad variable.

    `CAMPAIGN_ENV_FILE` chooses another dotenv file, or `none` for none: the local stack sets
    it so that a developer's own `.env` in the checkout never leaks into a sandbox's runs.
    """
    if env_file == _DEFAULT:
        chosen = os.environ.get("CAMPAIGN_ENV_FILE", _DEFAULT)
        env_file = None if chosen.strip().lower() in {"", "none"} else chosen
    try:
        return Settings(_env_file=env_file, **overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in exc.errors()
        )
        raise SettingsError(f"Invalid setting(s): {problems}") from None
