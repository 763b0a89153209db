"""The three Notion databases of docs/contract.md §3, each declared once.

A `Table` lists its columns: the property name people see in Notion, its Notion type, and the
model field it holds. Everything else is derived from that one declaration: creating the
databases and checking them (`notion_schema`), reading a page into a model, writing a model's
fields as properties, and the filters of every query (`notion_crm`).

A select value Notion holds that the contract does not allow (an option someone typed by hand)
is read as None rather than failing the whole read: the caller decides what None means.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from campaigns import notion_properties as p
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

M = TypeVar("M", bound=BaseModel)

# The Notion property types the contract uses (each is also its key in a query filter).
KINDS = frozenset({"title", "rich_text", "email", "number", "select", "date", "relation"})


@dataclass(frozen=True)
class Column:
    """One property of a database: its name in Notion, its type, the model field it holds."""

    name: str
    kind: str  # one of KINDS
    field: str
    choices: type[StrEnum] | None = None  # a select's options

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"column {self.name}: unknown Notion type {self.kind}")
        if (self.kind == "select") != (self.choices is not None):
            raise ValueError(f"column {self.name}: a select, and only a select, has choices")

    @property
    def options(self) -> list[str]:
        return [choice.value for choice in self.choices] if self.choices else []

    def encode(self, value: Any) -> p.Property:
        """`value` as this property's Notion value (None clears it)."""
        if self.kind == "title":
            return p.title(value or "", self.name)
        if self.kind == "rich_text":
            return p.rich_text(value or "", self.name)
        if self.kind == "email":
            return p.email(value)
        if self.kind == "number":
            return p.number(value)
        if self.kind == "select":
            return p.select(value.value if isinstance(value, StrEnum) else value)
        if self.kind == "date":
            return p.date(value)
        return p.relation(*([value] if value else []))

    def decode(self, props: Mapping[str, Any]) -> Any:
        """This property's value in a page's `properties`, as the model field takes it."""
        if self.kind in ("title", "rich_text"):
            return p.read_text(props, self.name)
        if self.kind == "email":
            return p.read_email(props, self.name)
        if self.kind == "number":
            return p.read_int(props, self.name)
        if self.kind == "select":
            assert self.choices is not None
            return _choice(self.choices, p.read_select(props, self.name))
        if self.kind == "date":
            return p.read_date(props, self.name)
        ids = p.read_relation(props, self.name)
        return ids[0] if ids else None

    def equals(self, value: Any) -> dict[str, Any]:
        """A query filter: this property equals `value`."""
        if isinstance(value, StrEnum):
            value = value.value
        return {"property": self.name, self.kind: {"equals": value}}

    def schema(self, contacts_data_source: str | None = None) -> dict[str, Any]:
        """The property's configuration in Notion's create-database call."""
        if self.kind == "select":
            return {"select": {"options": [{"name": name} for name in self.options]}}
        if self.kind == "relation":
            if contacts_data_source is None:
                raise ValueError("a relation needs the Contacts data source id")
            return {"relation": {"data_source_id": contacts_data_source, "single_property": {}}}
        return {self.kind: {}}


@dataclass(frozen=True)
class Table(Generic[M]):
    """A database: its key in settings and code, its title in Notion, its columns, its model.

    `fallbacks` are the values a model field takes when its property is empty or zero (a row a
    person half filled in).
    """

    key: str
    title: str
    model: type[M]
    columns: tuple[Column, ...]
    fallbacks: Mapping[str, Any] = field(default_factory=dict)

    def __getitem__(self, model_field: str) -> Column:
        for column in self.columns:
            if column.field == model_field:
                return column
        raise KeyError(f"{self.title} has no column for {model_field}")

    def __iter__(self) -> Iterator[Column]:
        return iter(self.columns)

    def properties(self, **values: Any) -> dict[str, p.Property]:
        """The Notion properties of these model fields, by property name."""
        return {self[name].name: self[name].encode(value) for name, value in values.items()}

    def read(self, page: Mapping[str, Any]) -> M:
        """A page of this database as its model."""
        props = page.get("properties", {})
        values = {column.field: column.decode(props) for column in self.columns}
        for name, fallback in self.fallbacks.items():
            if not values.get(name):
                values[name] = fallback
        fields = self.model.model_fields
        known = {f: v for f, v in values.items() if f in fields and v is not None}
        return self.model(page_id=str(page["id"]), **known)


def _choice(choices: type[StrEnum], value: str | None) -> StrEnum | None:
    try:
        return choices(value) if value is not None else None
    except ValueError:
        return None


CONTACTS: Table[Contact] = Table(
    "contacts",
    "Contacts",
    Contact,
    (
        Column("Name", "title", "first_name"),
        Column("Email", "email", "email"),
        Column("Business Name", "rich_text", "business_name"),
        Column("Segment", "select", "segment", Segment),
        Column("Assessment Score", "number", "assessment_score"),
        Column("Red Systems", "number", "red_systems"),
        Column("Orange Systems", "number", "orange_systems"),
        Column("Yellow Systems", "number", "yellow_systems"),
        Column("Green Systems", "number", "green_systems"),
        Column("Sequence Status", "select", "sequence_status", SequenceStatus),
        Column("Enrolled At", "date", "enrolled_at"),
        Column("Last Email Sent", "number", "last_email_sent"),
        Column("Last Email Sent At", "date", "last_email_sent_at"),
        Column("Time Zone", "rich_text", "time_zone"),
    ),
)

TEMPLATES: Table[EmailTemplate] = Table(
    "templates",
    "Email Templates",
    EmailTemplate,
    (
        Column("Template ID", "title", "template_id"),
        Column("Subject", "rich_text", "subject"),
        Column("Preview Text", "rich_text", "preview_text"),
        Column("Body HTML", "rich_text", "body_html"),
        Column("Email Number", "number", "email_number"),
        Column("Segment", "select", "segment", TemplateSegment),
        Column("Status", "select", "status", TemplateStatus),
    ),
    fallbacks={"template_id": "(untitled)", "email_number": 1},
)

SENDS: Table[SendRecord] = Table(
    "sends",
    "Email Sends",
    SendRecord,
    (
        Column("Name", "title", "label"),  # "template → address", for people; no model field
        Column("Email", "email", "email"),
        Column("Contact", "relation", "contact_id"),
        Column("Email Number", "number", "email_number"),
        Column("Template ID", "rich_text", "template_id"),
        Column("Status", "select", "status", SendStatus),
        Column("Scheduled For", "date", "scheduled_for"),
        Column("Sent At", "date", "sent_at"),
        Column("Resend Email ID", "rich_text", "resend_email_id"),
        Column("Idempotency Key", "rich_text", "idempotency_key"),
        Column("Flow Run ID", "rich_text", "flow_run_id"),
        Column("Detail", "rich_text", "detail"),
    ),
    fallbacks={"email_number": 0},
)

# In the order they are created (Email Sends relates to Contacts).
TABLES: dict[str, Table[Any]] = {table.key: table for table in (CONTACTS, TEMPLATES, SENDS)}


def sent_label(template_id: str, email: str) -> str:
    """The title of a send-log row, for people reading the database."""
    return f"{template_id} → {email}"
