"""What every `campaign` command prints: one console for results, one line for an error.

An expected failure (any `CampaignError`, or bad input caught by pydantic) becomes a single
line on stderr, `Error: <what went wrong> <what to do>`, and exit status 1; `--debug` lets the
exception through with its traceback instead. Anything unexpected gets the same one line, with
a pointer to `--debug`, so an operator never faces a traceback by surprise.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import ParamSpec, TypeVar

import click
import typer
from pydantic import ValidationError
from rich.console import Console

from campaigns import errors

P = ParamSpec("P")
R = TypeVar("R")

out = Console(highlight=False, soft_wrap=True)  # long lines stay whole when piped
err = Console(stderr=True, highlight=False, soft_wrap=True)
MAX_MESSAGE = 600
EXIT_INTERRUPTED = 130

# The first matching class gives the hint; the most specific classes come first.
HINTS: list[tuple[type[BaseException], str]] = [
    (errors.SettingsError, "Run `campaign doctor` to check every setting."),
    (errors.TemplateNotFound, "Seed the templates with `campaign templates seed`."),
    (errors.TemplateNotActive, "Set its Status to Active in Notion (`campaign templates check`)."),
    (errors.NotionSchemaError, "`campaign doctor` lists each property to fix."),
    (errors.NotionError, "Run `campaign doctor` to check the Notion token and databases."),
    (errors.TemplateError, "Fix the template in Notion, then run `campaign templates check`."),
    (errors.ResendError, "Run `campaign doctor` to check the Resend key and sender."),
    (errors.DeploymentMissing, "Register the deployments with `campaign deploy`."),
    (
        errors.OrchestrationError,
        "Start Prefect (`prefect server start`) and set PREFECT_API_URL, or try `campaign demo`.",
    ),
    (ValidationError, "Correct the value(s) named and try again."),
]


_state = {"debug": False}


def set_debug(debug: bool) -> None:
    """Called by the root command for every invocation (`--debug` or CAMPAIGN_DEBUG)."""
    _state["debug"] = debug


def debug_enabled() -> bool:
    return _state["debug"]


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """Collapse whitespace (a subprocess's output may span lines) and cap the length."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3].rstrip() + "..."


def hint_for(exc: BaseException) -> str:
    for kind, hint in HINTS:
        if isinstance(exc, kind):
            return hint
    return ""


def describe_validation(exc: ValidationError, names: Mapping[str, str] | None = None) -> str:
    """`Invalid input: --red: ...; --email: ...`, naming options rather than model fields."""
    names = names or {}
    parts = []
    for problem in exc.errors():
        field = ".".join(str(p) for p in problem["loc"]) or "input"
        parts.append(f"{names.get(field, field)}: {problem['msg']}")
    return "Invalid input: " + "; ".join(parts) + "."


def message_for(exc: BaseException) -> str:
    """The error line without the `Error:` prefix: the message, then the hint if it adds one."""
    if isinstance(exc, ValidationError):
        text = describe_validation(exc)
    elif isinstance(exc, errors.CampaignError):
        text = str(exc) or type(exc).__name__
    else:
        text = (
            f"Unexpected {type(exc).__name__}: {exc}. "
            "Run the command again with --debug for the traceback."
        )
    hint = hint_for(exc)
    if hint and "`" not in text:  # the message already names a command to run
        text = f"{text} {hint}"
    return one_line(text)


def fail(exc: BaseException) -> typer.Exit:
    """Print the error line and return the exit to raise."""
    err.print(f"[bold red]Error:[/] {message_for(exc)}", markup=True, highlight=False)
    return typer.Exit(1)


def handled(func: Callable[P, R]) -> Callable[P, R]:
    """Decorate a command: expected failures become one line and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            if debug_enabled():
                raise
            err.print("Interrupted.")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except Exception as exc:
            if debug_enabled():
                raise
            raise fail(exc) from None

    return wrapper


def configure_cli_logging(debug: bool) -> None:
    """The package's own log lines on stderr: warnings normally, everything with --debug."""
    set_debug(debug)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    logging.getLogger("campaigns").setLevel(logging.DEBUG if debug else logging.WARNING)


def utc(value: datetime | None) -> str:
    """`2025-12-01 09:30:00 UTC`, or "-" when there is no value."""
    if value is None:
        return "-"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def joined(values: Iterable[str]) -> str:
    return ", ".join(values) or "-"
