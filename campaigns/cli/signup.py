"""`campaign signup`: validate a signup as the website's form does, then start its orchestrator."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError

from campaigns.christmas_campaign.sequence import classify_segment
from campaigns.cli.output import describe_validation, handled, out
from campaigns.errors import InputError
from campaigns.models import Signup

OPTION_NAMES = {
    "email": "--email",
    "first_name": "--first-name",
    "business_name": "--business-name",
    "assessment_score": "--score",
    "red_systems": "--red",
    "orange_systems": "--orange",
    "yellow_systems": "--yellow",
    "green_systems": "--green",
    "gps_score": "--gps-score",
    "money_score": "--money-score",
    "weakest_system_1": "--weakest-1",
    "weakest_system_2": "--weakest-2",
    "revenue_leak_monthly": "--revenue-leak",
    "input": "--red + --orange + --yellow + --green",
}


@handled
def signup(
    email: Annotated[str, typer.Option(help="The contact's address.")],
    first_name: Annotated[str, typer.Option(help="First name (used in every email).")],
    business_name: Annotated[str, typer.Option(help="Business name.")],
    red: Annotated[int, typer.Option(help="Red systems (0-8).")],
    orange: Annotated[int, typer.Option(help="Orange systems (0-8).")],
    yellow: Annotated[int, typer.Option(help="Yellow systems (0-8).")],
    green: Annotated[int, typer.Option(help="Green systems; the four add up to 8.")],
    score: Annotated[int, typer.Option(help="Assessment score (0-100).")],
    gps_score: Annotated[int | None, typer.Option(help="GPS score (0-100).")] = None,
    money_score: Annotated[int | None, typer.Option(help="Money score (0-100).")] = None,
    weakest_1: Annotated[str | None, typer.Option(help="Weakest system.")] = None,
    weakest_2: Annotated[str | None, typer.Option(help="Second weakest system.")] = None,
    revenue_leak: Annotated[str | None, typer.Option(help="Monthly revenue leak, $.")] = None,
    dry_run: Annotated[bool, typer.Option(help="Validate and classify only.")] = False,
) -> None:
    """Validate a signup and trigger the orchestrator, as the website's form does."""
    try:
        valid = Signup.model_validate(
            {
                "email": email,
                "first_name": first_name,
                "business_name": business_name,
                "assessment_score": score,
                "red_systems": red,
                "orange_systems": orange,
                "yellow_systems": yellow,
                "green_systems": green,
                "gps_score": gps_score,
                "money_score": money_score,
                "weakest_system_1": weakest_1,
                "weakest_system_2": weakest_2,
                "revenue_leak_monthly": revenue_leak,
            }
        )
    except ValidationError as exc:
        raise InputError(describe_validation(exc, OPTION_NAMES)) from None
    segment = classify_segment(valid.red_systems, valid.orange_systems)
    out.print(f"Signup valid: {valid.email}, segment {segment.value}.", markup=False)
    if dry_run:
        return
    from campaigns.cli.orchestration import require_api, run_url, trigger_orchestrator

    require_api()
    run = trigger_orchestrator(valid)
    out.print(f"Orchestrator run {run.name} ({run.id}) created.", markup=False)
    link = run_url(run.id)
    where = f" or at {link}" if link else ""
    out.print(f"Follow it with `campaign status {valid.email}`{where}.", markup=False)
