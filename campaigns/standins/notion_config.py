"""Data source schemas in the Notion stand-in: property configurations, as create and PATCH use.

A schema is stored exactly as `GET /v1/data_sources/{id}` returns it, keyed by property name, and
page values are stored by property id, so a renamed column keeps its values, as in Notion.
"""

from __future__ import annotations

import copy
import secrets
import string
from collections.abc import Callable
from typing import Any

from campaigns.standins.notion_values import new_option, shown, validation

TYPES = {
    "title",
    "rich_text",
    "number",
    "select",
    "multi_select",
    "status",
    "date",
    "people",
    "files",
    "checkbox",
    "url",
    "email",
    "phone_number",
    "formula",
    "relation",
    "rollup",
    "created_time",
    "created_by",
    "last_edited_time",
    "last_edited_by",
    "unique_id",
}
# What Notion gives a new status property; options cannot be created through the API.
STATUS_DEFAULT = [("Not started", "default"), ("In progress", "blue"), ("Done", "green")]
_ID_ALPHABET = string.ascii_letters + string.digits

ResolveDataSource = Callable[[Any, str], str]  # (raw id, path) -> database id of that source


def _new_id(taken: set[str]) -> str:
    while True:
        candidate = "".join(secrets.choice(_ID_ALPHABET) for _ in range(4))
        if candidate not in taken and candidate != "title":
            return candidate


def _options(raw: Any, path: str, keep: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Options from a request, keeping the ids of options that already exist by name."""
    if not isinstance(raw, list):
        raise validation(f"{path} should be an array, instead was {shown(raw)}.")
    existing = {option["name"]: option for option in keep}
    out = []
    for i, item in enumerate(raw):
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str) or not name or "," in name:
            raise validation(f"{path}[{i}].name should be a non-empty string without commas.")
        known = existing.get(name)
        out.append(dict(known) if known else new_option(name, i, item.get("color")))
    return out


def _type_config(
    kind: str, raw: Any, path: str, resolve: ResolveDataSource, old: dict[str, Any]
) -> dict[str, Any]:
    """The stored configuration of one property of type `kind`."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise validation(f"{path} should be an object, instead was {shown(raw)}.")
    if kind in ("select", "multi_select"):
        return {
            "options": _options(raw.get("options", []), f"{path}.options", old.get("options", []))
        }
    if kind == "status":
        if old.get("options"):
            return copy.deepcopy(old)
        return {"options": [new_option(n, 0, c) for n, c in STATUS_DEFAULT], "groups": []}
    if kind == "number":
        return {"format": str(raw.get("format", "number"))}
    if kind == "relation":
        source = raw.get("data_source_id")
        database_id = resolve(source, f"{path}.data_source_id")
        mode = "dual_property" if "dual_property" in raw else "single_property"
        return {
            "data_source_id": str(source),
            "database_id": database_id,
            "type": mode,
            mode: dict(raw.get(mode) or {}),
        }
    return copy.deepcopy(raw)


def _property(
    name: str, raw: Any, path: str, prop_id: str, resolve: ResolveDataSource, old: dict[str, Any]
) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise validation(f"{path} should be an object, instead was {shown(raw)}.")
    kinds = [key for key in raw if key in TYPES]
    if len(kinds) != 1:
        raise validation(f"{path} should name exactly one property type, instead was {shown(raw)}.")
    kind = kinds[0]
    config = _type_config(kind, raw[kind], f"{path}.{kind}", resolve, old.get(kind, {}))
    return {"id": prop_id, "name": name, "type": kind, kind: config}


def build_schema(raw: Any, path: str, resolve: ResolveDataSource) -> dict[str, dict[str, Any]]:
    """The schema of a new data source; Notion requires exactly one title property."""
    if not isinstance(raw, dict) or not raw:
        raise validation(f"{path} should be a non-empty object.")
    schema: dict[str, dict[str, Any]] = {}
    taken: set[str] = set()
    for name, config in raw.items():
        prop = _property(name, config, f"{path}.{name}", "", resolve, {})
        prop["id"] = "title" if prop["type"] == "title" else _new_id(taken)
        taken.add(prop["id"])
        schema[name] = prop
    titles = [p for p in schema.values() if p["type"] == "title"]
    if len(titles) != 1:
        raise validation(f"{path} should have exactly one title property, has {len(titles)}.")
    return schema


def find_property(schema: dict[str, dict[str, Any]], key: str) -> dict[str, Any] | None:
    """A property by name or by id, as Notion accepts either."""
    if key in schema:
        return schema[key]
    return next((prop for prop in schema.values() if prop["id"] == key), None)


def update_schema(
    schema: dict[str, dict[str, Any]], changes: Any, path: str, resolve: ResolveDataSource
) -> dict[str, dict[str, Any]]:
    """A new schema after a data-source PATCH: rename, retype, add, or delete (null)."""
    if not isinstance(changes, dict):
        raise validation(f"{path} should be an object, instead was {shown(changes)}.")
    result = copy.deepcopy(schema)
    for key, change in changes.items():
        where = f"{path}.{key}"
        current = find_property(result, key)
        if change is None:
            if current is None:
                raise validation(f"{key} is not a property that exists.")
            if current["type"] == "title":
                raise validation(f"{where}: the title property cannot be deleted.")
            del result[current["name"]]
            continue
        if current is None:
            taken = {p["id"] for p in result.values()}
            result[key] = _property(str(key), change, where, _new_id(taken), resolve, {})
            continue
        _change(result, current, change, where, resolve)
    return result


def _change(
    schema: dict[str, dict[str, Any]],
    current: dict[str, Any],
    change: Any,
    where: str,
    resolve: ResolveDataSource,
) -> None:
    if not isinstance(change, dict):
        raise validation(f"{where} should be an object or `null`, instead was {shown(change)}.")
    name = current["name"]
    if any(key in TYPES for key in change):
        old = current if any(key == current["type"] for key in change) else {}
        kinds = {key: value for key, value in change.items() if key in TYPES}
        updated = _property(name, kinds, where, current["id"], resolve, old)
        if current["type"] == "title" and updated["type"] != "title":
            raise validation(f"{where}: the title property cannot change type.")
        current.clear()
        current.update(updated)
    new_name = change.get("name")
    if new_name is not None and new_name != name:
        if not isinstance(new_name, str) or not new_name or new_name in schema:
            raise validation(f"{where}.name {shown(new_name)} is empty or already used.")
        # Rebuild the dict so the renamed property keeps its position in the schema.
        items = [(new_name if k == name else k, v) for k, v in schema.items()]
        schema.clear()
        schema.update(items)
        current["name"] = new_name
