"""Property values written to the Notion stand-in: validated and stored the way Notion does.

Notion rejects a bad write as a whole with 400 `validation_error` and a message naming the JSON
path (`body.properties.Body HTML.rich_text[0].text.content.length should be ≤ 2000, instead
was 5867.`). The limits are Notion's documented ones; text length is counted in UTF-16 code units
because Notion's backend is JavaScript, so an emoji counts as two.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from campaigns.standins._wire import ApiError

TEXT_LIMIT = 2000
URL_LIMIT = 2000
ARRAY_LIMIT = 100
EMAIL_LIMIT = 200
OPTION_NAME_LIMIT = 100
ANNOTATIONS: dict[str, Any] = {
    "bold": False,
    "italic": False,
    "strikethrough": False,
    "underline": False,
    "code": False,
    "color": "default",
}
COLORS = ["default", "gray", "brown", "orange", "yellow", "green", "blue", "purple", "pink", "red"]
LIST_TYPES = {"title", "rich_text", "multi_select", "relation", "people", "files"}


def validation(message: str) -> ApiError:
    return ApiError(400, "validation_error", message)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def empty_value(kind: str) -> Any:
    if kind in LIST_TYPES:
        return []
    return False if kind == "checkbox" else None


def normalize_id(raw: Any, path: str) -> str:
    """Notion takes ids with or without dashes and always answers with dashes."""
    try:
        return str(uuid.UUID(str(raw).replace("-", "")))
    except ValueError:
        raise validation(f"{path} should be a valid uuid, instead was {shown(raw)}.") from None


def _check_length(length: int, limit: int, path: str) -> None:
    if length > limit:
        raise validation(f"{path}.length should be ≤ {limit}, instead was {length}.")


def _check_list(raw: Any, path: str) -> list[Any]:
    if not isinstance(raw, list):
        raise validation(f"{path} should be an array, instead was {shown(raw)}.")
    _check_length(len(raw), ARRAY_LIMIT, path)
    return raw


def rich_text(raw: Any, path: str) -> list[dict[str, Any]]:
    """Stored (response-shaped) rich text for a request's rich-text array."""
    return [_text_item(item, f"{path}[{i}]") for i, item in enumerate(_check_list(raw, path))]


def _text_item(item: Any, path: str) -> dict[str, Any]:
    if not isinstance(item, dict) or not isinstance(item.get("text"), dict):
        raise validation(f"{path}.text should be defined, instead was undefined.")
    if item.get("type", "text") != "text":
        raise validation(f"{path}.type {shown(item['type'])} is not supported by the stand-in.")
    content = item["text"].get("content")
    if not isinstance(content, str):
        raise validation(f"{path}.text.content should be a string, instead was {shown(content)}.")
    _check_length(utf16_len(content), TEXT_LIMIT, f"{path}.text.content")
    link = item["text"].get("link")
    if link is not None:
        if not isinstance(link, dict) or not isinstance(link.get("url"), str):
            raise validation(f"{path}.text.link.url should be a string.")
        _check_length(len(link["url"]), URL_LIMIT, f"{path}.text.link.url")
        link = {"url": link["url"]}
    annotations = dict(ANNOTATIONS)
    if isinstance(item.get("annotations"), dict):
        annotations.update({k: v for k, v in item["annotations"].items() if k in ANNOTATIONS})
    return {
        "type": "text",
        "text": {"content": content, "link": link},
        "annotations": annotations,
        "plain_text": content,
        "href": link["url"] if link else None,
    }


def _number(raw: Any, path: str) -> Any:
    ok = raw is None or (isinstance(raw, int | float) and not isinstance(raw, bool))
    if not ok or (isinstance(raw, float) and not math.isfinite(raw)):
        raise validation(f"{path} should be a number or `null`, instead was {shown(raw)}.")
    return raw


def _checkbox(raw: Any, path: str) -> bool:
    if not isinstance(raw, bool):
        raise validation(f"{path} should be a boolean, instead was {shown(raw)}.")
    return raw


def _string(limit: int) -> Callable[[Any, str], Any]:
    def convert(raw: Any, path: str) -> Any:
        if raw is not None and not isinstance(raw, str):
            raise validation(f"{path} should be a string or `null`, instead was {shown(raw)}.")
        if raw is not None:
            _check_length(len(raw), limit, path)
        return raw

    return convert


def _iso(raw: Any, path: str) -> str:
    """Notion answers datetimes with milliseconds and an offset, and keeps date-only values."""
    if not isinstance(raw, str):
        raise validation(f"{path} should be a string, instead was {shown(raw)}.")
    try:
        if len(raw) == 10:
            return date.fromisoformat(raw).isoformat()
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise validation(
            f"{path} should be a valid ISO 8601 date string, instead was {raw}."
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.isoformat(timespec="milliseconds")


def _date(raw: Any, path: str) -> Any:
    if raw is None:
        return None
    if not isinstance(raw, dict) or "start" not in raw:
        raise validation(f"{path}.start should be defined, instead was undefined.")
    end = raw.get("end")
    time_zone = raw.get("time_zone")
    if time_zone is not None and not isinstance(time_zone, str):
        raise validation(f"{path}.time_zone should be a string or `null`.")
    return {
        "start": _iso(raw["start"], f"{path}.start"),
        "end": None if end is None else _iso(end, f"{path}.end"),
        "time_zone": time_zone,
    }


def _relation(raw: Any, path: str) -> list[dict[str, str]]:
    items = _check_list(raw, path)
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or "id" not in item:
            raise validation(f"{path}[{i}].id should be defined, instead was undefined.")
        out.append({"id": normalize_id(item["id"], f"{path}[{i}].id")})
    return out


def find_option(config: dict[str, Any], raw: Any, path: str, create: bool) -> dict[str, Any]:
    """The select/status option a write names (by name or id); a new select name adds one."""
    if not isinstance(raw, dict) or not ({"name", "id"} & set(raw)):
        raise validation(f"{path} should be an object with a `name` or an `id`.")
    options: list[dict[str, Any]] = config.setdefault("options", [])
    for option in options:
        if option["id"] == raw.get("id") or option["name"] == raw.get("name"):
            return dict(option)
    name = raw.get("name")
    if not create or not isinstance(name, str):
        raise validation(f"{path}: option {shown(name or raw.get('id'))} does not exist.")
    if "," in name:
        raise validation(f"{path}.name should not contain commas, instead was {shown(name)}.")
    _check_length(len(name), OPTION_NAME_LIMIT, f"{path}.name")
    option = new_option(name, len(options), raw.get("color"))
    options.append(option)
    return dict(option)


def new_option(name: str, index: int, color: Any = None) -> dict[str, Any]:
    # Notion picks a colour for a new option; cycling keeps the stand-in deterministic.
    chosen = color if color in COLORS else COLORS[index % len(COLORS)]
    return {"id": str(uuid.uuid4()), "name": name, "color": chosen, "description": None}


def convert_value(prop: dict[str, Any], raw: Any, path: str) -> Any:
    """The stored value for one property write; select options may be added to `prop`."""
    kind = prop["type"]
    config: dict[str, Any] = prop.setdefault(kind, {})
    if kind in ("title", "rich_text"):
        return rich_text(raw, path)
    if kind in ("select", "status"):
        return None if raw is None else find_option(config, raw, path, create=kind == "select")
    if kind == "multi_select":
        items = _check_list(raw, path)
        return [find_option(config, item, f"{path}[{i}]", True) for i, item in enumerate(items)]
    simple: dict[str, Callable[[Any, str], Any]] = {
        "number": _number,
        "checkbox": _checkbox,
        "email": _string(EMAIL_LIMIT),
        "phone_number": _string(EMAIL_LIMIT),
        "url": _string(URL_LIMIT),
        "date": _date,
        "relation": _relation,
    }
    if kind not in simple:
        raise validation(f"{path}: writing {kind} properties is not supported by the stand-in.")
    return simple[kind](raw, path)
