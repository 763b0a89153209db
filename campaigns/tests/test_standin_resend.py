"""The Resend stand-in, exercised over real HTTP through the real `resend` SDK."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import resend
import resend.exceptions as rex

from campaigns.standins.resend import ResendStandIn

KEY = "re_standin_test"
AUTH = {"Authorization": f"Bearer {KEY}"}


def message(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "from": "Systems Review <hello@review.example>",
        "to": ["a@example.com"],
        "subject": "Hello",
        "html": "<p>Hello</p>",
        "text": "Hello",
        "reply_to": "hello@review.example",
        "headers": {"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        "tags": [{"name": "campaign", "value": "christmas_1"}],
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


@pytest.fixture
def standin() -> Iterator[ResendStandIn]:
    with ResendStandIn(api_key=KEY) as server:
        yield server


@pytest.fixture
def sdk(standin: ResendStandIn) -> Iterator[ResendStandIn]:
    """Point the SDK's module globals at the stand-in, and restore them afterwards."""
    saved = resend.api_key, resend.api_url
    resend.api_key, resend.api_url = KEY, standin.url
    try:
        yield standin
    finally:
        resend.api_key, resend.api_url = saved


def send(body: dict[str, Any], key: str | None = None) -> Any:
    options: dict[str, Any] = {"idempotency_key": key} if key else {}
    return resend.Emails.send(body, options)


def test_send_returns_an_id_and_fills_the_outbox(sdk: ResendStandIn) -> None:
    """An accepted email gets a uuid and lands in the outbox with body, headers, tags and key."""
    sent = send(message(to="a@example.com"), key="send/1")
    assert uuid.UUID(sent["id"]).version == 4
    [email] = sdk.emails
    assert email["id"] == sent["id"] and email["to"] == ["a@example.com"]
    assert email["headers"] == {"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    assert email["tags"] == [{"name": "campaign", "value": "christmas_1"}]
    assert email["idempotency_key"] == "send/1" and email["received_at"].endswith("Z")
    assert email["body"]["to"] == "a@example.com" and email["reply_to"] == ["hello@review.example"]


def test_get_email_returns_the_email_object(sdk: ResendStandIn) -> None:
    """GET /emails/{id} answers Resend's email object, tolerating the SDK's `{}` body."""
    sent = send(message())
    got = resend.Emails.get(sent["id"])
    assert got["object"] == "email" and got["id"] == sent["id"]
    assert got["to"] == ["a@example.com"] and got["from"] == message()["from"]
    assert got["last_event"] == "delivered" and got["scheduled_at"] is None
    assert got["subject"] == "Hello" and got["html"] == "<p>Hello</p>" and got["text"] == "Hello"
    assert got["cc"] is None and got["bcc"] is None and got["reply_to"] == ["hello@review.example"]
    assert got["tags"] == message()["tags"] and got["created_at"]
    with pytest.raises(rex.ResendError) as caught:
        resend.Emails.get(str(uuid.uuid4()))
    assert str(caught.value.code) == "404" and caught.value.error_type == "not_found"


def test_same_key_same_body_replays_the_first_id(sdk: ResendStandIn) -> None:
    """The same idempotency key with the same body returns the original id and sends nothing."""
    first = send(message(), key="send/contact-1/1")
    again = send(message(), key="send/contact-1/1")
    assert again["id"] == first["id"] and len(sdk.emails) == 1


def test_same_key_other_body_is_a_409(sdk: ResendStandIn) -> None:
    """The same idempotency key with a different body answers 409 invalid_idempotent_request."""
    send(message(), key="send/contact-1/1")
    with pytest.raises(rex.ResendError) as caught:
        send(message(subject="Changed"), key="send/contact-1/1")
    assert str(caught.value.code) == "409"
    assert caught.value.error_type == "invalid_idempotent_request"
    assert len(sdk.emails) == 1


def test_same_key_while_first_in_flight_is_a_409(sdk: ResendStandIn) -> None:
    """A retry while the first request with the key is still being answered gets 409 concurrent."""
    sdk.inject_failure(method="POST", path="^/emails$", status=None, delay=0.5, when="after")
    results: list[Any] = []
    first = threading.Thread(target=lambda: results.append(send(message(), key="k-1")))
    first.start()
    deadline = time.monotonic() + 5
    while not sdk.emails and time.monotonic() < deadline:
        time.sleep(0.01)
    with pytest.raises(rex.ResendError) as caught:
        send(message(), key="k-1")
    assert str(caught.value.code) == "409"
    assert caught.value.error_type == "concurrent_idempotent_requests"
    first.join()
    assert send(message(), key="k-1")["id"] == results[0]["id"]
    assert len(sdk.emails) == 1


def test_idempotency_key_longer_than_256_is_a_400(sdk: ResendStandIn) -> None:
    """An idempotency key over 256 characters answers 400 invalid_idempotency_key."""
    with pytest.raises(rex.ResendError) as caught:
        send(message(), key="k" * 257)
    assert str(caught.value.code) == "400" and caught.value.error_type == "invalid_idempotency_key"
    assert send(message(), key="k" * 256)["id"]


@pytest.mark.parametrize(
    ("overrides", "kind", "name"),
    [
        ({"from": None}, rex.MissingRequiredFieldsError, "missing_required_field"),
        ({"from": "not an address"}, rex.ValidationError, "validation_error"),
        ({"to": None}, rex.MissingRequiredFieldsError, "missing_required_field"),
        ({"to": ["nope"]}, rex.ValidationError, "validation_error"),
        ({"to": [f"u{i}@example.com" for i in range(51)]}, rex.ValidationError, "validation_error"),
        ({"subject": ""}, rex.MissingRequiredFieldsError, "missing_required_field"),
        ({"html": None, "text": None}, rex.MissingRequiredFieldsError, "missing_required_field"),
        ({"reply_to": ["bad"]}, rex.ValidationError, "validation_error"),
        ({"headers": {"X-Count": 1}}, rex.ValidationError, "validation_error"),
        ({"tags": [{"name": "has space", "value": "x"}]}, rex.ValidationError, "validation_error"),
        ({"tags": [{"name": "n", "value": "v" * 257}]}, rex.ValidationError, "validation_error"),
    ],
)
def test_invalid_email_is_a_422(
    sdk: ResendStandIn, overrides: dict[str, Any], kind: type[Exception], name: str
) -> None:
    """Missing or malformed fields answer 422 with Resend's error name, and nothing is sent."""
    body = message()
    body.update(overrides)
    with pytest.raises(kind) as caught:
        send({k: v for k, v in body.items() if v is not None})
    assert isinstance(caught.value, rex.ResendError)
    assert str(caught.value.code) == "422" and caught.value.error_type == name
    assert sdk.emails == []


def test_fifty_recipients_and_plain_address_sender_are_fine(sdk: ResendStandIn) -> None:
    """A bare sender address and exactly 50 recipients are accepted."""
    to = [f"u{i}@example.com" for i in range(50)]
    send(message(**{"from": "hello@review.example", "to": to}))
    assert sdk.emails[0]["to"] == to


def test_authentication(standin: ResendStandIn) -> None:
    """No key is 401 missing_api_key; a wrong key or the SDK's "None" is 403 invalid_api_key."""
    url = f"{standin.url}/emails"
    reply = httpx.post(url, json=message())
    assert reply.status_code == 401 and reply.json()["name"] == "missing_api_key"
    assert reply.json()["statusCode"] == 401 and reply.json()["message"]
    for key in ("re_wrong", "None"):
        reply = httpx.post(url, json=message(), headers={"Authorization": f"Bearer {key}"})
        assert reply.status_code == 403 and reply.json()["name"] == "invalid_api_key"
    saved = resend.api_key, resend.api_url
    resend.api_key, resend.api_url = "re_wrong", standin.url
    try:
        with pytest.raises(rex.InvalidApiKeyError):
            send(message())
    finally:
        resend.api_key, resend.api_url = saved


def test_every_reply_is_json_with_ratelimit_headers(standin: ResendStandIn) -> None:
    """Successes and errors alike are JSON and carry the ratelimit-* headers."""
    ok = httpx.post(f"{standin.url}/emails", json=message(), headers=AUTH)
    bad = httpx.post(f"{standin.url}/emails", content=b"{oops", headers=AUTH)
    assert bad.status_code == 400 and bad.json()["name"] == "validation_error"
    unknown = httpx.get(f"{standin.url}/nowhere", headers=AUTH)
    assert unknown.status_code == 404
    wrong_method = httpx.delete(f"{standin.url}/emails", headers=AUTH)
    assert wrong_method.status_code == 405
    for reply in (ok, bad, unknown, wrong_method):
        assert reply.headers["content-type"].startswith("application/json")
        for header in ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"):
            assert int(reply.headers[header]) >= 0


def test_rate_limit_answers_429_with_retry_after() -> None:
    """Past the burst, sends get 429 rate_limit_exceeded with retry-after and remaining 0."""
    saved = resend.api_key, resend.api_url
    with ResendStandIn(api_key=KEY, rate_limit=0.5, burst=2) as server:
        resend.api_key, resend.api_url = KEY, server.url
        try:
            first = send(message())
            assert first["http_headers"]["ratelimit-limit"] == "2"
            send(message())
            with pytest.raises(rex.RateLimitError) as caught:
                send(message())
        finally:
            resend.api_key, resend.api_url = saved
        assert caught.value.error_type == "rate_limit_exceeded"
        assert int(caught.value.headers["retry-after"]) >= 1
        assert caught.value.headers["ratelimit-remaining"] == "0"
        assert len(server.emails) == 2


def test_injected_quota_and_server_errors(sdk: ResendStandIn) -> None:
    """Scripted failures produce Resend's quota 429s and 500 application_error."""
    sdk.inject_failure(path="^/emails$", status=429, code="daily_quota_exceeded", retry_after=3600)
    with pytest.raises(rex.RateLimitError) as quota:
        send(message())
    assert quota.value.error_type == "daily_quota_exceeded"
    assert quota.value.headers["retry-after"] == "3600"
    sdk.inject_failure(path="^/emails$", status=500)
    with pytest.raises(rex.ApplicationError):
        send(message())
    assert sdk.emails == []


def test_failure_after_then_retry_with_same_key_sends_once(sdk: ResendStandIn) -> None:
    """A 500 after acceptance is retried with the same key and gets the first id back."""
    sdk.inject_failure(method="POST", path="^/emails$", status=500, when="after")
    with pytest.raises(rex.ApplicationError):
        send(message(), key="send/after")
    retried = send(message(), key="send/after")
    assert [email["id"] for email in sdk.emails] == [retried["id"]]


def test_batch_strict_and_permissive(sdk: ResendStandIn) -> None:
    """A batch returns an id per email; strict rejects all for one bad item, permissive skips it."""
    good, bad = message(), message(to=["nope"])
    sent = resend.Batch.send([good, good])
    assert len(sent["data"]) == 2 and len(sdk.emails) == 2
    with pytest.raises(rex.ValidationError, match=r"emails\[1\]"):
        resend.Batch.send([good, bad])
    assert len(sdk.emails) == 2
    partial = resend.Batch.send(
        [good, bad],
        {"batch_validation": "permissive"},
    )
    assert len(partial["data"]) == 1 and partial["errors"][0]["index"] == 1
    with pytest.raises(rex.ValidationError):
        resend.Batch.send([good] * 101)
    assert len(sdk.emails) == 3


def test_control_endpoints_over_http(sdk: ResendStandIn) -> None:
    """The outbox and request log are readable over HTTP, and failures can be scripted there."""
    script = {"path": "^/emails$", "status": 429, "code": "monthly_quota_exceeded"}
    assert httpx.post(f"{sdk.url}/__standin/failures", json=script).status_code == 201
    with pytest.raises(rex.RateLimitError):
        send(message())
    sent = send(message(), key="k")
    outbox = httpx.get(f"{sdk.url}/__standin/emails").json()
    assert [e["id"] for e in outbox] == [sent["id"]] and outbox[0]["idempotency_key"] == "k"
    log = httpx.get(f"{sdk.url}/__standin/requests").json()
    assert [entry["status"] for entry in log] == [429, 200]
    httpx.post(f"{sdk.url}/__standin/reset", json={"data": True})
    assert sdk.emails == [] and sdk.requests == []


def test_outbox_and_keys_survive_a_restart(tmp_path: Path) -> None:
    """With a state file, the outbox and idempotency keys survive a stop and a new start."""
    state = tmp_path / "resend.json"
    saved = resend.api_key, resend.api_url
    try:
        with ResendStandIn(api_key=KEY, state_path=state) as first:
            resend.api_key, resend.api_url = KEY, first.url
            original = send(message(), key="persisted")
        with ResendStandIn(api_key=KEY, state_path=state) as second:
            resend.api_key, resend.api_url = KEY, second.url
            assert send(message(), key="persisted")["id"] == original["id"]
            assert resend.Emails.get(original["id"])["id"] == original["id"]
            assert len(second.emails) == 1
    finally:
        resend.api_key, resend.api_url = saved
