"""The task that hands one rendered email to Resend."""

from __future__ import annotations

from prefect import task

from campaigns.christmas_campaign.tasks.common import TASK_OPTIONS, FlowServices
from campaigns.mailer import CAMPAIGN_TAG, OutgoingEmail, SentEmail
from campaigns.models import Segment
from campaigns.rendering import RenderedEmail


@task(name="send-email-via-resend", **TASK_OPTIONS)
def deliver(
    services: FlowServices,
    to: str,
    email: RenderedEmail,
    unsubscribe_url: str,
    tags: dict[str, str],
    idempotency_key: str,
) -> SentEmail:
    """Send through Resend; a retry reuses `idempotency_key`, so Resend sends at most once."""
    message = OutgoingEmail(
        to=to,
        subject=email.subject,
        html=email.html,
        text=email.text,
        unsubscribe_url=unsubscribe_url,
        tags=tags,
    )
    return services.mailer.send(message, idempotency_key)


def send_tags(
    campaign: str, email_number: int, segment: Segment, template_id: str
) -> dict[str, str]:
    """Resend tags, for filtering in Resend and for joining its webhooks back to the step."""
    return {
        CAMPAIGN_TAG: campaign,
        "email_number": str(email_number),
        "segment": segment.value,
        "template": template_id,
    }
