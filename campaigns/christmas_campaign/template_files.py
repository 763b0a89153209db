"""The campaign's own templates, kept as files in the repository (the source of truth for seeding).

`templates.toml` holds each template's metadata; each body is placed into `_layout.html`, whose
footer carries the unsubscribe link and postal address, so every stored body is complete.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from campaigns.christmas_campaign.emails import check_template
from campaigns.christmas_campaign.sequence import all_template_ids
from campaigns.errors import TemplateContentError
from campaigns.models import EmailTemplate, TemplateSegment, TemplateStatus

CONTENT_MARKER = "<!-- CONTENT -->"


def default_folder() -> Path:
    return Path(str(resources.files("campaigns.christmas_campaign") / "email_templates"))


def load_templates(folder: Path | None = None) -> list[EmailTemplate]:
    """Every template of the campaign, composed and checked, in step order."""
    folder = folder or default_folder()
    manifest = tomllib.loads((folder / "templates.toml").read_text(encoding="utf-8"))
    layout = (folder / "_layout.html").read_text(encoding="utf-8")
    if layout.count(CONTENT_MARKER) != 1:
        raise TemplateContentError(f"_layout.html must contain {CONTENT_MARKER} exactly once.")
    missing = [tid for tid in all_template_ids() if tid not in manifest]
    if missing:
        raise TemplateContentError(f"templates.toml lacks template(s): {', '.join(missing)}.")
    templates = []
    for template_id in all_template_ids():
        entry = manifest[template_id]
        body = (folder / entry["body"]).read_text(encoding="utf-8").strip()
        template = EmailTemplate(
            template_id=template_id,
            subject=entry["subject"],
            preview_text=entry.get("preview_text", ""),
            body_html=layout.replace(CONTENT_MARKER, body),
            email_number=int(entry["email_number"]),
            segment=TemplateSegment(entry["segment"]),
            status=TemplateStatus.ACTIVE,
        )
        check_template(template)
        templates.append(template)
    return templates
