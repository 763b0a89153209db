"""`campaign report`: how the campaign is doing, per email and per segment, from Notion.

Two paginated queries (the Contacts and the send log, 100 rows per request), whatever the size
of the campaign; the counting is `christmas_campaign.report`. `--json` prints the same figures
for machines; `--html FILE` writes a self-contained page (no external resource) with the tables
and an SVG funnel per segment.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.table import Table

from campaigns.christmas_campaign.report import (
    METRICS,
    RATES,
    CampaignReport,
    Counts,
    build_report,
    percent,
)
from campaigns.cli.output import handled, out
from campaigns.models import Segment
from campaigns.settings import load_settings

if TYPE_CHECKING:
    from campaigns.notion_crm import NotionCRM

# The stages of the funnel drawn per segment, and their colours.
FUNNEL = (
    ("sent", "#1f4d3a"),
    ("delivered", "#2e7d5b"),
    ("opened", "#4fa37c"),
    ("clicked", "#86c5a4"),
    ("converted", "#c0392b"),
)


def read_report(crm: NotionCRM | None = None) -> tuple[CampaignReport, int]:
    """The report of the campaign in Notion (the settings' unless `crm` is given), and how many
    Notion requests it took."""
    from campaigns.notion_crm import NotionCRM

    crm = crm or NotionCRM.from_settings(load_settings())
    before = crm.api.request_count
    report = build_report(crm.all_contacts(), crm.all_sends())
    return report, crm.api.request_count - before


def counts_table(title: str, rows: list[tuple[str, Counts]]) -> Table:
    table = Table(title=title, box=box.SIMPLE, collapse_padding=True, pad_edge=False)
    table.add_column("")
    for metric in METRICS:
        table.add_column(metric.capitalize(), justify="right")
    for label, counts in rows:
        table.add_row(label, *(str(counts[metric]) for metric in METRICS))
    return table


def rates_table(rows: list[tuple[str, Counts]], report: CampaignReport) -> Table:
    table = Table(title="Rates", box=box.SIMPLE, collapse_padding=True, pad_edge=False)
    table.add_column("")
    for name, _, _ in RATES:
        table.add_column(name.capitalize(), justify="right")
    table.add_column("Booked calls", justify="right")
    by_label = {segment.value: conversion for segment, conversion in report.conversion.items()}
    for label, counts in rows:
        conversion = by_label.get(label)
        booked = conversion.text() if conversion is not None else "-"
        table.add_row(label, *(percent(rate) for rate in counts.rates().values()), booked)
    return table


def step_rows(report: CampaignReport) -> list[tuple[str, Counts]]:
    return [
        *((f"Email {n}", c) for n, c in sorted(report.by_step.items())),
        ("Total", report.total),
    ]


def segment_rows(report: CampaignReport) -> list[tuple[str, Counts]]:
    return [(segment.value, counts) for segment, counts in report.by_segment.items()]


def funnel_svg(segment: Segment, counts: Counts, converted: int) -> str:
    """One segment's funnel as an inline SVG: a bar per stage, widths relative to Sent."""
    width, bar, gap, label = 560, 26, 8, 110
    top = max(counts["sent"], 1)
    values = {**{stage: counts[stage] for stage, _ in FUNNEL}, "converted": converted}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="funnel" data-segment="{segment.value}" '
        f'width="{width}" height="{len(FUNNEL) * (bar + gap)}" role="img" '
        f'aria-label="Funnel of the {segment.value} segment">'
    ]
    for index, (stage, colour) in enumerate(FUNNEL):
        y = index * (bar + gap)
        length = (width - label - 60) * values[stage] / top
        parts.append(
            f'<text x="0" y="{y + bar * 0.7:.0f}" font-size="13">{stage.capitalize()}</text>'
            f'<rect class="bar" data-stage="{stage}" data-value="{values[stage]}" x="{label}" '
            f'y="{y}" width="{length:.1f}" height="{bar}" fill="{colour}"/>'
            f'<text x="{label + length + 6:.1f}" y="{y + bar * 0.7:.0f}" font-size="13">'
            f"{values[stage]}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def html_page(report: CampaignReport) -> str:
    """A self-contained page: the two tables, the rates and a funnel per segment."""

    def table(title: str, rows: list[tuple[str, Counts]]) -> str:
        head = "".join(f"<th>{escape(m.capitalize())}</th>" for m in METRICS)
        body = "".join(
            f"<tr><th>{escape(label)}</th>"
            + "".join(f"<td>{counts[m]}</td>" for m in METRICS)
            + "</tr>"
            for label, counts in rows
        )
        return f"<h2>{escape(title)}</h2><table><tr><th></th>{head}</tr>{body}</table>"

    funnels = "".join(
        f"<section><h3>{segment.value}</h3>"
        f"{funnel_svg(segment, counts, report.conversion[segment].converted)}</section>"
        for segment, counts in report.by_segment.items()
    )
    style = (
        "body{font:14px/1.5 system-ui,Arial,sans-serif;margin:24px;color:#1d2329}"
        "table{border-collapse:collapse;margin-bottom:20px}"
        "th,td{border-bottom:1px solid #dde1e5;padding:4px 8px;text-align:right}"
        "tr th:first-child{text-align:left}"
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Christmas campaign report</title>"
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">"
        f"<style>{style}</style></head><body>"
        f"<h1>Christmas campaign report</h1><p>{report.contacts} contacts, "
        f"{report.rows} send-log rows.</p>"
        + table("By email", step_rows(report))
        + table("By segment", segment_rows(report))
        + f"<h2>Funnels</h2>{funnels}</body></html>\n"
    )


@handled
def report(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the figures as JSON, for machines.")
    ] = False,
    html: Annotated[
        Path | None, typer.Option(help="Also write a self-contained HTML page with funnels.")
    ] = None,
) -> None:
    """Per email and per segment: scheduled, sent, delivered, opened, ... and booked calls."""
    figures, requests = read_report()
    if html is not None:
        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(html_page(figures), encoding="utf-8")
    if as_json:
        typer.echo(json.dumps({**figures.as_json(), "notion_requests": requests}, indent=2))
        return
    print_report(figures, requests)
    if html is not None:
        out.print(f"HTML report: {html.resolve().as_uri()}", markup=False)


def print_report(figures: CampaignReport, requests: int) -> None:
    """The report's tables in the terminal (`campaign report`, and the end of the demo)."""
    out.print(counts_table("By email", step_rows(figures)))
    out.print(counts_table("By segment", segment_rows(figures)))
    out.print(rates_table([*segment_rows(figures), ("Total", figures.total)], figures))
    out.print(
        f"Read {figures.contacts} contacts and {figures.rows} send-log rows in {requests} "
        "Notion requests.",
        markup=False,
    )
