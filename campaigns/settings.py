"""The one settings object, built once per entry point from the environment and `.env`.

Nothing else in the package reads `os.environ` for its settings. Which settings are *required*
depends on the entry point (the webhook service needs signing secrets, a send needs Resend), so
each entry point calls `require(...)` for the groups it uses; a missing one stops it at start,
naming the variable.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import (
    AnyHttpUrl,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from campaigns.errors import SettingsError
from campaigns.models import iana_zone

# Groups of settings an entry point can demand, by environment variable name.
NOTION = ("NOTION_TOKEN", "NOTION_CONTACTS_DB_ID", "NOTION_TEMPLATES_DB_ID", "NOTION_SENDS_DB_ID")
RESEND = ("RESEND_API_KEY", "EMAIL_FROM")
CONTENT = ("POSTAL_ADDRESS", "PUBLIC_BASE_URL", "UNSUBSCRIBE_SECRET", "BOOKING_URL")
WEBHOOKS = ("SIGNUP_WEBHOOK_SECRET", "RESEND_WEBHOOK_SECRET", "UNSUBSCRIBE_SECRET")

PositiveScale = Annotated[float, Field(gt=0, le=1_000_000)]


def _seconds_as_number(value: object) -> object:
    """A plain number of seconds ("43200") is a duration too, besides ISO 8601 ("PT12H")."""
    if isinstance(value, str) and re.fullmatch(r"\s*\d+(\.\d+)?\s*", value):
        return float(value)
    return value


Duration = Annotated[timedelta, BeforeValidator(_seconds_as_number)]


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
        """Database ids pasted from a Notion URL often carry spaces; an empty one means unset."""
        return value.strip() or None if value is not None else None

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

    def missing(self, *names: str) -> list[str]:
        """The listed variables that are unset (empty means all are set)."""
        return [name for name in names if not _is_set(getattr(self, name.lower()))]

    def require(self, *names: str) -> Settings:
        """Raise `SettingsError` naming every listed variable that is unset; return self."""
        missing = self.missing(*names)
        if missing:
            raise SettingsError(
                f"Missing required setting(s): {', '.join(missing)}. "
                "Set them in the environment or in .env (see .env.example)."
            )
        return self

    def secret(self, name: str) -> str:
        """The plain value of a required secret, for the one call that needs it."""
        self.require(name)
        value = getattr(self, name.lower())
        return str(value.get_secret_value())

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
