"""A local, wire-compatible stand-in for the Notion API (version 2025-09-03).

It serves the endpoints the project's code uses, through `notion_client.Client(base_url=...)`,
with Notion's JSON shapes, validation messages, limits and error bodies, plus scripted failures
and a rate limit, so the real SDK code paths run offline and a demo needs no Notion account.

    with NotionStandIn(token="secret") as notion:
        db_id, ds_id = notion.create_database("Contacts", {"Name": {"title": {}}})
        client = notion_client.Client(auth="secret", base_url=notion.url)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from campaigns.standins._server import StandInServer
from campaigns.standins._wire import ApiError, Reply, Request
from campaigns.standins.notion_filters import compile_filter, plain, sort_pages
from campaigns.standins.notion_store import NotionStore
from campaigns.standins.notion_values import normalize_id, shown, validation

PARENT_PAGE = "00000000-0000-4000-8000-0000000000aa"  # any id will do: pages are not modelled
CODES = {
    400: "validation_error",
    401: "unauthorized",
    403: "restricted_resource",
    404: "object_not_found",
    409: "conflict_error",
    429: "rate_limited",
    500: "internal_server_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
    529: "service_overload",
}
Handler = Callable[[Request, str], Any]


class NotionStandIn(StandInServer):
    """The Notion API on 127.0.0.1: databases, data sources, pages, queries, empty page bodies."""

    rate_limit_code: ClassVar[str] = "rate_limited"

    def __init__(
        self,
        token: str | None = None,
        port: int = 0,
        rate_limit: float | None = None,
        burst: int = 3,
        state_path: Path | None = None,
        *,
        host: str = "127.0.0.1",
    ) -> None:
        super().__init__(
            host=host, port=port, rate_limit=rate_limit, burst=burst, state_path=state_path
        )
        self.token = token
        self.store = NotionStore()
        ident = r"/(?P<id>[^/]+)"
        self._routes: list[tuple[str, re.Pattern[str], Handler, bool]] = [
            ("POST", re.compile(r"/v1/databases"), self._create_database, True),
            ("GET", re.compile(r"/v1/databases" + ident), self._get_database, False),
            ("GET", re.compile(r"/v1/data_sources" + ident), self._get_data_source, False),
            ("PATCH", re.compile(r"/v1/data_sources" + ident), self._update_data_source, True),
            ("POST", re.compile(r"/v1/data_sources" + ident + "/query"), self._query, False),
            ("POST", re.compile(r"/v1/pages"), self._create_page, True),
            ("GET", re.compile(r"/v1/pages" + ident), self._get_page, False),
            ("PATCH", re.compile(r"/v1/pages" + ident), self._update_page, True),
            ("GET", re.compile(r"/v1/blocks" + ident + "/children"), self._children, False),
        ]

    # --- the HTTP side -----------------------------------------------------------------------

    def authenticate(self, request: Request) -> None:
        if not request.header("Notion-Version"):
            raise ApiError(
                400,
                "missing_version",
                "Notion-Version header failed validation: "
                "Notion-Version header should be defined, instead was `undefined`.",
            )
        scheme, _, token = (request.header("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip() or (self.token and token != self.token):
            raise ApiError(401, "unauthorized", "API token is invalid.")

    def error_body(self, status: int, code: str, message: str, request: Request) -> Any:
        return {
            "object": "error",
            "status": status,
            "code": code,
            "message": message,
            "request_id": request.id,
        }

    def default_code(self, status: int) -> str:
        return CODES.get(status, "internal_server_error" if status >= 500 else "invalid_request")

    def route(self, request: Request) -> Reply:
        for method, pattern, handler, mutates in self._routes:
            match = pattern.fullmatch(request.path.rstrip("/"))
            if match is None or method != request.method:
                continue
            body = handler(request, match.groupdict().get("id", ""))
            if mutates:
                self.mark_dirty()
            if isinstance(body, dict):
                body["request_id"] = request.id
            return Reply(200, body)
        raise ApiError(400, "invalid_request_url", "Invalid request URL.")

    def _body(self, request: Request) -> dict[str, Any]:
        body = self.parse_json(request, {})
        if not isinstance(body, dict):
            raise validation(f"body should be an object, instead was {shown(body)}.")
        return body

    def _create_database(self, request: Request, _: str) -> Any:
        return self.store.create_database(self._body(request))

    def _get_database(self, request: Request, raw_id: str) -> Any:
        return self.store.render_database(self.store.database(raw_id)["id"])

    def _get_data_source(self, request: Request, raw_id: str) -> Any:
        return self.store.render_data_source(self.store.data_source(raw_id)["id"])

    def _update_data_source(self, request: Request, raw_id: str) -> Any:
        return self.store.update_data_source(raw_id, self._body(request))

    def _create_page(self, request: Request, _: str) -> Any:
        return self.store.create_page(self._body(request))

    def _get_page(self, request: Request, raw_id: str) -> Any:
        return self.store.render_page(self.store.page(raw_id)["id"], _only(request))

    def _update_page(self, request: Request, raw_id: str) -> Any:
        return self.store.update_page(raw_id, self._body(request))

    def _children(self, request: Request, raw_id: str) -> Any:
        object_id = normalize_id(raw_id, "path.block_id")
        if object_id not in self.store.pages and object_id not in self.store.databases:
            raise ApiError(404, "object_not_found", f"Could not find block with ID: {object_id}.")
        page_size = request.query.get("page_size", ["100"])[0]
        _page_size(int(page_size) if page_size.isdigit() else page_size, "query.page_size")
        # Page bodies are not modelled: every page is empty, which is all the SDK needs.
        return _envelope([], None, "block")

    def _query(self, request: Request, raw_id: str) -> Any:
        source = self.store.data_source(raw_id)
        body = self._body(request)
        schema = source["properties"]
        size = _page_size(body.get("page_size", 100), "body.page_size")
        flt = body.get("filter")
        keep = compile_filter(flt, schema) if flt is not None else (lambda page: True)
        pages = [
            page
            for page in self.store.pages.values()
            if page["data_source_id"] == source["id"] and not page["in_trash"] and keep(page)
        ]
        pages = sort_pages(pages, body.get("sorts"), schema)
        start = _cursor_index(pages, body.get("start_cursor"))
        chunk = pages[start : start + size]
        more = start + size < len(pages)
        only = _only(request)
        results = [self.store.render_page(page["id"], only) for page in chunk]
        return _envelope(
            results, pages[start + size]["id"] if more else None, "page_or_data_source"
        )

    # --- the Python side ---------------------------------------------------------------------

    def dump_data(self) -> dict[str, Any]:
        return self.store.dump()

    def load_data(self, data: dict[str, Any]) -> None:
        self.store.load(data)

    def clear_data(self) -> None:
        self.store = NotionStore()

    def create_database(
        self, title: str, properties: dict[str, Any], parent_page_id: str = PARENT_PAGE
    ) -> tuple[str, str]:
        """Create a database (properties as the API takes them); return (database id, source id)."""
        body = {
            "parent": {"type": "page_id", "page_id": parent_page_id},
            "title": [{"type": "text", "text": {"content": title}}],
            "initial_data_source": {"properties": properties},
        }
        with self.lock:
            database = self.store.create_database(body)
            self.mark_dirty()
            self._save_if_dirty()
        return str(database["id"]), str(database["data_sources"][0]["id"])

    def create_page(self, data_source_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        """Create a page with the same validation as `POST /v1/pages`; return the page object."""
        body = {"parent": {"data_source_id": data_source_id}, "properties": properties}
        with self.lock:
            page = self.store.create_page(body)
            self.mark_dirty()
            self._save_if_dirty()
        return page

    @property
    def databases(self) -> list[dict[str, Any]]:
        with self.lock:
            return [self.store.render_database(db_id) for db_id in self.store.databases]

    @property
    def pages(self) -> list[dict[str, Any]]:
        """Every page (trashed ones too) as `GET /v1/pages/{id}` returns it, oldest first."""
        with self.lock:
            ordered = sorted(self.store.pages.values(), key=lambda page: int(page["seq"]))
            return [self.store.render_page(page["id"]) for page in ordered]

    def page(self, page_id: str) -> dict[str, Any]:
        with self.lock:
            return self.store.render_page(self.store.page(page_id)["id"])

    def data_source(self, data_source_id: str) -> dict[str, Any]:
        with self.lock:
            return self.store.render_data_source(self.store.data_source(data_source_id)["id"])

    def rows(self, database_or_source_id: str, in_trash: bool = False) -> list[dict[str, Any]]:
        """The pages of a database as flat dicts of plain values (text, names, ids, dates)."""
        with self.lock:
            object_id = normalize_id(database_or_source_id, "id")
            db = self.store.databases.get(object_id)
            source = (
                self.store.data_sources[db["data_source_ids"][0]]
                if db
                else self.store.data_source(object_id)
            )
            schema = source["properties"]
            pages = sorted(self.store.pages.values(), key=lambda page: int(page["seq"]))
            return [
                {"id": page["id"]} | {name: plain(prop, page) for name, prop in schema.items()}
                for page in pages
                if page["data_source_id"] == source["id"] and (in_trash or not page["in_trash"])
            ]


def _only(request: Request) -> set[str] | None:
    wanted = request.query.get("filter_properties")
    return set(wanted) if wanted else None


def _page_size(raw: Any, path: str) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 1:
        raise validation(f"{path} should be a number ≥ 1, instead was {shown(raw)}.")
    if raw > 100:
        raise validation(f"{path} should be ≤ 100, instead was {raw}.")
    return raw


def _cursor_index(pages: list[dict[str, Any]], cursor: Any) -> int:
    if cursor is None:
        return 0
    page_id = normalize_id(cursor, "body.start_cursor")
    for index, page in enumerate(pages):
        if page["id"] == page_id:
            return index
    raise validation(f"body.start_cursor {shown(cursor)} is not a valid cursor for this query.")


def _envelope(results: list[Any], cursor: str | None, kind: str) -> dict[str, Any]:
    return {
        "object": "list",
        "results": results,
        "next_cursor": cursor,
        "has_more": cursor is not None,
        "type": kind,
        kind: {},
    }
