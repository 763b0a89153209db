"""Property: no body or header, however malformed, oversized or hostile, gets past the edge.

Every endpoint is hit with arbitrary bytes, text in the wrong encoding, JSON of any shape, known
payloads with hostile values, random and half-right signature headers, and bodies correctly
signed over all of that. Whatever arrives: never a 5xx, never a call to the Prefect adapter
(the fake records every call the routes make) and never a page created or changed in Notion
(the stand-in's request log). The contact and its send row are there to be hit, and are named
by nothing the strategies produce.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from campaigns.tests.webhook_service.conftest import (
    BOOKING_SECRET,
    RESEND_SECRET,
    SIGNUP,
    SIGNUP_SECRET,
    Service,
    sign_cal,
    sign_standard,
    unsubscribe_token,
)
from campaigns.unsubscribe import make_token

SEEDED = "seeded@contact.example"
SEEDED_RESEND_ID = "seeded-resend-id"
ENDPOINTS = [
    ("POST", "/webhooks/signup"),
    ("POST", "/webhooks/resend"),
    ("POST", "/webhooks/booking"),
    ("GET", "/unsubscribe"),
    ("POST", "/unsubscribe"),
    ("GET", "/healthz"),
]
SIGNATURE_HEADERS = [
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "svix-id",
    "svix-timestamp",
    "svix-signature",
    "x-cal-signature-256",
    "content-type",
    "accept",
]
HOSTILE_TEXT = [
    "",
    " ",
    "\x00",
    "a\r\nBcc: victim@example.com",
    "{{ 7 * 7 }}",
    "{% for x in () %}",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "' OR 1=1 --",
    "\u202egnp.exe",
    "\ud800",
    "x" * 5000,
    "é" * 300,
    "v1,AAAA v1,",
    "whsec_",
]
# Values no required integer field of the signup accepts: a signup carrying one is invalid
# (at the webhook a number in a string and a boolean are not integers either).
NOT_AN_INT: list[Any] = [-1, 10**30, 1.5, "x", None, [], {}, "1e999", "2", True]
INT_FIELDS = [
    "assessment_score",
    "red_systems",
    "orange_systems",
    "yellow_systems",
    "green_systems",
]
STRING_FIELDS = ["email", "first_name", "business_name", "weakest_system_1"]

header_text = st.one_of(
    st.sampled_from([t for t in HOSTILE_TEXT if len(t) < 400] + ["1", str(int(time.time()))]),
    st.text(max_size=80),
)
# Headers travel as bytes: anything but the line breaks that would end them.
random_headers = st.dictionaries(
    st.sampled_from(SIGNATURE_HEADERS),
    header_text.map(lambda v: v.encode("utf-8", "surrogatepass").translate(None, b"\r\n")),
    max_size=6,
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=20), inner),
    max_leaves=20,
)


@st.composite
def hostile_signup(draw: st.DrawFn) -> dict[str, Any]:
    body: dict[str, Any] = SIGNUP.model_dump(mode="json")
    body[draw(st.sampled_from(INT_FIELDS))] = draw(st.sampled_from(NOT_AN_INT))
    for name in draw(st.lists(st.sampled_from(STRING_FIELDS), max_size=3)):
        body[name] = draw(st.sampled_from(HOSTILE_TEXT) | json_values)
    return body


@st.composite
def hostile_event(draw: st.DrawFn) -> dict[str, Any]:
    kinds = ["email.delivered", "email.opened", "email.bounced", "email.complained", "email.sent"]
    ids = st.uuids().map(str) | st.from_regex(r"[A-Za-z0-9_-]{1,100}", fullmatch=True)
    data = {
        "email_id": draw(st.one_of(ids, ids, st.sampled_from(HOSTILE_TEXT), json_values)),
        "to": draw(st.one_of(st.lists(st.emails(), max_size=3), st.sampled_from(HOSTILE_TEXT))),
        "bounce": draw(st.just({"type": "Permanent"}) | json_values),
    }
    return {"type": draw(st.sampled_from(kinds + HOSTILE_TEXT[:6])), "data": data}


@st.composite
def hostile_booking(draw: st.DrawFn) -> dict[str, Any]:
    attendees = draw(
        st.lists(st.fixed_dictionaries({"email": st.emails() | st.sampled_from(HOSTILE_TEXT)}))
        | json_values
    )
    trigger = draw(st.sampled_from(["BOOKING_CREATED", "PING", *HOSTILE_TEXT]))
    return {"triggerEvent": trigger, "payload": {"attendees": attendees}}


ENCODINGS = ["utf-8", "utf-16", "utf-32", "latin-1"]
generic_bodies = st.one_of(
    st.binary(max_size=512),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.tuples(json_values, st.sampled_from(ENCODINGS)).map(lambda pair: _encode(*pair)),
    st.sampled_from([64 * 1024 + 1, 256 * 1024 + 1, 1024 * 1024]).map(lambda n: b"[" * n),
)
# What each endpoint would accept if it were well formed, and how it is signed.
SHAPES: dict[str, tuple[st.SearchStrategy[Any], str]] = {
    "/webhooks/signup": (hostile_signup(), "signup"),
    "/webhooks/resend": (hostile_event(), "svix"),
    "/webhooks/booking": (hostile_booking(), "cal"),
    "/unsubscribe": (json_values, "none"),
    "/healthz": (json_values, "none"),
}
SIGNINGS = ["none", "random", "signup", "svix", "cal", "swapped", "stale"]
tokens = st.one_of(
    st.text(max_size=120),
    st.sampled_from(HOSTILE_TEXT),
    st.just(make_token(SEEDED, "another-secret")),
    st.just(unsubscribe_token(SEEDED)[:-3] + "abc"),
)


def _encode(value: Any, encoding: str) -> bytes:
    if encoding == "latin-1":
        return json.dumps(value).encode("latin-1", "replace")
    return json.dumps(value, ensure_ascii=False).encode(encoding, "surrogatepass")


@dataclass
class HostileRequest:
    method: str
    path: str
    body: bytes
    headers: dict[str, Any]
    params: dict[str, str] | None


@st.composite
def hostile_requests(draw: st.DrawFn) -> HostileRequest:
    """Mostly the right method, signing scheme and payload shape, so the deep paths are reached."""
    verb, path = draw(st.sampled_from(ENDPOINTS))
    method = draw(st.sampled_from([verb] * 9 + ["PUT", "DELETE", "PATCH"]))
    shape, right_signing = SHAPES[path]
    encodings = st.sampled_from(["utf-8"] * len(ENCODINGS) + ENCODINGS)
    payload = st.tuples(shape, encodings).map(lambda pair: _encode(*pair))
    body = draw(st.one_of(payload, payload, generic_bodies))
    kind = draw(st.sampled_from([right_signing] * len(SIGNINGS) + SIGNINGS))
    headers = _headers(kind, body, draw(random_headers))
    token = draw(st.none() | tokens)
    return HostileRequest(method, path, body, headers, {"token": token} if token else None)


def _headers(kind: str, body: bytes, extra: dict[str, bytes]) -> dict[str, Any]:
    stale = int(time.time()) - 3600
    signed: dict[str, dict[str, str]] = {
        "none": {},
        "random": {},
        "signup": sign_standard(SIGNUP_SECRET, body),
        "svix": sign_standard(RESEND_SECRET, body, prefix="svix"),
        "cal": sign_cal(body, BOOKING_SECRET),
        "swapped": sign_standard(SIGNUP_SECRET, body, prefix="svix") | sign_cal(body, "wrong"),
        "stale": sign_standard(SIGNUP_SECRET, body, timestamp=stale)
        | sign_standard(RESEND_SECRET, body, prefix="svix", timestamp=stale),
    }
    return (extra if kind == "random" else {}) | signed[kind]


@pytest.fixture
def seeded(service: Service) -> Service:
    service.seed_send(service.seed_contact(SEEDED), 1, SEEDED_RESEND_ID)
    return service


@settings(
    max_examples=500,
    database=None,  # no .hypothesis folder in the checkout; a failure prints its example
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(request=hostile_requests())
def test_hostile_requests_never_fail_start_a_run_or_write(
    seeded: Service, request: HostileRequest
) -> None:
    """Any request answers below 500 and neither reaches Prefect nor writes to Notion."""
    try:
        response = seeded.client.request(
            request.method,
            request.path,
            content=request.body,
            headers=request.headers,
            params=request.params,
        )
    except (httpx.InvalidURL, UnicodeEncodeError):
        return  # a token httpx itself cannot put in a URL never reaches the service
    event(f"{request.method} {request.path}: {response.status_code}")
    assert response.status_code < 500 or request.path == "/healthz", response.text
    assert response.status_code != 202
    assert seeded.flow_runs.calls == []
    assert seeded.cancel.calls == []
    assert seeded.notion_writes() == []
