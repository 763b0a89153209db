"""The outbox page: every email the Resend stand-in accepted, rendered as the recipient sees it.

A small stdlib HTTP server in a thread. Each email's HTML is shown in a sandboxed iframe
(`srcdoc`, escaped; no scripts, no same-origin access), with its text part and headers below.
A Content-Security-Policy that allows nothing from outside keeps the page, and every email in
it, free of external resources.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from campaigns.cli.outbox_page import render_page

EmailSource = Callable[[], list[dict[str, Any]]]
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "script-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'"
)
EMAIL_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"


def emails_from_state(state_dir: Path) -> list[dict[str, Any]]:
    """The outbox the Resend stand-in saved in a sandbox (empty when there is none yet)."""
    path = state_dir / "resend.json"
    if not path.exists():  # the stand-in replaces the file atomically: never half-written
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    emails = data.get("emails", []) if isinstance(data, dict) else []
    return list(emails) if isinstance(emails, list) else []


class OutboxServer:
    """`start()` returns the page's URL; `stop()` ends the thread."""

    def __init__(
        self, emails: EmailSource, *, host: str = "127.0.0.1", port: int = 0, live: bool = True
    ) -> None:
        self.emails = emails
        self.live = live
        self._address = (host, port)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        try:
            httpd = ThreadingHTTPServer(self._address, _Handler)
        except OSError:  # the preferred port is taken: any free one will do
            httpd = ThreadingHTTPServer((self._address[0], 0), _Handler)
        httpd.daemon_threads = True
        httpd.outbox = self  # type: ignore[attr-defined]
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True, name="outbox"
        )
        self._thread.start()
        return self.url

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the outbox server is not running")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/"

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None


class _Handler(BaseHTTPRequestHandler):
    server_version = "campaign-outbox/1.0"

    def do_GET(self) -> None:
        outbox: OutboxServer = self.server.outbox  # type: ignore[attr-defined]
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        emails = outbox.emails()
        if path == "/":
            self._send(200, "text/html; charset=utf-8", render_page(emails, live=outbox.live), CSP)
        elif path == "/count":
            self._send(200, "application/json", json.dumps({"count": len(emails)}), CSP)
        elif path == "/emails.json":
            summary = [
                {k: e.get(k) for k in ("id", "to", "subject", "received_at", "tags")}
                for e in emails
            ]
            self._send(200, "application/json", json.dumps(summary), CSP)
        elif path.startswith("/emails/"):
            wanted = path.removeprefix("/emails/")
            match = next((e for e in emails if e.get("id") == wanted), None)
            if match is None:
                self._send(404, "text/plain; charset=utf-8", "No such email.\n", CSP)
            else:
                self._send(200, "text/html; charset=utf-8", str(match.get("html", "")), EMAIL_CSP)
        else:
            self._send(404, "text/plain; charset=utf-8", "Not found.\n", CSP)

    def _send(self, status: int, content_type: str, body: str, csp: str) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Content-Security-Policy", csp)
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the demo's console is for the demo."""
