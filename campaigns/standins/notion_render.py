"""The objects the Notion stand-in returns (databases, data sources, pages), shaped as in Notion.

Stored records keep only what the stand-in needs; everything a real response also carries (the
bot user, icons, URLs, `archived` mirroring `in_trash`) is added here, on the way out.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from campaigns.standins.notion_values import empty_value

BOT_USER = {"object": "user", "id": "5a0d1e5c-0000-4000-8000-00000000b07e"}
Obj = dict[str, Any]


def notion_url(object_id: str, title: str = "") -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-")
    hex_id = object_id.replace("-", "")
    return f"https://www.notion.so/{slug}-{hex_id}" if slug else f"https://www.notion.so/{hex_id}"


def _plain(rich: list[Obj]) -> str:
    return "".join(item["plain_text"] for item in rich)


def database_object(db: Obj, sources: list[Obj]) -> Obj:
    return {
        "object": "database",
        "id": db["id"],
        "title": copy.deepcopy(db["title"]),
        "description": [],
        "parent": dict(db["parent"]),
        "is_inline": False,
        "in_trash": db["in_trash"],
        "archived": db["in_trash"],
        "is_locked": False,
        "created_time": db["created_time"],
        "last_edited_time": db["last_edited_time"],
        "created_by": dict(BOT_USER),
        "last_edited_by": dict(BOT_USER),
        "data_sources": [{"id": s["id"], "name": _plain(s["title"])} for s in sources],
        "icon": None,
        "cover": None,
        "url": notion_url(db["id"], _plain(db["title"])),
        "public_url": None,
    }


def data_source_object(source: Obj, db: Obj) -> Obj:
    return {
        "object": "data_source",
        "id": source["id"],
        "created_time": source["created_time"],
        "last_edited_time": source["last_edited_time"],
        "created_by": dict(BOT_USER),
        "last_edited_by": dict(BOT_USER),
        "title": copy.deepcopy(source["title"]),
        "description": [],
        "properties": copy.deepcopy(source["properties"]),
        "parent": {"type": "database_id", "database_id": source["database_id"]},
        "database_parent": dict(db["parent"]),
        "in_trash": source["in_trash"],
        "archived": source["in_trash"],
        "icon": None,
        "cover": None,
        "url": notion_url(source["id"]),
        "public_url": None,
    }


def page_object(page: Obj, source: Obj, only: set[str] | None = None) -> Obj:
    """The page as Notion returns it; every schema property appears, unset ones empty."""
    props: Obj = {}
    title = ""
    for name, prop in source["properties"].items():
        value = _value(page, prop)
        if prop["type"] == "title":
            title = _plain(value)
        if only is None or name in only or prop["id"] in only:
            props[name] = {"id": prop["id"], "type": prop["type"], prop["type"]: value}
            if prop["type"] == "relation":
                props[name]["has_more"] = False
    return {
        "object": "page",
        "id": page["id"],
        "created_time": page["created_time"],
        "last_edited_time": page["last_edited_time"],
        "created_by": dict(BOT_USER),
        "last_edited_by": dict(BOT_USER),
        "cover": None,
        "icon": None,
        "parent": {
            "type": "data_source_id",
            "data_source_id": source["id"],
            "database_id": source["database_id"],
        },
        "archived": page["in_trash"],
        "in_trash": page["in_trash"],
        "is_locked": False,
        "properties": props,
        "url": notion_url(page["id"], title),
        "public_url": None,
    }


def _value(page: Obj, prop: Obj) -> Any:
    kind = prop["type"]
    if kind in ("created_time", "last_edited_time"):
        return page[kind]
    if kind in ("created_by", "last_edited_by"):
        return dict(BOT_USER)
    return copy.deepcopy(page["properties"].get(prop["id"], empty_value(kind)))
