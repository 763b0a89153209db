"""One declaration per Notion table: reads, writes, filters and schema all derive from it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from campaigns.models import (
    Contact,
    EmailTemplate,
    Segment,
    SendRecord,
    SendStatus,
    SequenceStatus,
    TemplateSegment,
    TemplateStatus,
)
from campaigns.notion_schema import schema_differences
from campaigns.notion_tables import CONTACTS, SENDS, TABLES, TEMPLATES, Column, Table

WHEN = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def _page(table: Table[Any], **values: Any) -> dict[str, Any]:
    """A page as Notion returns it (each property names its type), built from the table's own
    encoding of `values`."""
    written = table.properties(**values)
    return {
        "id": "page-1",
        "properties": {name: {"type": next(iter(v)), **v} for name, v in written.items()},
    }


@pytest.mark.parametrize(
    ("table", "model"),
    [(CONTACTS, Contact), (TEMPLATES, EmailTemplate), (SENDS, SendRecord)],
    ids=lambda value: getattr(value, "key", None),
)
def test_every_model_field_has_one_column(table: Table[Any], model: type) -> None:
    """Each field of the model (but the page id) is one column, and no name is used twice."""
    fields = {column.field for column in table} & set(model.model_fields)
    assert fields == set(model.model_fields) - {"page_id"}
    assert len({column.name for column in table}) == len(table.columns)


@pytest.mark.parametrize(
    ("table", "values"),
    [
        (
            CONTACTS,
            {
                "first_name": "Ava",
                "email": "ava@example.com",
                "business_name": "Northlight Studio",
                "segment": Segment.CRITICAL,
                "assessment_score": 42,
                "red_systems": 3,
                "orange_systems": 2,
                "yellow_systems": 2,
                "green_systems": 1,
                "sequence_status": SequenceStatus.ACTIVE,
                "enrolled_at": WHEN,
                "last_email_sent": 2,
                "last_email_sent_at": WHEN,
                "time_zone": "Europe/Berlin",
            },
        ),
        (
            TEMPLATES,
            {
                "template_id": "christmas_email_1",
                "subject": "Hello {{first_name}}",
                "preview_text": "",
                "body_html": "<p>" + "é" * 4500 + "</p>",
                "email_number": 1,
                "segment": TemplateSegment.ALL,
                "status": TemplateStatus.ACTIVE,
            },
        ),
        (
            SENDS,
            {
                "email": "ava@example.com",
                "contact_id": "contact-page",
                "email_number": 3,
                "template_id": "christmas_email_3_critical",
                "status": SendStatus.SENT,
                "scheduled_for": WHEN,
                "sent_at": WHEN,
                "resend_email_id": "re_123",
                "idempotency_key": "christmas-2026/abc/3",
                "flow_run_id": "run-1",
                "detail": "Sent.",
            },
        ),
    ],
    ids=["contacts", "templates", "sends"],
)
def test_a_model_written_and_read_back_is_unchanged(
    table: Table[Any], values: dict[str, Any]
) -> None:
    """Every field survives a write and a read, long text (split in items) included."""
    record = table.read(_page(table, **values))
    assert record.model_dump(exclude={"page_id"}) == values
    assert record.page_id == "page-1"


@pytest.mark.parametrize(
    ("table", "properties", "field", "expected"),
    [
        (CONTACTS, {"Segment": {"select": {"name": "VIP"}}}, "segment", None),
        (
            CONTACTS,
            {"Sequence Status": {"status": {"name": "Active"}}},
            "sequence_status",
            "Active",
        ),
        (CONTACTS, {}, "first_name", ""),
        (TEMPLATES, {}, "template_id", "(untitled)"),
        (TEMPLATES, {}, "email_number", 1),
        (TEMPLATES, {"Email Number": {"type": "number", "number": 0}}, "email_number", 1),
        (TEMPLATES, {}, "segment", TemplateSegment.ALL),
        (TEMPLATES, {"Status": {"select": {"name": "Archived"}}}, "status", TemplateStatus.DRAFT),
        (SENDS, {}, "email_number", 0),
        (SENDS, {"Contact": {"relation": []}}, "contact_id", None),
        (
            SENDS,
            {"Sent At": {"date": {"start": "2026-12-01"}}},
            "sent_at",
            datetime(2026, 12, 1, tzinfo=UTC),
        ),
    ],
    ids=[
        "unknown-select-option",
        "status-typed-property",
        "empty-title",
        "untitled-template",
        "template-number-missing",
        "template-number-zero",
        "template-segment-missing",
        "unknown-template-status",
        "send-number-missing",
        "no-relation",
        "date-only",
    ],
)
def test_a_half_filled_row_reads_with_fallbacks(
    table: Table[Any], properties: dict[str, Any], field: str, expected: object
) -> None:
    """A row a person typed by hand reads as the contract's fallback, never as an error."""
    record = table.read({"id": "p", "properties": {**_required(table), **properties}})
    assert getattr(record, field) == expected


def _required(table: Table[Any]) -> dict[str, Any]:
    """The least a row needs to be read (a template needs a subject and a body)."""
    if table is TEMPLATES:
        properties: dict[str, Any] = _page(TEMPLATES, subject="s", body_html="b")["properties"]
        return properties
    return {}


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        (CONTACTS["email"], "a@b.c", {"property": "Email", "email": {"equals": "a@b.c"}}),
        (
            CONTACTS["sequence_status"],
            SequenceStatus.ACTIVE,
            {"property": "Sequence Status", "select": {"equals": "Active"}},
        ),
        (TEMPLATES["template_id"], "t1", {"property": "Template ID", "title": {"equals": "t1"}}),
        (SENDS["email_number"], 2, {"property": "Email Number", "number": {"equals": 2}}),
        (
            SENDS["resend_email_id"],
            "re_1",
            {"property": "Resend Email ID", "rich_text": {"equals": "re_1"}},
        ),
    ],
    ids=["email", "select", "title", "number", "rich-text"],
)
def test_filters_use_the_declared_name_and_type(
    column: Column, value: object, expected: dict[str, Any]
) -> None:
    """A query filter is built from the column's name and Notion type."""
    assert column.equals(value) == expected


def test_schema_is_derived_from_the_columns() -> None:
    """The create-database configuration has every column, selects with their options."""
    config = {column.name: column.schema("contacts-ds") for column in SENDS}
    assert list(config) == [column.name for column in SENDS]
    assert config["Status"] == {"select": {"options": [{"name": s.value} for s in SendStatus]}}
    assert config["Contact"]["relation"]["data_source_id"] == "contacts-ds"
    assert list(TABLES) == ["contacts", "templates", "sends"]


def test_schema_differences_name_a_missing_renamed_and_mistyped_property() -> None:
    """A database with a renamed and a mistyped property gets one difference for each."""
    properties = {column.name: {"type": column.kind} for column in CONTACTS}
    properties["E-mail"] = properties.pop("Email")
    properties["Enrolled At"] = {"type": "rich_text"}
    found = schema_differences(CONTACTS, {"properties": properties})
    assert [(d.name, d.actual, d.similar, d.similar_kind) for d in found] == [
        ("Email", None, "E-mail", "email"),
        ("Enrolled At", "rich_text", None, None),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("X", "checkbox", "x"), "unknown Notion type"),
        (("X", "select", "x"), "a select, and only a select"),
        (("X", "number", "x", SendStatus), "a select, and only a select"),
    ],
    ids=["unknown-type", "select-without-choices", "choices-on-a-number"],
)
def test_a_wrong_declaration_is_refused(args: tuple[Any, ...], message: str) -> None:
    """A column of an unknown type, or choices on a non-select, fails at import time."""
    with pytest.raises(ValueError, match=message):
        Column(*args)


def test_an_unknown_field_is_named() -> None:
    """Writing a field the table does not hold names the table and the field."""
    with pytest.raises(KeyError, match="Contacts has no column for nickname"):
        CONTACTS.properties(nickname="Ava")
