"""Creating the three Notion databases of docs/contract.md §3, and checking them.

Both read the tables' one declaration (`notion_tables`). Property names are what users see in
Notion and what every query filters on, so a renamed column is reported by name, with the type
it should have, rather than failing a send later.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from campaigns.notion_api import NotionApi
from campaigns.notion_tables import TABLES, Table


def create_databases(api: NotionApi, parent_page_id: str) -> dict[str, str]:
    """Create Contacts, Email Templates and Email Sends under a page; return their database ids."""
    ids: dict[str, str] = {}
    contacts_ds: str | None = None
    for key, table in TABLES.items():
        config = {column.name: column.schema(contacts_ds) for column in table}
        database = api.create_database(parent_page_id, table.title, config)
        ids[key] = str(database["id"])
        if key == "contacts":
            contacts_ds = str(database["data_sources"][0]["id"])
    return ids


@dataclass(frozen=True)
class Difference:
    """A property of the contract that a database lacks, or holds with another type."""

    name: str
    kind: str  # the type the contract asks for
    actual: str | None  # the type the database has (None: no such property)
    similar: str | None = None  # a property of the database whose name is close (a rename?)
    similar_kind: str | None = None


def schema_differences(table: Table[Any], source: dict[str, Any]) -> list[Difference]:
    """Where a data source (as Notion returns it) differs from `table`'s declaration."""
    actual = {name: str(prop.get("type")) for name, prop in source.get("properties", {}).items()}
    extra = [name for name in actual if name not in {column.name for column in table}]
    differences = []
    for column in table:
        if column.name not in actual:
            close = difflib.get_close_matches(column.name, extra, n=1, cutoff=0.6)
            similar = close[0] if close else None
            kind = actual[similar] if similar else None
            differences.append(Difference(column.name, column.kind, None, similar, kind))
        elif actual[column.name] != column.kind:
            differences.append(Difference(column.name, column.kind, actual[column.name]))
    return differences


def schema_problems(api: NotionApi, key: str, database_id: str) -> list[str]:
    """Every property of the contract that is missing or has another type, as a sentence."""
    table = TABLES[key]
    source = api.retrieve_data_source(api.data_source_id(database_id))
    return [
        f"{table.title}: property '{d.name}' ({d.kind}) is missing."
        if d.actual is None
        else f"{table.title}: property '{d.name}' is {d.actual}; it must be {d.kind}."
        for d in schema_differences(table, source)
    ]
