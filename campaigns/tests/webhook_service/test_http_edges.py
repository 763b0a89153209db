"""The HTTP edge of the service: paths that are not routes, and clients that go away mid-body."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from campaigns.tests.webhook_service.conftest import Service, unsubscribe_token

ROUTES = [
    ("POST", "/webhooks/signup"),
    ("POST", "/webhooks/resend"),
    ("POST", "/webhooks/booking"),
    ("GET", "/unsubscribe"),
    ("POST", "/unsubscribe"),
    ("GET", "/healthz"),
]
BODY_ROUTES = [(method, path) for method, path in ROUTES if method == "POST"]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_trailing_slash_is_404_without_a_redirect(
    service: Service, method: str, path: str
) -> None:
    """A route's path plus a slash is no route: 404, and no Location built from the Host header."""
    response = service.client.request(
        method, f"{path}/", headers={"Host": "evil.example"}, follow_redirects=False
    )
    assert response.status_code == 404
    assert "location" not in response.headers


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
def test_a_client_gone_mid_body_is_one_info_line(
    service: Service, caplog: pytest.LogCaptureFixture, method: str, path: str
) -> None:
    """A client that disconnects while sending its body leaves one INFO line and no traceback."""
    query = f"token={unsubscribe_token('gone@example.com')}" if path == "/unsubscribe" else ""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"svc"), (b"content-length", b"1000")],
        "client": ("127.0.0.1", 50000),
        "server": ("svc", 80),
    }
    arriving = [{"type": "http.request", "body": b'{"type": "em', "more_body": True}]

    async def receive() -> dict[str, Any]:
        return arriving.pop(0) if arriving else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        pass  # nobody is listening any more

    with caplog.at_level(logging.INFO, logger="campaigns"):
        asyncio.run(service.client.app(scope, receive, send))
    mine = [r for r in caplog.records if r.name.startswith("campaigns")]
    assert [(r.levelno, r.exc_info) for r in mine] == [(logging.INFO, None)]
    assert "disconnected" in mine[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
