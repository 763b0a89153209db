"""The one settings object, built once per entry point from the environment and `.env`.

Nothing else in the package reads `os.environ` for its settings. Which settings are *required*
depends on the entry point (the webhook service needs signing secrets, a send needs Resend), so
each entry point calls `require(...)` for the groups it uses; a missing one stops it at start,
naming the variable.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from campaigns.errors import SettingsError

# Groups of settings an entry point can demand, by environment variable name.
NOTION = ("NOTION_TOKEN", "NOTION_CONTACTS_DB_ID", "NOTION_TEMPLATES_DB_ID", "NOTION_SENDS_DB_ID")
RESEND = ("RESEND_API_KEY", "EMAIL_FROM")
CONTENT = ("POSTAL_ADDRESS", "PUBLIC_BASE_URL", "UNSUBSCRIBE_SECRET", "BOOKING_URL")
WEBHOOKS = ("SIGNUP_WEBHOOK_SECRET", "RESEND_WEBHOOK_SECRET", "UNSUBSCRIBE_SECRET")

PositiveScale = Annotated[float, Field(gt=0, le=1_000_000)]


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
    def notion_base_url(self) -> str:
        """The Notion SDK appends `/v1/` itself, so a trailing slash would give `//v1`."""
        return str(self.notion_api_url).rstrip("/")

    @property
    def resend_base_url(self) -> str:
        """The Resend SDK joins `api_url + "/emails"`, so no trailing slash."""
        return str(self.resend_api_url).rstrip("/")


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
