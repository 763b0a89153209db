"""Tasks that fetch templates from Notion and render them for one contact."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from prefect import task

from campaigns.christmas_campaign.emails import render_template
from campaigns.christmas_campaign.sequence import ScheduledEmail
from campaigns.christmas_campaign.tasks.common import TASK_OPTIONS, FlowServices
from campaigns.christmas_campaign.variables import variables_for
from campaigns.models import Segment, Signup
from campaigns.rendering import RenderedEmail


@dataclass(frozen=True)
class RenderedStep:
    email_number: int
    template_id: str
    email: RenderedEmail


@task(name="render-email", **TASK_OPTIONS)
def render_email(
    services: FlowServices, template_id: str, signup: Signup, segment: Segment, now: datetime
) -> RenderedEmail:
    """Fetch the Active template and render it; any template problem fails the task."""
    template = services.crm.get_template(template_id)
    return render_template(template, variables_for(services.settings, signup, segment, now))


@task(name="render-sequence", **TASK_OPTIONS)
def render_sequence(
    services: FlowServices, schedule: list[ScheduledEmail], signup: Signup, segment: Segment
) -> list[RenderedStep]:
    """Render every step now, each as of its due time, so a broken template fails at signup."""
    templates = services.crm.get_templates([step.template_id for step in schedule])
    return [
        RenderedStep(
            step.email_number,
            step.template_id,
            render_template(
                templates[step.template_id],
                variables_for(services.settings, signup, segment, step.due_at),
            ),
        )
        for step in schedule
    ]
