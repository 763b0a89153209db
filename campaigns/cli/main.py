"""The `campaign` command: run the Christmas nurture campaign without writing Python.

    campaign demo                 the whole product locally, no accounts needed
    campaign outbox               the demo's emails, as the recipients see them
    campaign doctor               check settings, Notion, Resend and Prefect
    campaign deploy | worker | serve
    campaign signup | status | cancel | preview | simulate | templates seed|check

Every command prints one line starting with `Error:` (and exits 1) when something it expects
can go wrong does; `--debug` shows the traceback instead.
"""

from __future__ import annotations

from importlib import metadata
from typing import Annotated

import typer

from campaigns.cli import campaign_commands, check_commands, stack_commands
from campaigns.cli.output import configure_cli_logging

app = typer.Typer(
    name="campaign",
    help="Run the Christmas email-nurture campaign: Notion CRM, Resend delivery, Prefect.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals could hold a token
    rich_markup_mode="rich",
)
templates_app = typer.Typer(
    help="Seed the campaign's templates into Notion, or check the ones there.",
    no_args_is_help=True,
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


app.command("demo")(stack_commands.demo)
app.command("outbox")(stack_commands.outbox)
app.command("deploy")(stack_commands.deploy)
app.command("worker")(stack_commands.worker)
app.command("serve")(stack_commands.serve)
app.command("signup")(campaign_commands.signup)
app.command("status")(campaign_commands.status)
app.command("cancel")(campaign_commands.cancel)
app.command("preview")(campaign_commands.preview)
app.command("simulate")(campaign_commands.simulate)
app.command("doctor")(check_commands.doctor)
templates_app.command("seed")(check_commands.templates_seed)
templates_app.command("check")(check_commands.templates_check)
app.add_typer(templates_app, name="templates")
