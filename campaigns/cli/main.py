"""The `campaign` command: run the Christmas nurture campaign without writing Python.

    campaign demo                 the whole product locally, no accounts needed
    campaign outbox               the demo's emails, as the recipients see them
    campaign doctor               check settings, Notion, Resend and Prefect
    campaign deploy | worker | serve
    campaign signup | status | cancel | preview | simulate | report | templates seed|check

Every command prints one line starting with `Error:` (and exits 1) when something it expects
can go wrong does; `--debug` shows the traceback instead.
"""

from __future__ import annotations

from importlib import metadata
from typing import Annotated

import typer

from campaigns.cli import (
    cancel,
    doctor,
    preview,
    report,
    signup,
    simulate,
    stack,
    status,
    templates,
)
from campaigns.cli.demo import command as demo
from campaigns.cli.output import configure_cli_logging

app = typer.Typer(
    name="campaign",
    help="Run the Christmas email-nurture campaign: Notion CRM, Resend delivery, Prefect.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals could hold a token
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        try:
            version = metadata.version("nurture-campaigns")
        except metadata.PackageNotFoundError:
            version = "unknown"
        typer.echo(f"campaign {version}")
        raise typer.Exit


@app.callback()
def main(
    debug: Annotated[
        bool,
        typer.Option("--debug", envvar="CAMPAIGN_DEBUG", help="Show tracebacks and debug logs."),
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Run the Christmas email-nurture campaign: Notion CRM, Resend delivery, Prefect."""
    configure_cli_logging(debug)


app.command("demo")(demo.demo)
app.command("outbox")(demo.outbox)
app.command("deploy")(stack.deploy)
app.command("worker")(stack.worker)
app.command("serve")(stack.serve)
app.command("signup")(signup.signup)
app.command("status")(status.status)
app.command("cancel")(cancel.cancel)
app.command("preview")(preview.preview)
app.command("simulate")(simulate.simulate)
app.command("report")(report.report)
app.command("doctor")(doctor.doctor)
app.add_typer(templates.app, name="templates")
