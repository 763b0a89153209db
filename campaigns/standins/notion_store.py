"""The Notion stand-in's data: databases, their data sources and pages, and the objects it returns.

Everything is plain JSON so the whole store can be written to a state file. Writes are checked on
a copy of the schema and applied only when every property is valid, as Notion rejects a write as
a whole. Timestamps are truncated to the minute, as Notion's `created_time` and
`last_edited_time` are; sequence numbers keep the exact order for sorting.
"""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime
from typing import Any

from campaigns.standins._wire import ApiError
from campaigns.standins.notion_config import build_schema, find_property, update_schema
from campaigns.standins.notion_render import data_source_object, database_object, page_object
from campaigns.standins.notion_values import (
    convert_value,
    normalize_id,
    rich_text,
    shown,
    validation,
)

Obj = dict[str, Any]


def minute_now() -> str:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    return now.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def not_found(kind: str, object_id: str) -> ApiError:
    return ApiError(
        404,
        "object_not_found",
        f"Could not find {kind} with ID: {object_id}. "
        "Make sure the relevant pages and databases are shared with your integration.",
    )


class NotionStore:
    """Databases, data sources and pages by id; not thread-safe (the server serialises calls)."""

    def __init__(self) -> None:
        self.databases: dict[str, Obj] = {}
        self.data_sources: dict[str, Obj] = {}
        self.pages: dict[str, Obj] = {}
        self.seq = 0

    def dump(self) -> Obj:
        return copy.deepcopy(
            {
                "databases": self.databases,
                "data_sources": self.data_sources,
                "pages": self.pages,
                "seq": self.seq,
            }
        )

    def load(self, data: Obj) -> None:
        data = copy.deepcopy(data)
        self.databases = data.get("databases", {})
        self.data_sources = data.get("data_sources", {})
        self.pages = data.get("pages", {})
        self.seq = int(data.get("seq", 0))

    def _next_seq(self) -> int:
        self.seq += 1
        return self.seq

    # --- lookups -----------------------------------------------------------------------------

    def database(self, raw_id: Any, path: str = "path.database_id") -> Obj:
        return _lookup(self.databases, "database", raw_id, path)

    def data_source(self, raw_id: Any, path: str = "path.data_source_id") -> Obj:
        return _lookup(self.data_sources, "data source", raw_id, path)

    def page(self, raw_id: Any, path: str = "path.page_id") -> Obj:
        return _lookup(self.pages, "page", raw_id, path)

    def _relation_target(self, raw_id: Any, path: str) -> str:
        """The database id of a relation's target data source (which must exist)."""
        object_id = normalize_id(raw_id, path)
        source = self.data_sources.get(object_id)
        if source is None:
            raise validation(f"{path}: data source {object_id} does not exist.")
        return str(source["database_id"])

    # --- databases and data sources ----------------------------------------------------------

    def create_database(self, body: Obj) -> Obj:
        parent = body.get("parent")
        if not isinstance(parent, dict) or parent.get("type", "page_id") != "page_id":
            raise validation('body.parent should be {"type": "page_id", "page_id": ...}.')
        parent = {"type": "page_id", "page_id": normalize_id(parent.get("page_id"), "body.parent")}
        title = rich_text(body.get("title", []), "body.title")
        initial = body.get("initial_data_source") or {}
        if not isinstance(initial, dict):
            raise validation("body.initial_data_source should be an object.")
        schema = build_schema(
            initial.get("properties"), "body.initial_data_source.properties", self._relation_target
        )
        now = minute_now()
        db_id, ds_id = str(uuid.uuid4()), str(uuid.uuid4())
        common = {"created_time": now, "last_edited_time": now, "in_trash": False}
        self.databases[db_id] = {
            "id": db_id,
            "title": title,
            "parent": parent,
            "data_source_ids": [ds_id],
            **common,
        }
        self.data_sources[ds_id] = {
            "id": ds_id,
            "database_id": db_id,
            "title": copy.deepcopy(title),
            "properties": schema,
            **common,
        }
        return self.render_database(db_id)

    def render_database(self, db_id: str) -> Obj:
        db = self.databases[db_id]
        return database_object(db, [self.data_sources[ds] for ds in db["data_source_ids"]])

    def render_data_source(self, ds_id: str) -> Obj:
        source = self.data_sources[ds_id]
        return data_source_object(source, self.databases[source["database_id"]])

    def update_data_source(self, ds_id: str, body: Obj) -> Obj:
        source = self.data_source(ds_id)
        if "properties" in body:
            old = source["properties"]
            new = update_schema(old, body["properties"], "body.properties", self._relation_target)
            self._drop_retyped_values(source["id"], old, new)
            source["properties"] = new
        if "title" in body:
            source["title"] = rich_text(body["title"], "body.title")
        source["last_edited_time"] = minute_now()
        return self.render_data_source(source["id"])

    def _drop_retyped_values(self, ds_id: str, old: Obj, new: Obj) -> None:
        """A deleted or retyped property loses its values, as in Notion."""
        kept = {p["id"]: p["type"] for p in new.values()}
        gone = {p["id"] for p in old.values() if kept.get(p["id"]) != p["type"]}
        for page in self.pages.values():
            if page["data_source_id"] == ds_id:
                for prop_id in gone:
                    page["properties"].pop(prop_id, None)

    # --- pages -------------------------------------------------------------------------------

    def _parent_source(self, parent: Any) -> Obj:
        if not isinstance(parent, dict):
            raise validation("body.parent should be an object, instead was undefined.")
        if "data_source_id" in parent:
            return self.data_source(parent["data_source_id"], "body.parent.data_source_id")
        if "database_id" in parent:
            db = self.database(parent["database_id"], "body.parent.database_id")
            return self.data_sources[db["data_source_ids"][0]]
        raise validation(
            "body.parent should have a data_source_id or a database_id "
            "(the stand-in keeps pages in data sources only)."
        )

    def _converted(self, source: Obj, raw: Any) -> tuple[Obj, Obj]:
        """(new schema, {property id: stored value}) for a properties object; nothing applied."""
        if not isinstance(raw, dict):
            raise validation(f"body.properties should be an object, instead was {shown(raw)}.")
        schema = copy.deepcopy(source["properties"])  # select options may be added to it
        values: Obj = {}
        for key, value in raw.items():
            prop = find_property(schema, str(key))
            if prop is None:
                raise validation(f"{key} is not a property that exists.")
            kind, path = prop["type"], f"body.properties.{prop['name']}"
            if not isinstance(value, dict) or kind not in value:
                raise validation(f"{prop['name']} is expected to be {kind}.")
            values[prop["id"]] = convert_value(prop, value[kind], f"{path}.{kind}")
        return schema, values

    def create_page(self, body: Obj) -> Obj:
        source = self._parent_source(body.get("parent"))
        schema, values = self._converted(source, body.get("properties", {}))
        now = minute_now()
        page_id = str(uuid.uuid4())
        source["properties"] = schema
        seq = self._next_seq()
        self.pages[page_id] = {
            "id": page_id,
            "data_source_id": source["id"],
            "created_time": now,
            "last_edited_time": now,
            "seq": seq,
            "edit_seq": seq,
            "in_trash": False,
            "properties": values,
        }
        return self.render_page(page_id)

    def update_page(self, page_id: str, body: Obj) -> Obj:
        page = self.page(page_id)
        trash = body.get("in_trash", body.get("archived"))
        if trash is not None and not isinstance(trash, bool):
            raise validation(f"body.in_trash should be a boolean, instead was {shown(trash)}.")
        source = self.data_sources[page["data_source_id"]]
        if "properties" in body:
            if page["in_trash"] and trash is not False:
                raise validation(
                    "Can't edit block that is archived. "
                    "You must unarchive the block before editing."
                )
            schema, values = self._converted(source, body["properties"])
            source["properties"] = schema
            page["properties"].update(values)
        if trash is not None:
            page["in_trash"] = trash
        page["last_edited_time"] = minute_now()
        page["edit_seq"] = self._next_seq()
        return self.render_page(page_id)

    def render_page(self, page_id: str, only: set[str] | None = None) -> Obj:
        """The page object; `only` limits the properties to these names or ids."""
        page = self.pages[page_id]
        return page_object(page, self.data_sources[page["data_source_id"]], only)


def _lookup(table: dict[str, Obj], kind: str, raw_id: Any, path: str) -> Obj:
    """The object with this id, or Notion's 404 `object_not_found` naming its kind."""
    object_id = normalize_id(raw_id, path)
    found = table.get(object_id)
    if found is None:
        raise not_found(kind, object_id)
    return found
