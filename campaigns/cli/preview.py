"""`campaign preview`: one email of the sequence rendered exactly as the send flow renders it.

The template comes from Notion (as at send time) or, with `--source files`, from the repository;
the variables come from `variables_for`, the very function the flow uses, so the subject, the
HTML and the text part are what the contact would receive. The HTML is written to a file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from campaigns.christmas_campaign.emails import render_template
from campaigns.christmas_campaign.samples import SAMPLE_SIGNUPS
from campaigns.christmas_campaign.sequence import CAMPAIGN, classify_segment, template_id_for
from campaigns.christmas_campaign.template_files import load_templates
from campaigns.christmas_campaign.variables import unsubscribe_link, variables_for
from campaigns.cli.demo.sandbox import DEFAULT_STATE_DIR
from campaigns.cli.output import handled, out
from campaigns.cli.simulate import parse_start
from campaigns.errors import InputError, TemplateNotFound
from campaigns.mailer import OutgoingEmail, ResendMailer
from campaigns.models import EmailTemplate, Segment, Signup
from campaigns.notion_crm import NotionCRM
from campaigns.rendering import RenderedEmail
from campaigns.settings import EmailContent, Settings, load_settings


class TemplateStore(StrEnum):
    """Where `campaign preview` reads a template: the Notion database or the repository's files."""

    NOTION = "notion"
    FILES = "files"


@dataclass(frozen=True)
class Preview:
    template_id: str
    signup: Signup
    segment: Segment
    email: RenderedEmail
    headers: dict[str, str]
    html_path: Path
    warning: str


def load_contact(path: Path | None, segment: Segment) -> Signup:
    """The contact from a JSON file of signup fields, or the sample contact of the segment."""
    if path is None:
        return SAMPLE_SIGNUPS[segment]
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"Cannot read --contact-json {path}: {exc.strerror}.") from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"--contact-json {path} is not valid JSON ({exc.msg}, line {exc.lineno})."
        ) from None
    try:
        return Signup.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'contact'}: {e['msg']}" for e in exc.errors()
        )
        raise InputError(f"--contact-json {path} is not a valid signup: {problems}.") from None


def find_template(settings: Settings, source: TemplateStore, template_id: str) -> EmailTemplate:
    if source is TemplateStore.NOTION:
        return NotionCRM.from_settings(settings).get_template(template_id)
    for template in load_templates():
        if template.template_id == template_id:
            return template
    raise TemplateNotFound(f"Template {template_id} is not among the repository's templates.")


def render_preview(
    settings: Settings,
    *,
    email_number: int,
    segment: Segment,
    signup: Signup,
    source: TemplateStore,
    at: datetime,
    out_dir: Path,
) -> Preview:
    """Render, write the HTML file, and return what was rendered."""
    settings.require(EmailContent)
    template_id = template_id_for(email_number, segment)
    template = find_template(settings, source, template_id)
    rendered = render_template(template, variables_for(settings, signup, segment, at))
    own = classify_segment(signup.red_systems, signup.orange_systems)
    warning = (
        f"This contact's colours put it in {own.value}, not {segment.value}; the orchestrator "
        f"would send it {template_id_for(email_number, own)}."
        if own != segment
        else ""
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    html_path = (out_dir / f"{template_id}-{segment.value.lower()}.html").resolve()
    html_path.write_text(rendered.html, encoding="utf-8")
    headers = _headers(settings, signup, rendered, unsubscribe_link(settings.content, signup.email))
    headers["Resend tags"] = (
        f"campaign={CAMPAIGN} email_number={email_number} segment={segment.value} "
        f"template={template_id}"
    )
    return Preview(template_id, signup, segment, rendered, headers, html_path, warning)


def _headers(
    settings: Settings, signup: Signup, rendered: RenderedEmail, unsubscribe: str
) -> dict[str, str]:
    """The envelope Resend would get: the mailer's own payload, so the headers are the real ones."""
    sender = settings.email_from or "(EMAIL_FROM is not set)"
    mailer = ResendMailer(None, settings.resend_base_url, sender, settings.email_reply_to)
    payload = mailer.payload(
        OutgoingEmail(
            to=signup.email,
            subject=rendered.subject,
            html=rendered.html,
            text=rendered.text,
            unsubscribe_url=unsubscribe,
        )
    )
    headers = {"From": str(payload["from"]), "To": ", ".join(payload["to"])}
    if payload.get("reply_to"):
        headers["Reply-To"] = str(payload["reply_to"])
    headers["Subject"] = str(payload["subject"])
    headers.update({str(k): str(v) for k, v in payload["headers"].items()})
    return headers


@handled
def preview(
    email_number: Annotated[int, typer.Option(min=1, max=7, help="Step of the sequence.")],
    segment: Annotated[Segment, typer.Option(help="Which segment's variant.")],
    contact_json: Annotated[
        Path | None, typer.Option(help="JSON of signup fields (default: the sample contact).")
    ] = None,
    source: Annotated[str, typer.Option(help="Templates from `notion` or `files`.")] = "notion",
    at: Annotated[str | None, typer.Option(help="Render as of this ISO time (UTC).")] = None,
    out_dir: Annotated[Path, typer.Option(help="Where the HTML file goes.")] = (
        DEFAULT_STATE_DIR / "previews"
    ),
    open_browser: Annotated[bool, typer.Option("--open", help="Open the HTML file.")] = False,
) -> None:
    """Render one email exactly as it would be sent: subject, headers, HTML file, text."""
    if source not in {s.value for s in TemplateStore}:
        raise InputError(f"--source must be notion or files, not {source!r}.")
    when = parse_start(at, UTC) if at else datetime.now(UTC)
    result = render_preview(
        load_settings(),
        email_number=email_number,
        segment=segment,
        signup=load_contact(contact_json, segment),
        source=TemplateStore(source),
        at=when,
        out_dir=out_dir,
    )
    if result.warning:
        out.print(f"Note: {result.warning}", markup=False)
    out.print(f"[bold]Template[/] {result.template_id} ({result.segment.value})")
    for name, value in result.headers.items():
        out.print(f"[bold]{name}:[/] {value}", highlight=False, soft_wrap=True)
    out.print(f"[bold]HTML:[/] {result.html_path.as_uri()}")
    out.rule("Text part")
    out.print(result.email.text, markup=False, highlight=False)
    if open_browser:
        import webbrowser

        webbrowser.open(result.html_path.as_uri())
