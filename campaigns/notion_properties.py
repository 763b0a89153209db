"""Encoding Python values as Notion property values, and reading them back.

Notion caps one rich-text item at 2,000 characters (counted in UTF-16 code units, as its
JavaScript backend counts) and one array at 100 items, so long text is split here and joined
again on read: a 5,000-character template body must come back byte for byte.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from campaigns.errors import NotionValidationError

TEXT_ITEM_LIMIT = 2000
ARRAY_LIMIT = 100
MAX_TEXT = TEXT_ITEM_LIMIT * ARRAY_LIMIT

Property = dict[str, Any]


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = TEXT_ITEM_LIMIT) -> list[str]:
    """Split into chunks of at most `limit` UTF-16 units, never inside a character."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for char in text:
        width = 2 if ord(char) > 0xFFFF else 1
        if size + width > limit:
            chunks.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += width
    if current:
        chunks.append("".join(current))
    return chunks


def _text_items(text: str, field: str) -> list[dict[str, Any]]:
    chunks = split_text(text)
    if len(chunks) > ARRAY_LIMIT:
        raise NotionValidationError(
            f"{field} is {utf16_len(text)} characters long and needs {len(chunks)} text items "
            f"of at most {TEXT_ITEM_LIMIT}; Notion allows {ARRAY_LIMIT} items per property."
        )
    return [{"type": "text", "text": {"content": chunk}} for chunk in chunks]


def title(text: str, field: str = "title") -> Property:
    return {"title": _text_items(text, field)}


def rich_text(text: str, field: str = "rich_text") -> Property:
    return {"rich_text": _text_items(text, field)}


def email(value: str) -> Property:
    return {"email": value}


def number(value: float | int | None) -> Property:
    return {"number": value}


def select(name: str | None) -> Property:
    return {"select": {"name": name} if name else None}


def date(value: datetime | None) -> Property:
    if value is None:
        return {"date": None}
    if value.tzinfo is None:
        raise ValueError("dates written to Notion must be timezone-aware")
    iso = value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"date": {"start": iso}}


def relation(*page_ids: str) -> Property:
    return {"relation": [{"id": page_id} for page_id in page_ids]}


# --- reading -------------------------------------------------------------------------------------


def read_text(props: Mapping[str, Any], name: str) -> str:
    """Join every item of a title or rich_text property (multi-part text comes back whole)."""
    prop = props.get(name) or {}
    items = prop.get(prop.get("type", ""), []) or []
    return "".join(_item_text(item) for item in items)


def _item_text(item: Mapping[str, Any]) -> str:
    if "plain_text" in item:
        return str(item["plain_text"])
    return str((item.get("text") or {}).get("content", ""))


def read_number(props: Mapping[str, Any], name: str) -> float | None:
    value = (props.get(name) or {}).get("number")
    return float(value) if value is not None else None


def read_int(props: Mapping[str, Any], name: str) -> int | None:
    value = read_number(props, name)
    return int(value) if value is not None else None


def read_select(props: Mapping[str, Any], name: str) -> str | None:
    prop = props.get(name) or {}
    value = prop.get("select") or prop.get("status")
    return str(value["name"]) if value else None


def read_email(props: Mapping[str, Any], name: str) -> str:
    return str((props.get(name) or {}).get("email") or "")


def read_date(props: Mapping[str, Any], name: str) -> datetime | None:
    value = (props.get(name) or {}).get("date")
    if not value or not value.get("start"):
        return None
    parsed = datetime.fromisoformat(str(value["start"]).replace("Z", "+00:00"))
    # A date-only value (no time) is read as midnight UTC so comparisons stay aware.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def read_relation(props: Mapping[str, Any], name: str) -> list[str]:
    return [str(item["id"]) for item in (props.get(name) or {}).get("relation", []) or []]
