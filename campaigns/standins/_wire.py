"""HTTP plumbing for the stand-ins: request and reply values, the handler, and the state file.

Replies close the connection after each response (HTTP/1.0): a stopped stand-in then cannot keep
answering on a pooled keep-alive connection, which would make restart tests lie.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit


class ApiError(Exception):
    """An error reply; the stand-in turns it into its service's error body."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Reply:
    """An answer: `body` as JSON, or as text of `content_type` when that is given (a page)."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def dump_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class StateFile:
    """The stand-in's data as one JSON file, replaced atomically so a crash never truncates it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, Any] | None:
        if not self.path.exists():
            return None
        data = json.loads(self.path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else None

    def save(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, ensure_ascii=False, indent=1)
            Path(tmp).replace(self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


class Dispatcher(Protocol):
    def dispatch(self, request: Request) -> Reply: ...

    def finish(self, request: Request) -> None: ...


def http_server(host: str, port: int, dispatcher: Dispatcher) -> ThreadingHTTPServer:
    """A threaded server (not yet serving) that hands every request to `dispatcher`."""
    httpd = ThreadingHTTPServer((host, port), _Handler)
    httpd.daemon_threads = True  # a handler stuck in a scripted delay must not block exit
    httpd.dispatcher = dispatcher  # type: ignore[attr-defined]
    return httpd


class _Handler(BaseHTTPRequestHandler):
    server_version = "standin/1.0"

    def _serve(self) -> None:
        standin: Dispatcher = self.server.dispatcher  # type: ignore[attr-defined]
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=self.rfile.read(length) if length > 0 else b"",
        )
        try:
            reply = standin.dispatch(request)
            # Done before the answer is on the wire, as at the real service: a client that
            # sends its next request the moment it has the answer must not find this one open.
            standin.finish(request)
            self._write(reply)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a scripted delay outlived its timeout); that is the point
        finally:
            standin.finish(request)

    def _write(self, reply: Reply) -> None:
        if reply.content_type is not None:
            payload, content_type = str(reply.body).encode("utf-8"), reply.content_type
        else:
            payload = b"" if reply.body is None else dump_json(reply.body)
            content_type = "application/json; charset=utf-8"
        self.send_response(reply.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr line per request; the request log keeps the history."""
