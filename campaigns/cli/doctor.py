"""`campaign doctor`: every setting, then Notion, Resend and Prefect, as one pass/fail table.

Each check says what it found and, when it fails, what to change. A failing check never stops
the others (a wrong Notion token still lets the Resend key be checked); a check that depends on
a setting that is missing is reported as skipped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import typer
from email_validator import EmailNotValidError, validate_email
from rich.table import Table

from campaigns.cli.output import handled, out
from campaigns.errors import SettingsError
from campaigns.settings import (
    SEND_GROUPS,
    Settings,
    SettingsGroup,
    WebhookSecrets,
    load_settings,
)


class Result(StrEnum):
    PASS = "PASS"  # noqa: S105 - a check result, not a password
    WARN = "WARN"
    FAIL = "FAIL"
    SKIP = "SKIP"


@dataclass(frozen=True)
class Check:
    area: str
    name: str
    result: Result
    detail: str


Checker = Callable[[Settings], list[Check]]
_STYLE = {Result.PASS: "green", Result.WARN: "yellow", Result.FAIL: "bold red", Result.SKIP: "dim"}
_SENDER = re.compile(r"^\s*(?:(?P<name>[^<>]*?)\s*<(?P<addr>[^<>]+)>|(?P<bare>[^<>\s]+))\s*$")


def sender_address(sender: str) -> str | None:
    """The address of `Name <addr>` or `addr`, when it is a valid address; else None."""
    match = _SENDER.match(sender)
    if match is None:
        return None
    address = match.group("addr") or match.group("bare")
    try:
        return str(validate_email(address, check_deliverability=False).normalized)
    except EmailNotValidError:
        return None


def setting_checks(settings: Settings) -> list[Check]:
    """Presence and shape of every setting of docs/contract.md §2."""
    checks: list[Check] = []
    seen: set[str] = set()
    # The groups the sends need fail the check; the webhook service's only warn (it is optional).
    for group, missing in (*((g, Result.FAIL) for g in SEND_GROUPS), (WebhookSecrets, Result.WARN)):
        unset = settings.missing(group)
        for name in group.variables():
            if name not in seen:  # UNSUBSCRIBE_SECRET is in two groups: checked once
                seen.add(name)
                checks.append(_presence(group, name, missing if name in unset else Result.PASS))
    checks.extend(_shapes(settings))
    return checks


def _presence(group: type[SettingsGroup], name: str, result: Result) -> Check:
    if result is Result.PASS:
        return Check("Settings", name, result, f"set ({group.title})")
    fix = f"not set; {group.needed_by} needs it (set it in .env or the env)"
    return Check("Settings", name, result, fix)


def _shapes(settings: Settings) -> list[Check]:
    checks = []
    if settings.email_from:
        ok = sender_address(settings.email_from) is not None
        checks.append(
            Check(
                "Settings",
                "EMAIL_FROM format",
                Result.PASS if ok else Result.FAIL,
                f"{settings.email_from}"
                if ok
                else "must be `Name <address@your-domain>` or an address",
            )
        )
    if settings.email_reply_to is None:
        checks.append(
            Check("Settings", "EMAIL_REPLY_TO", Result.WARN, "not set; replies go to EMAIL_FROM")
        )
    if settings.public_base_url is not None and settings.public_base_url.scheme != "https":
        checks.append(
            Check(
                "Settings",
                "PUBLIC_BASE_URL scheme",
                Result.WARN,
                "not https; mailbox providers expect an https one-click unsubscribe link",
            )
        )
    for name in ("SIGNUP_WEBHOOK_SECRET", "RESEND_WEBHOOK_SECRET"):
        value = getattr(settings, name.lower())
        if value is not None and not value.get_secret_value().startswith("whsec_"):
            checks.append(Check("Settings", name, Result.FAIL, "must start with whsec_"))
    secret = settings.unsubscribe_secret
    if secret is not None and len(secret.get_secret_value()) < 16:
        checks.append(
            Check("Settings", "UNSUBSCRIBE_SECRET length", Result.WARN, "shorter than 16 chars")
        )
    if settings.testing_mode:
        checks.append(
            Check("Settings", "TESTING_MODE", Result.WARN, "on: minutes, not days (tests only)")
        )
    if settings.sequence_time_scale != 1:
        checks.append(
            Check(
                "Settings",
                "SEQUENCE_TIME_SCALE",
                Result.WARN,
                f"{settings.sequence_time_scale:g}: every delay is divided by it (tests only)",
            )
        )
    return checks


def run_doctor(checkers: list[Checker]) -> list[Check]:
    """Load the settings (a malformed one is a failed check, not a crash), then run every part."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        return [Check("Settings", "load", Result.FAIL, str(exc))]
    checks = setting_checks(settings)
    for checker in checkers:
        checks.extend(checker(settings))
    return checks


def doctor_table(checks: list[Check]) -> Table:
    table = Table(title="campaign doctor")
    table.add_column("Area")
    table.add_column("Check")
    table.add_column("Result")
    table.add_column("Detail / what to fix", overflow="fold")
    for check in checks:
        style = _STYLE[check.result]
        table.add_row(check.area, check.name, f"[{style}]{check.result.value}[/]", check.detail)
    return table


def summary(checks: list[Check]) -> str:
    counts = {result: sum(c.result == result for c in checks) for result in Result}
    return (
        f"{counts[Result.PASS]} passed, {counts[Result.WARN]} warning(s), "
        f"{counts[Result.FAIL]} failed, {counts[Result.SKIP]} skipped."
    )


@handled
def doctor() -> None:
    """Check every setting, the Notion token and schemas, Resend, Prefect and the deployments."""
    from campaigns.cli.doctor_services import notion_checks, prefect_checks, resend_checks

    checks = run_doctor([notion_checks, resend_checks, prefect_checks])
    out.print(doctor_table(checks))
    out.print(summary(checks))
    if any(check.result == Result.FAIL for check in checks):
        raise typer.Exit(1)
