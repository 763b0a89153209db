"""Settings of docs/contract.md §2: required groups, bad values, secrets, .env and URL handling."""

from __future__ import annotations

import os
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from campaigns.errors import SettingsError
from campaigns.settings import (
    SEND_GROUPS,
    EmailContent,
    NotionAccess,
    PrefectAccess,
    ResendAccess,
    Settings,
    SettingsGroup,
    WebhookSecrets,
    load_settings,
)

GROUPS: tuple[type[SettingsGroup], ...] = (
    NotionAccess,
    ResendAccess,
    EmailContent,
    WebhookSecrets,
    PrefectAccess,
)

CONTRACT_VARIABLES = (
    "NOTION_TOKEN",
    "NOTION_CONTACTS_DB_ID",
    "NOTION_TEMPLATES_DB_ID",
    "NOTION_SENDS_DB_ID",
    "NOTION_API_URL",
    "RESEND_API_KEY",
    "RESEND_API_URL",
    "RESEND_WEBHOOK_SECRET",
    "EMAIL_FROM",
    "EMAIL_REPLY_TO",
    "POSTAL_ADDRESS",
    "PUBLIC_BASE_URL",
    "UNSUBSCRIBE_SECRET",
    "SIGNUP_WEBHOOK_SECRET",
    "BOOKING_URL",
    "TESTING_MODE",
    "SEQUENCE_TIME_SCALE",
    "PREFECT_API_URL",
)
# Settings added after the contract share these prefixes; none may leak in from the machine.
OUR_PREFIXES = (
    "NOTION_",
    "RESEND_",
    "EMAIL_",
    "SEQUENCE_",
    "TESTING_",
    "UNSUBSCRIBE_",
    "SIGNUP_",
    "BOOKING_",
    "PREFECT_API_URL",
    "CAMPAIGN_",
    "MIN_EMAIL_",
    "SEND_WINDOW",
)
SECRETS = {
    "NOTION_TOKEN": "ntn_supersecret_notion_value",
    "RESEND_API_KEY": "re_supersecret_resend_value",
    "RESEND_WEBHOOK_SECRET": "whsec_supersecret_resend_hook",
    "UNSUBSCRIBE_SECRET": "supersecret-unsubscribe-key",
    "SIGNUP_WEBHOOK_SECRET": "whsec_supersecret_signup_hook",
    "BOOKING_WEBHOOK_SECRET": "supersecret-booking-hook",
}
FULL = {
    **SECRETS,
    "NOTION_CONTACTS_DB_ID": "contacts-db",
    "NOTION_TEMPLATES_DB_ID": "templates-db",
    "NOTION_SENDS_DB_ID": "sends-db",
    "EMAIL_FROM": "Systems Review <hello@review.example>",
    "POSTAL_ADDRESS": "1 Main Street, Springfield",
    "PUBLIC_BASE_URL": "https://hooks.review.example",
    "BOOKING_URL": "https://book.review.example/call",
    "PREFECT_API_URL": "http://127.0.0.1:4200/api",
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No contract variable from the machine, and no stray .env, reaches these tests."""
    contract = {name.lower() for name in CONTRACT_VARIABLES}
    for name in list(os.environ):
        if name.lower() in contract or name.upper().startswith(OUR_PREFIXES):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def set_env(monkeypatch: pytest.MonkeyPatch, values: dict[str, str]) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def test_empty_environment_gives_the_defaults() -> None:
    """With nothing set, optional settings take the contract's defaults and secrets are unset."""
    settings = load_settings(env_file=None)
    assert settings.notion_base_url == "https://api.notion.com"
    assert settings.resend_base_url == "https://api.resend.com"
    assert settings.testing_mode is False
    assert settings.sequence_time_scale == 1.0
    assert settings.notion_token is None
    assert settings.booking_url is None


@pytest.mark.parametrize(
    "groups",
    [*((group,) for group in GROUPS), GROUPS],
    ids=[*(group.title for group in GROUPS), "all-groups"],
)
def test_require_names_every_missing_variable(groups: tuple[type[SettingsGroup], ...]) -> None:
    """require() on an empty environment raises SettingsError naming every variable asked for,
    and so does reading an incomplete group."""
    settings = load_settings(env_file=None)
    with pytest.raises(SettingsError) as info:
        settings.require(*groups)
    for name in (name for group in groups for name in group.variables()):
        assert name in str(info.value)
        assert str(info.value).count(name) == 1  # once, though a secret is in two groups
    with pytest.raises(SettingsError, match=groups[0].variables()[0]):
        groups[0].of(settings)


def test_groups_are_typed_and_complete(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each group reads its flat variables into required, typed fields."""
    set_env(monkeypatch, FULL)
    settings = load_settings(env_file=None)
    assert settings.notion.token.get_secret_value() == FULL["NOTION_TOKEN"]
    assert settings.notion.sends_db_id == "sends-db"
    assert settings.resend.email_from == FULL["EMAIL_FROM"] and settings.resend.reply_to is None
    assert str(settings.content.booking_url) == FULL["BOOKING_URL"]
    assert settings.webhooks.booking.get_secret_value() == FULL["BOOKING_WEBHOOK_SECRET"]
    assert settings.prefect.api_url == FULL["PREFECT_API_URL"]
    assert WebhookSecrets.variable("signup") == "SIGNUP_WEBHOOK_SECRET"
    assert (NotionAccess, EmailContent, ResendAccess) == SEND_GROUPS


@pytest.mark.parametrize(
    ("present", "missing"),
    [
        pytest.param(
            {"NOTION_TOKEN": "t"}, ("NOTION_CONTACTS_DB_ID", "NOTION_SENDS_DB_ID"), id="token-only"
        ),
        pytest.param({"NOTION_TOKEN": "   "}, ("NOTION_TOKEN",), id="blank-secret"),
        pytest.param({"NOTION_CONTACTS_DB_ID": "  "}, ("NOTION_CONTACTS_DB_ID",), id="blank-id"),
        pytest.param({"EMAIL_FROM": ""}, ("EMAIL_FROM",), id="empty-string"),
        pytest.param({"POSTAL_ADDRESS": " \t"}, ("POSTAL_ADDRESS",), id="blank-address"),
    ],
)
def test_require_names_only_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, present: dict[str, str], missing: tuple[str, ...]
) -> None:
    """Set variables are not named; blank ones count as missing and are named."""
    set_env(monkeypatch, {**FULL, **present})
    for name in missing:
        if name not in present:
            monkeypatch.delenv(name)
    asked = [name for group in SEND_GROUPS for name in group.variables()]
    with pytest.raises(SettingsError) as info:
        load_settings(env_file=None).require(*SEND_GROUPS)
    message = str(info.value)
    for name in asked:
        assert (name in message) is (name in missing), name


def test_require_returns_the_settings_when_all_are_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """require() returns the same settings object when nothing is missing."""
    set_env(monkeypatch, FULL)
    settings = load_settings(env_file=None)
    assert settings.require(*GROUPS) is settings


@pytest.mark.parametrize(
    ("name", "value"),
    [
        pytest.param("TESTING_MODE", "maybe", id="testing-mode-maybe"),
        pytest.param("TESTING_MODE", "2", id="testing-mode-2"),
        pytest.param("SEQUENCE_TIME_SCALE", "0", id="scale-0"),
        pytest.param("SEQUENCE_TIME_SCALE", "-1", id="scale-minus-1"),
        pytest.param("SEQUENCE_TIME_SCALE", "abc", id="scale-abc"),
        pytest.param("SEQUENCE_TIME_SCALE", "nan", id="scale-nan"),
        pytest.param("SEQUENCE_TIME_SCALE", "inf", id="scale-inf"),
        pytest.param("NOTION_API_URL", "not a url", id="notion-url"),
        pytest.param("BOOKING_URL", "ftp://book.example", id="booking-url-scheme"),
        pytest.param("NOTION_CONTACTS_DB_ID", "https://notion.so/acme/Contacts", id="url-no-id"),
    ],
)
def test_malformed_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    """A malformed value in the environment raises SettingsError naming the variable."""
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        load_settings(env_file=None)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        pytest.param("TESTING_MODE", "maybe", id="testing-mode"),
        pytest.param("SEQUENCE_TIME_SCALE", "0", id="scale-0"),
        pytest.param("SEQUENCE_TIME_SCALE", "abc", id="scale-abc"),
    ],
)
def test_malformed_value_in_env_file_names_the_variable(
    tmp_path: Path, name: str, value: str
) -> None:
    """A malformed value in the .env file raises SettingsError naming the variable."""
    env_file = tmp_path / "bad.env"
    env_file.write_text(f"{name}={value}\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=name):
        load_settings(env_file=str(env_file))


@pytest.mark.parametrize(
    ("name", "value", "attribute", "expected"),
    [
        pytest.param("TESTING_MODE", "true", "testing_mode", True, id="testing-true"),
        pytest.param("TESTING_MODE", "1", "testing_mode", True, id="testing-1"),
        pytest.param("TESTING_MODE", "False", "testing_mode", False, id="testing-False"),
        pytest.param("SEQUENCE_TIME_SCALE", "60", "sequence_time_scale", 60.0, id="scale-60"),
        pytest.param("SEQUENCE_TIME_SCALE", "0.5", "sequence_time_scale", 0.5, id="scale-half"),
        pytest.param(
            "NOTION_SENDS_DB_ID", "  abc123  ", "notion_sends_db_id", "abc123", id="id-stripped"
        ),
        pytest.param("NOTION_SENDS_DB_ID", "   ", "notion_sends_db_id", None, id="blank-id-unset"),
        pytest.param("notion_sends_db_id", "lower", "notion_sends_db_id", "lower", id="lowercase"),
        pytest.param(
            "NOTION_SENDS_DB_ID",
            " https://www.notion.so/acme/Send-Log-0123456789abcdef0123456789abcdef?v=ffff ",
            "notion_sends_db_id",
            "01234567-89ab-cdef-0123-456789abcdef",
            id="pasted-database-url",
        ),
    ],
)
def test_valid_values_are_parsed(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, attribute: str, expected: object
) -> None:
    """Well-formed values are parsed into their types; database ids are stripped."""
    monkeypatch.setenv(name, value)
    assert getattr(load_settings(env_file=None), attribute) == expected


def test_secrets_are_secret_str_and_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every secret is a SecretStr whose value shows in neither repr() nor str() of the settings."""
    set_env(monkeypatch, FULL)
    settings = load_settings(env_file=None)
    shown = repr(settings) + str(settings) + settings.model_dump_json()
    for name, value in SECRETS.items():
        assert isinstance(getattr(settings, name.lower()), SecretStr), name
        assert value not in shown, name
    groups = repr([settings.notion, settings.resend, settings.content, settings.webhooks])
    for name, value in SECRETS.items():
        assert value not in groups, name


def test_env_file_is_read(tmp_path: Path) -> None:
    """Values in the given .env file are loaded."""
    env_file = tmp_path / "custom.env"
    env_file.write_text(
        "NOTION_TOKEN=ntn_from_file\n"
        "BOOKING_URL=https://book.example/call\n"
        "TESTING_MODE=true\n"
        "SEQUENCE_TIME_SCALE=60\n"
        "UNRELATED_VARIABLE=ignored\n",
        encoding="utf-8",
    )
    settings = load_settings(env_file=str(env_file))
    assert settings.notion_token is not None
    assert settings.notion_token.get_secret_value() == "ntn_from_file"
    assert str(settings.booking_url) == "https://book.example/call"
    assert settings.testing_mode is True
    assert settings.sequence_time_scale == 60.0


def test_default_env_file_is_dot_env_in_the_working_directory(tmp_path: Path) -> None:
    """Without arguments, load_settings reads .env from the current directory."""
    (tmp_path / ".env").write_text("EMAIL_FROM=From File <f@example.com>\n", encoding="utf-8")
    assert load_settings().email_from == "From File <f@example.com>"
    assert load_settings(env_file=None).email_from is None


def test_environment_overrides_env_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A variable set in the environment wins over the same variable in .env."""
    env_file = tmp_path / "override.env"
    env_file.write_text("POSTAL_ADDRESS=from file\n", encoding="utf-8")
    monkeypatch.setenv("POSTAL_ADDRESS", "from environment")
    assert load_settings(env_file=str(env_file)).postal_address == "from environment"


def test_overrides_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keyword overrides passed to load_settings take precedence over the environment."""
    monkeypatch.setenv("TESTING_MODE", "false")
    assert load_settings(env_file=None, testing_mode=True).testing_mode is True


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, "https://api.notion.com", id="default"),
        pytest.param("https://api.notion.com/", "https://api.notion.com", id="trailing-slash"),
        pytest.param("http://127.0.0.1:8901", "http://127.0.0.1:8901", id="stand-in"),
        pytest.param("http://127.0.0.1:8901/", "http://127.0.0.1:8901", id="stand-in-slash"),
        pytest.param("http://proxy.example/notion/", "http://proxy.example/notion", id="path"),
    ],
)
def test_notion_base_url_has_no_trailing_slash(
    monkeypatch: pytest.MonkeyPatch, value: str | None, expected: str
) -> None:
    """notion_base_url strips the trailing slash so the SDK's `/v1/` does not become `//v1/`."""
    if value is not None:
        monkeypatch.setenv("NOTION_API_URL", value)
    assert load_settings(env_file=None).notion_base_url == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, "https://api.resend.com", id="default"),
        pytest.param("http://127.0.0.1:8902/", "http://127.0.0.1:8902", id="stand-in-slash"),
    ],
)
def test_resend_base_url_has_no_trailing_slash(
    monkeypatch: pytest.MonkeyPatch, value: str | None, expected: str
) -> None:
    """resend_base_url strips the trailing slash so `/emails` is joined cleanly."""
    if value is not None:
        monkeypatch.setenv("RESEND_API_URL", value)
    assert load_settings(env_file=None).resend_base_url == expected


def test_settings_class_reads_dot_env_by_default() -> None:
    """The Settings class itself is configured to read `.env` (docs/contract.md §2)."""
    assert Settings.model_config.get("env_file") == ".env"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        pytest.param("CAMPAIGN_TIMEZONE", "Mars/Olympus", "unknown time zone", id="zone"),
        pytest.param("CAMPAIGN_TIMEZONE", "localtime", "unknown time zone", id="zone-file"),
        pytest.param("SEND_WINDOW", "20:00-08:00", "open before it closes", id="window-night"),
        pytest.param("SEND_WINDOW", "8 to 8", "HH:MM-HH:MM", id="window-shape"),
        pytest.param("SEND_WINDOW", "08:00-25:00", "HH:MM-HH:MM", id="window-hour"),
        pytest.param("MIN_EMAIL_GAP", "twelve hours", "MIN_EMAIL_GAP", id="gap-words"),
        pytest.param("MIN_EMAIL_GAP", "-PT1H", "MIN_EMAIL_GAP", id="gap-negative"),
        pytest.param("CAMPAIGN_ENDS_AT", "Christmas Eve", "CAMPAIGN_ENDS_AT", id="end-words"),
    ],
)
def test_malformed_timing_setting_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    """A bad zone, window, gap or end names its variable and says what is expected."""
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name) as info:
        load_settings(env_file=None)
    assert expected in str(info.value)


@pytest.mark.parametrize(
    ("name", "value", "attribute", "expected"),
    [
        pytest.param("MIN_EMAIL_GAP", "43200", "min_email_gap", timedelta(hours=12), id="secs"),
        pytest.param("MIN_EMAIL_GAP", "PT6H", "min_email_gap", timedelta(hours=6), id="iso"),
        pytest.param("SEND_WINDOW", " 9:30 - 17:00 ", "send_window", "09:30-17:00", id="window"),
        pytest.param("SEND_WINDOW", "OFF", "send_window_times", None, id="window-off"),
        pytest.param("CAMPAIGN_TIMEZONE", "Europe/Paris", "campaign_timezone", "Europe/Paris"),
        pytest.param(
            "CAMPAIGN_ENDS_AT",
            "2025-12-24T18:00:00-05:00",
            "campaign_ends_at",
            datetime(2025, 12, 24, 23, tzinfo=UTC),
            id="end-with-offset",
        ),
    ],
)
def test_timing_settings_are_parsed(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, attribute: str, expected: object
) -> None:
    """The timing settings accept seconds or ISO 8601 gaps, HH:MM-HH:MM or off, IANA names."""
    monkeypatch.setenv(name, value)
    assert getattr(load_settings(env_file=None), attribute) == expected


def test_timing_defaults_and_a_naive_end_in_the_campaign_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """By default: UTC, no explicit end, 12 h gap, 08:00-20:00; a naive end is local time."""
    settings = load_settings(env_file=None)
    assert (settings.campaign_timezone, settings.campaign_ends_at) == ("UTC", None)
    assert settings.min_email_gap == timedelta(hours=12)
    assert settings.send_window_times == (time(8), time(20))
    assert settings.send_window_in_testing is False
    monkeypatch.setenv("CAMPAIGN_TIMEZONE", "Europe/Paris")
    monkeypatch.setenv("CAMPAIGN_ENDS_AT", "2025-12-24T18:00")
    end = load_settings(env_file=None).campaign_ends_at
    assert end is not None and end.astimezone(UTC) == datetime(2025, 12, 24, 17, tzinfo=UTC)
