"""The outbox page the Resend stand-in serves at `/outbox/`: every email it accepted, rendered
as the recipient sees it (the demo's window onto its emails).

Pure functions from the stand-in's outbox records to a page, and `outbox_reply`, which answers
the page's paths. Every value taken from an email is escaped; an email's own HTML goes into an
iframe's `srcdoc` attribute (attribute-escaped) inside `sandbox`, so it renders as in a mail
client but can run nothing and reach nothing. A Content-Security-Policy that allows nothing from
outside keeps the page, and every email in it, free of external resources.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from html import escape
from typing import Any

from campaigns.standins._wire import Reply

PATH = "/outbox/"
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "script-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'"
)
EMAIL_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"

STYLE = """
body{margin:0;font:15px/1.5 system-ui,Arial,sans-serif;background:#eef0f2;color:#1d2329}
header{background:#1f4d3a;color:#fff;padding:18px 28px}
header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;opacity:.85}
main{max-width:1100px;margin:0 auto;padding:20px}
table.summary{border-collapse:collapse;background:#fff;width:100%;margin-bottom:24px}
table.summary th,table.summary td{padding:6px 10px;border-bottom:1px solid #dde1e5}
table.summary th{text-align:left}
section.contact h2{font-size:18px;margin:28px 0 10px}
article.email{background:#fff;border:1px solid #d5dade;border-radius:8px;margin:0 0 22px}
article.email{overflow:hidden}
.meta{padding:12px 16px;border-bottom:1px solid #e4e7ea;background:#f8f9fa}
.badge{display:inline-block;background:#1f4d3a;color:#fff;border-radius:4px;padding:0 8px}
.badge{margin-right:8px;font-size:13px}
.subject{font-weight:600;font-size:16px;margin-top:6px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:8px 0 0}
dl{font-size:13px;color:#4a535b}
dt{font-weight:600}
dd{margin:0;word-break:break-all}
iframe{display:block;width:100%;height:560px;border:0;background:#fff}
details{padding:8px 16px;border-top:1px solid #e4e7ea}
pre{white-space:pre-wrap;font-size:13px;background:#f8f9fa;padding:10px;border-radius:4px}
p.empty{background:#fff;padding:24px;border-radius:8px}
p.open{padding:0 16px 12px;margin:0;font-size:13px}
"""
REFRESH = (
    "\n<script>\n(function(){var n=%d;setInterval(function(){"
    f"fetch('{PATH}count')"
    ".then(function(r){return r.json()})\n"
    ".then(function(j){if(j.count!==n){location.reload()}}).catch(function(){})},3000)})();\n"
    "</script>\n"
)


def tag(email: dict[str, Any], name: str) -> str:
    """A Resend tag's value (tags are a list of `{name, value}` on the wire)."""
    for item in email.get("tags") or []:
        if isinstance(item, dict) and item.get("name") == name:
            return str(item.get("value", ""))
    return ""


def recipient(email: dict[str, Any]) -> str:
    to = email.get("to") or []
    return str(to[0]) if isinstance(to, list) and to else str(to)


def by_recipient(emails: list[dict[str, Any]]) -> OrderedDict[str, list[dict[str, Any]]]:
    """Emails grouped by recipient (in order of each one's first email), oldest first."""
    groups: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
    for email in sorted(emails, key=lambda e: str(e.get("received_at", ""))):
        groups.setdefault(recipient(email), []).append(email)
    return groups


def render_page(emails: list[dict[str, Any]], *, live: bool = False) -> str:
    groups = by_recipient(emails)
    sections = "\n".join(
        _section(index, to, group) for index, (to, group) in enumerate(groups.items())
    )
    body = sections or '<p class="empty">No email has been sent yet.</p>'
    refresh = REFRESH % len(emails) if live else ""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>Outbox: {len(emails)} emails</title>\n<style>{STYLE}</style>\n</head>\n"
        f'<body data-email-count="{len(emails)}">\n<header><h1>Outbox</h1>'
        f"<p>{len(emails)} emails to {len(groups)} recipients, as the local Resend stand-in "
        "accepted them. Nothing here was delivered.</p></header>\n<main>\n"
        f"{_summary(groups)}\n{body}\n</main>\n{refresh}</body>\n</html>\n"
    )


def _summary(groups: OrderedDict[str, list[dict[str, Any]]]) -> str:
    if not groups:
        return ""
    rows = "".join(
        f'<tr><td><a href="#contact-{index}">{escape(to)}</a></td>'
        f"<td>{escape(tag(group[0], 'segment') or '-')}</td><td>{len(group)}</td>"
        f"<td>{escape(str(group[-1].get('received_at', '')))}</td></tr>"
        for index, (to, group) in enumerate(groups.items())
    )
    return (
        '<table class="summary"><thead><tr><th>Recipient</th><th>Segment</th><th>Emails</th>'
        f"<th>Last received (UTC)</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _section(index: int, to: str, group: list[dict[str, Any]]) -> str:
    articles = "\n".join(_article(email) for email in group)
    return (
        f'<section class="contact" id="contact-{index}"><h2>{escape(to)}</h2>\n'
        f"{articles}\n</section>"
    )


def _article(email: dict[str, Any]) -> str:
    number = tag(email, "email_number") or "?"
    segment = tag(email, "segment") or "-"
    template = tag(email, "template") or "-"
    email_id = str(email.get("id", ""))
    headers = email.get("headers") or {}
    header_rows = "".join(
        f"<dt>{escape(str(k))}</dt><dd>{escape(str(v))}</dd>" for k, v in headers.items()
    )
    fields = [
        ("From", email.get("from", "")),
        ("To", ", ".join(email.get("to") or [])),
        ("Reply-To", _joined(email.get("reply_to"))),
        ("Received (UTC)", email.get("received_at", "")),
        ("Resend id", email_id),
    ]
    meta = "".join(f"<dt>{name}</dt><dd>{escape(str(value))}</dd>" for name, value in fields)
    return (
        f'<article class="email" data-email-number="{escape(number)}" '
        f'data-segment="{escape(segment)}" data-to="{escape(recipient(email))}">\n'
        f'<div class="meta"><span class="badge">Email {escape(number)} of 7</span>'
        f'<span class="badge">{escape(segment)}</span><span class="badge">{escape(template)}</span>'
        f'<div class="subject">{escape(str(email.get("subject", "")))}</div><dl>{meta}</dl></div>\n'
        f'<iframe sandbox title="{escape(str(email.get("subject", "")))}" loading="lazy" '
        f'srcdoc="{escape(str(email.get("html") or ""), quote=True)}"></iframe>\n'
        f"<details><summary>Plain-text part</summary><pre>{escape(str(email.get('text') or ''))}"
        "</pre></details>\n"
        f"<details><summary>Headers</summary><dl>{header_rows}</dl></details>\n"
        f'<p class="open"><a href="{PATH}emails/{escape(email_id)}" target="_blank">'
        "Open this email alone</a></p>\n"
        "</article>"
    )


def _joined(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def outbox_reply(path: str, emails: list[dict[str, Any]]) -> Reply | None:
    """The answer to a GET of `path` under `PATH`; None when `path` is not the outbox's."""
    if not (path + "/").startswith(PATH):
        return None
    rest = path.removeprefix(PATH.rstrip("/")).strip("/")
    if rest == "":
        return _reply(200, "text/html; charset=utf-8", render_page(emails, live=True), CSP)
    if rest == "count":
        return _reply(200, "application/json", json.dumps({"count": len(emails)}), CSP)
    if rest == "emails.json":
        keys = ("id", "to", "subject", "received_at", "tags")
        summary = [{key: email.get(key) for key in keys} for email in emails]
        return _reply(200, "application/json", json.dumps(summary), CSP)
    wanted = rest.removeprefix("emails/")
    match = next((e for e in emails if e.get("id") == wanted), None) if wanted != rest else None
    if match is None:
        return _reply(404, "text/plain; charset=utf-8", "No such email.\n", CSP)
    return _reply(200, "text/html; charset=utf-8", str(match.get("html", "")), EMAIL_CSP)


def _reply(status: int, content_type: str, body: str, csp: str) -> Reply:
    headers = {
        "Content-Security-Policy": csp,
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    return Reply(status, body, headers, content_type=content_type)
