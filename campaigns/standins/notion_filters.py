"""Query filters and sorts of the Notion stand-in (`POST /v1/data_sources/{id}/query`).

A filter is checked against the schema before any page is looked at, as Notion does: a filter on
a property that does not exist, or keyed by the wrong type, is a 400 even on an empty database.
Text `equals` is exact; `contains`, `starts_with` and `ends_with` ignore case, like Notion's UI.
Empty values sort last in either direction, and select values sort in option order, as in Notion.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from campaigns.standins.notion_config import find_property
from campaigns.standins.notion_values import normalize_id, shown, validation

Page = dict[str, Any]
Predicate = Callable[[Page], bool]
Schema = dict[str, dict[str, Any]]

TEXT_TYPES = {"title", "rich_text", "email", "url", "phone_number"}
TEXT_OPS = {"equals", "does_not_equal", "contains", "does_not_contain", "starts_with", "ends_with"}
Compare = Callable[[Any, Any], bool]
NUMBER_OPS: dict[str, Compare] = {
    "equals": lambda a, b: a == b,
    "does_not_equal": lambda a, b: a != b,
    "greater_than": lambda a, b: a is not None and a > b,
    "less_than": lambda a, b: a is not None and a < b,
    "greater_than_or_equal_to": lambda a, b: a is not None and a >= b,
    "less_than_or_equal_to": lambda a, b: a is not None and a <= b,
}
DATE_OPS: dict[str, Compare] = {
    "equals": lambda a, b: a == b,
    "before": lambda a, b: a < b,
    "after": lambda a, b: a > b,
    "on_or_before": lambda a, b: a <= b,
    "on_or_after": lambda a, b: a >= b,
}


def plain(prop: dict[str, Any], page: Page) -> Any:
    """A property's value reduced to something comparable: text, number, names, ids, date."""
    kind = prop["type"]
    value = page["properties"].get(prop["id"])
    if kind in ("title", "rich_text"):
        return "".join(item["plain_text"] for item in value or [])
    if kind in ("select", "status"):
        return value["name"] if value else None
    if kind == "multi_select":
        return [item["name"] for item in value or []]
    if kind == "relation":
        return [item["id"] for item in value or []]
    if kind == "date":
        return value["start"] if value else None
    if kind == "created_time":
        return page["created_time"]
    if kind == "last_edited_time":
        return page["last_edited_time"]
    return value


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _instant(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _date_key(value: str, whole_days: bool) -> date | datetime:
    """A date-only filter compares calendar days (UTC); a datetime filter compares instants."""
    moment = _instant(value if len(value) > 10 else f"{value}T00:00:00+00:00")
    return moment.astimezone(UTC).date() if whole_days else moment


def _condition(flt: dict[str, Any], key: str, path: str) -> tuple[str, Any]:
    condition = flt.get(key)
    if not isinstance(condition, dict) or len(condition) != 1:
        raise validation(f"{path}.{key} should be an object with exactly one condition.")
    op, arg = next(iter(condition.items()))
    return str(op), arg


def _emptiness(op: str, arg: Any, get: Callable[[Page], Any]) -> Predicate | None:
    if op not in ("is_empty", "is_not_empty"):
        return None
    want_empty = op == "is_empty"
    return lambda page: _is_empty(get(page)) == want_empty


def _leaf(kind: str, op: str, arg: Any, get: Callable[[Page], Any], path: str) -> Predicate:
    """The predicate of one condition on a value of type `kind`."""
    empty = _emptiness(op, arg, get)
    if empty is not None:
        return empty
    bad = validation(f"{path}: {op} {shown(arg)} is not a valid {kind} filter condition.")
    if kind in TEXT_TYPES and op in TEXT_OPS and isinstance(arg, str):
        return _text(op, arg, get)
    number = isinstance(arg, int | float) and not isinstance(arg, bool)
    if kind == "number" and op in NUMBER_OPS and number:
        compare = NUMBER_OPS[op]
        return lambda page: bool(compare(get(page), arg))
    if kind in ("select", "status") and op in ("equals", "does_not_equal") and isinstance(arg, str):
        return lambda page: (get(page) == arg) == (op == "equals")
    if kind == "checkbox" and op in ("equals", "does_not_equal") and isinstance(arg, bool):
        return lambda page: (bool(get(page)) == arg) == (op == "equals")
    if kind in ("multi_select", "relation") and op in ("contains", "does_not_contain"):
        if not isinstance(arg, str):
            raise bad
        wanted = normalize_id(arg, path) if kind == "relation" else arg
        return lambda page: (wanted in get(page)) == (op == "contains")
    if kind in ("date", "created_time", "last_edited_time") and op in DATE_OPS:
        return _date(op, arg, get, bad)
    raise bad


def _text(op: str, arg: str, get: Callable[[Page], Any]) -> Predicate:
    def test(page: Page) -> bool:
        value = get(page) or ""
        if op in ("equals", "does_not_equal"):
            return (value == arg) == (op == "equals")
        low, needle = value.casefold(), arg.casefold()
        if op == "starts_with":
            return low.startswith(needle)
        if op == "ends_with":
            return low.endswith(needle)
        return (needle in low) == (op == "contains")

    return test


def _date(op: str, arg: Any, get: Callable[[Page], Any], bad: Exception) -> Predicate:
    try:
        whole_days = isinstance(arg, str) and len(arg) == 10
        target = _date_key(str(arg), whole_days)
    except ValueError:
        raise bad from None
    compare = DATE_OPS[op]

    def test(page: Page) -> bool:
        value = get(page)
        return value is not None and bool(compare(_date_key(value, whole_days), target))

    return test


def compile_filter(flt: Any, schema: Schema, path: str = "body.filter") -> Predicate:
    """Validate a filter against the schema and return the predicate it stands for."""
    if not isinstance(flt, dict):
        raise validation(f"{path} should be an object, instead was {shown(flt)}.")
    for joiner in ("and", "or"):
        if joiner in flt:
            parts = flt[joiner]
            if not isinstance(parts, list):
                raise validation(f"{path}.{joiner} should be an array.")
            preds = [
                compile_filter(p, schema, f"{path}.{joiner}[{i}]") for i, p in enumerate(parts)
            ]
            return _combined(preds, joiner == "and")
    if "timestamp" in flt:
        kind = str(flt["timestamp"])
        if kind not in ("created_time", "last_edited_time"):
            raise validation(f"{path}.timestamp should be created_time or last_edited_time.")
        op, arg = _condition(flt, kind, path)
        return _leaf(kind, op, arg, lambda page: page[kind], f"{path}.{kind}")
    name = flt.get("property")
    prop = find_property(schema, str(name)) if isinstance(name, str) else None
    if prop is None:
        raise validation(f"Could not find property with name or id: {name}")
    kind = prop["type"]
    if kind not in flt:
        raise validation(f"{path}: property {name} is of type {kind}; filter it with {kind}.")
    op, arg = _condition(flt, kind, path)
    return _leaf(kind, op, arg, functools.partial(plain, prop), f"{path}.{kind}")


def _combined(preds: list[Predicate], every: bool) -> Predicate:
    def test(page: Page) -> bool:
        results = (pred(page) for pred in preds)
        return all(results) if every else any(results)

    return test


def sort_pages(pages: list[Page], sorts: Any, schema: Schema) -> list[Page]:
    """Pages in the order of `sorts`; ties (and no sorts) fall back to creation order."""
    if sorts is None:
        sorts = []
    if not isinstance(sorts, list):
        raise validation(f"body.sorts should be an array, instead was {shown(sorts)}.")
    keys = [_sort_key(sort, schema, f"body.sorts[{i}]") for i, sort in enumerate(sorts)]

    def compare(a: Page, b: Page) -> int:
        for get, descending in keys:
            va, vb = get(a), get(b)
            if _is_empty(va) or _is_empty(vb):
                order = int(_is_empty(va)) - int(_is_empty(vb))  # empties last, either way
            else:
                order = (va > vb) - (va < vb)
                order = -order if descending else order
            if order:
                return order
        return int(a["seq"]) - int(b["seq"])

    return sorted(pages, key=functools.cmp_to_key(compare))


def _sort_key(sort: Any, schema: Schema, path: str) -> tuple[Callable[[Page], Any], bool]:
    if not isinstance(sort, dict):
        raise validation(f"{path} should be an object, instead was {shown(sort)}.")
    direction = sort.get("direction", "ascending")
    if direction not in ("ascending", "descending"):
        raise validation(f"{path}.direction should be ascending or descending.")
    descending = direction == "descending"
    if "timestamp" in sort:
        # Stored timestamps are truncated to the minute, as Notion's are; the sequence numbers
        # keep the exact order of creation and edits.
        field = {"created_time": "seq", "last_edited_time": "edit_seq"}.get(str(sort["timestamp"]))
        if field is None:
            raise validation(f"{path}.timestamp should be created_time or last_edited_time.")
        return (lambda page: page[field]), descending
    prop = find_property(schema, str(sort.get("property")))
    if prop is None:
        raise validation(f"Could not find sort property with name or id: {sort.get('property')}")
    return _value_key(prop), descending


def _value_key(prop: dict[str, Any]) -> Callable[[Page], Any]:
    kind = prop["type"]
    if kind in ("select", "status"):
        order = {o["name"]: i for i, o in enumerate(prop[kind].get("options", []))}
        return lambda page: order.get(plain(prop, page) or "")
    if kind in ("multi_select", "relation"):
        return lambda page: ",".join(plain(prop, page)) or None
    if kind in ("date", "created_time", "last_edited_time"):
        return lambda page: _instant(v) if (v := plain(prop, page)) else None
    if kind in TEXT_TYPES:
        return lambda page: plain(prop, page).casefold() if plain(prop, page) else None
    return lambda page: plain(prop, page)
