"""The three Notion databases of docs/contract.md §3 as data: to create them and to check them.

Property names are what users see in Notion and what every query filters on, so a renamed
column is reported by name, with the type it should have, rather than failing a send later.
"""

from __future__ import annotations

from typing import Any

from campaigns.models import SendStatus, SequenceStatus, TemplateSegment, TemplateStatus
from campaigns.notion_api import NotionApi

SEGMENTS = ["CRITICAL", "URGENT", "OPTIMIZE"]

# database key -> (title shown in Notion, {property name: (type, select options)})
SCHEMA: dict[str, tuple[str, dict[str, tuple[str, list[str]]]]] = {
    "contacts": (
        "Contacts",
        {
            "Name": ("title", []),
            "Email": ("email", []),
            "Business Name": ("rich_text", []),
            "Segment": ("select", SEGMENTS),
            "Assessment Score": ("number", []),
            "Red Systems": ("number", []),
            "Orange Systems": ("number", []),
            "Yellow Systems": ("number", []),
            "Green Systems": ("number", []),
            "Sequence Status": ("select", [s.value for s in SequenceStatus]),
            "Enrolled At": ("date", []),
            "Last Email Sent": ("number", []),
            "Last Email Sent At": ("date", []),
            "Time Zone": ("rich_text", []),
        },
    ),
    "templates": (
        "Email Templates",
        {
            "Template ID": ("title", []),
            "Subject": ("rich_text", []),
            "Preview Text": ("rich_text", []),
            "Body HTML": ("rich_text", []),
            "Email Number": ("number", []),
            "Segment": ("select", [s.value for s in TemplateSegment]),
            "Status": ("select", [s.value for s in TemplateStatus]),
        },
    ),
    "sends": (
        "Email Sends",
        {
            "Name": ("title", []),
            "Email": ("email", []),
            "Contact": ("relation", []),
            "Email Number": ("number", []),
            "Template ID": ("rich_text", []),
            "Status": ("select", [s.value for s in SendStatus]),
            "Scheduled For": ("date", []),
            "Sent At": ("date", []),
            "Resend Email ID": ("rich_text", []),
            "Idempotency Key": ("rich_text", []),
            "Flow Run ID": ("rich_text", []),
            "Detail": ("rich_text", []),
        },
    ),
}


def property_config(
    kind: str, options: list[str], contacts_ds: str | None = None
) -> dict[str, Any]:
    """The schema object Notion's create-database call takes for one property."""
    if kind == "select":
        return {"select": {"options": [{"name": name} for name in options]}}
    if kind == "relation":
        if contacts_ds is None:
            raise ValueError("a relation needs the Contacts data source id")
        return {"relation": {"data_source_id": contacts_ds, "single_property": {}}}
    return {kind: {}}


def create_databases(api: NotionApi, parent_page_id: str) -> dict[str, str]:
    """Create Contacts, Email Templates and Email Sends under a page; return their database ids."""
    ids: dict[str, str] = {}
    contacts_ds: str | None = None
    for key, (title, properties) in SCHEMA.items():
        config = {
            name: property_config(kind, options, contacts_ds)
            for name, (kind, options) in properties.items()
        }
        database = api.create_database(parent_page_id, title, config)
        ids[key] = str(database["id"])
        if key == "contacts":
            contacts_ds = str(database["data_sources"][0]["id"])
    return ids


def schema_problems(api: NotionApi, key: str, database_id: str) -> list[str]:
    """Every property of the contract that is missing or has another type, as a sentence."""
    title, expected = SCHEMA[key]
    source = api.retrieve_data_source(api.data_source_id(database_id))
    actual = {name: str(prop.get("type")) for name, prop in source.get("properties", {}).items()}
    problems = []
    for name, (kind, _) in expected.items():
        if name not in actual:
            problems.append(f"{title}: property '{name}' ({kind}) is missing.")
        elif actual[name] != kind:
            problems.append(f"{title}: property '{name}' is {actual[name]}; it must be {kind}.")
    return problems
