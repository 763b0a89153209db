"""Rendering a Christmas template for one contact: the campaign's rules on top of the renderer.

Every email must carry the unsubscribe link and the postal address (CAN-SPAM, RFC 8058), so a
template body without them is refused before it can be scheduled, not discovered in an inbox.
"""

from __future__ import annotations

from functools import lru_cache

from campaigns.christmas_campaign.variables import TEMPLATE_VARIABLES
from campaigns.models import EmailTemplate
from campaigns.rendering import RenderedEmail, Renderer, TemplateSource

REQUIRED_IN_BODY = ("unsubscribe_url", "postal_address")


@lru_cache(maxsize=1)
def renderer() -> Renderer:
    return Renderer(TEMPLATE_VARIABLES, required_in_body=REQUIRED_IN_BODY)


def source_of(template: EmailTemplate) -> TemplateSource:
    return TemplateSource(
        template_id=template.template_id,
        subject=template.subject,
        body_html=template.body_html,
        preview_text=template.preview_text,
    )


def check_template(template: EmailTemplate) -> frozenset[str]:
    """Validate a template without contact data; return the variables it uses."""
    return renderer().check(source_of(template))


def render_template(template: EmailTemplate, variables: dict[str, object]) -> RenderedEmail:
    """Subject, HTML and text of this template for this contact, or a `TemplateError`."""
    return renderer().render(source_of(template), variables)
