"""`campaign cancel EMAIL`: stop a contact's remaining emails (the one stop function)."""

from __future__ import annotations

from typing import Annotated

import typer

from campaigns.cli.output import handled, out
from campaigns.models import SequenceStatus, StopStatus
from campaigns.settings import load_settings


@handled
def cancel(
    email: Annotated[str, typer.Argument(help="The contact's address.")],
    status: Annotated[StopStatus, typer.Option(help="What the contact becomes.")] = (
        StopStatus.CANCELLED
    ),
) -> None:
    """Stop a contact's remaining emails: Notion status first, then its scheduled runs."""
    from campaigns.christmas_campaign.flows.cancel import cancel_contact_sequence
    from campaigns.cli.orchestration import prefect_errors, require_api

    settings = load_settings()
    require_api()  # before Notion changes: never half a cancel because Prefect is down
    with prefect_errors("cancelling the runs"):
        stop, count = cancel_contact_sequence(settings, email, SequenceStatus(status.value))
    shown = stop.status.value
    kept = f" ({shown} was already recorded and outranks {status.value})" if shown != status else ""
    out.print(
        f"Contact {email.strip().lower()} is now {shown}{kept}; {count} scheduled run(s) "
        "cancelled.",
        markup=False,
    )
