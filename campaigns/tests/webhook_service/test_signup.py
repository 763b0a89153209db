"""`POST /webhooks/signup`: signature, freshness, replays and copies, strict validation, Prefect
up and down."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from decimal import Decimal
from typing import Any

import httpx
import pytest
import resend

from campaigns.christmas_campaign.sequence import CAMPAIGN
from campaigns.errors import SettingsError
from campaigns.idempotency import signup_key
from campaigns.local_stack import free_port
from campaigns.models import Signup
from campaigns.notion_crm import NotionCRM
from campaigns.standins.notion import NotionStandIn
from campaigns.tests.webhook_service.conftest import (
    RESEND_SECRET,
    SIGNUP,
    SIGNUP_SECRET,
    Service,
    as_json,
    asgi_client,
    build_service,
    service_settings,
    sign_standard,
)
from campaigns.webhook_service.app import create_app
from campaigns.webhook_service.prefect_runs import PrefectFlowRuns
from campaigns.webhook_service.signatures import StandardWebhookVerifier, decode_whsec

BODY = as_json(SIGNUP.model_dump(mode="json"))


def _post(service: Service, body: bytes = BODY, **sign: Any) -> httpx.Response:
    return service.client.post(
        "/webhooks/signup", content=body, headers=sign_standard(SIGNUP_SECRET, body, **sign)
    )


def test_signed_signup_creates_the_orchestrator_run(service: Service) -> None:
    """A correctly signed signup answers 202 with the run id Prefect gave, for its parameters."""
    response = _post(service)
    assert response.status_code == 202
    [(parameters, key)] = service.flow_runs.calls
    assert response.json() == {"flow_run_id": service.flow_runs.runs[key]}
    assert Signup.model_validate(parameters) == SIGNUP
    assert key == signup_key(CAMPAIGN, SIGNUP) and key.startswith("christmas/signup/")


@pytest.mark.parametrize("header", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_signature_header_is_401(service: Service, header: str) -> None:
    """Without any one of the three Standard Webhooks headers the request is refused."""
    headers = sign_standard(SIGNUP_SECRET, BODY)
    del headers[header]
    response = service.client.post("/webhooks/signup", content=BODY, headers=headers)
    assert response.status_code == 401
    assert header in response.json()["detail"]
    assert service.flow_runs.calls == []


def test_a_wrong_secret_or_an_altered_body_is_401(service: Service) -> None:
    """A signature made with another secret, or over other bytes, is refused."""
    other = service.client.post(
        "/webhooks/signup", content=BODY, headers=sign_standard(RESEND_SECRET, BODY)
    )
    altered = service.client.post(
        "/webhooks/signup",
        content=BODY.replace(b'"Tom"', b'"Eve"'),
        headers=sign_standard(SIGNUP_SECRET, BODY),
    )
    assert other.status_code == altered.status_code == 401
    assert service.flow_runs.calls == []


@pytest.mark.parametrize("offset", [-301, 301])
def test_a_timestamp_more_than_five_minutes_off_is_401(service: Service, offset: int) -> None:
    """A delivery signed more than five minutes in the past or future is refused."""
    response = _post(service, timestamp=int(time.time()) + offset)
    assert response.status_code == 401
    assert "five minutes" in response.json()["detail"]


def test_a_timestamp_within_five_minutes_is_accepted(service: Service) -> None:
    """A delivery signed four minutes ago (a slow retry) is still accepted."""
    assert _post(service, timestamp=int(time.time()) - 240).status_code == 202


def test_a_replayed_webhook_id_gets_the_same_run(service: Service) -> None:
    """A retried delivery whose 202 was lost gets 202 with the same run id, and starts nothing."""
    first = _post(service, msg_id="msg_once")
    replay = _post(service, msg_id="msg_once")
    assert first.status_code == replay.status_code == 202
    assert replay.json() == first.json()
    assert len(service.flow_runs.calls) == 1


def test_ten_concurrent_copies_of_one_delivery_start_one_run(service: Service) -> None:
    """Ten copies of one signed request in flight together: one run creation, ten equal 202s."""
    service.flow_runs.delay = 0.2  # the copies arrive while the first is still in flight
    headers = sign_standard(SIGNUP_SECRET, BODY)

    async def deliver_all() -> list[httpx.Response]:
        async with asgi_client(service.client.app) as client:
            return await asyncio.gather(
                *(client.post("/webhooks/signup", content=BODY, headers=headers) for _ in range(10))
            )

    responses = asyncio.run(asyncio.wait_for(deliver_all(), timeout=30))
    assert [r.status_code for r in responses] == [202] * 10
    assert len({r.json()["flow_run_id"] for r in responses}) == 1
    assert len(service.flow_runs.calls) == 1


def test_prefect_down_is_503_and_the_same_delivery_succeeds_later(service: Service) -> None:
    """While Prefect is down the answer is 503 with Retry-After; a retry with the same id does
    the work again and is accepted."""
    service.flow_runs.down = True
    refused = _post(service, msg_id="msg_retry")
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "30"
    service.flow_runs.down = False
    accepted = _post(service, msg_id="msg_retry")
    assert accepted.status_code == 202
    assert len(service.flow_runs.calls) == 2


def test_an_unreachable_prefect_api_is_503_quickly(
    notion_standin: NotionStandIn, notion_crm: NotionCRM
) -> None:
    """The real Prefect adapter turns a refused connection into a 503 within seconds."""
    dead = f"http://127.0.0.1:{free_port()}/api"
    service = build_service(notion_standin, notion_crm, flow_runs=PrefectFlowRuns(dead))
    started = time.monotonic()
    response = _post(service)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert time.monotonic() - started < 10


def test_an_invalid_signup_is_422_naming_each_bad_field(service: Service) -> None:
    """Every bad field is named in the one-line detail, and nothing is started."""
    bad = SIGNUP.model_dump(mode="json") | {"email": "not-an-address", "red_systems": 9}
    del bad["first_name"]
    response = _post(service, as_json(bad | {"favourite_colour": "red"}))
    assert response.status_code == 422
    detail = response.json()["detail"]
    for name in ("email", "first_name", "red_systems", "favourite_colour"):
        assert name in detail
    assert "\n" not in detail
    assert service.flow_runs.calls == []


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", "{}".encode("utf-16"), b""])
def test_a_body_that_is_not_a_json_object_is_422(service: Service, body: bytes) -> None:
    """Broken JSON, another JSON type, UTF-16 and an empty body are refused as invalid signups."""
    assert _post(service, body).status_code == 422


def test_colours_that_do_not_add_up_are_422(service: Service) -> None:
    """The cross-field rule of the signup model is reported too."""
    body = as_json(SIGNUP.model_dump(mode="json") | {"green_systems": 0})
    response = _post(service, body)
    assert response.status_code == 422
    assert "add up to 8" in response.json()["detail"]


@pytest.mark.parametrize(
    ("changes", "name"),
    [
        ({"red_systems": "2", "orange_systems": 1}, "red_systems"),
        ({"assessment_score": True}, "assessment_score"),
        ({"green_systems": "2"}, "green_systems"),
        ({"gps_score": "58"}, "gps_score"),
        ({"money_score": False}, "money_score"),
    ],
)
def test_a_string_or_boolean_for_an_integer_is_422(
    service: Service, changes: dict[str, object], name: str
) -> None:
    """At the webhook an integer field takes only a JSON integer: the 422 names the field."""
    response = _post(service, as_json(SIGNUP.model_dump(mode="json") | changes))
    assert response.status_code == 422
    assert f"{name}: Input should be a valid integer" in response.json()["detail"]
    assert service.flow_runs.calls == []


def test_the_signup_model_stays_lax_for_parsed_parameters() -> None:
    """Other callers (the Prefect UI form, the CLI) still get the model's usual coercion."""
    loose = SIGNUP.model_dump(mode="json") | {"red_systems": "1", "assessment_score": "61"}
    assert Signup.model_validate(loose) == SIGNUP


def test_an_oversized_body_is_413(service: Service) -> None:
    """A body over 64 KiB is refused before it is verified or parsed."""
    assert _post(service, b"x" * (65 * 1024)).status_code == 413


def test_the_same_signup_twice_has_one_key_and_one_run(service: Service) -> None:
    """Two deliveries of one signup (different webhook-ids, 14700 vs 14700.00) share one run."""
    first = _post(service)
    same = SIGNUP.model_dump(mode="json") | {"revenue_leak_monthly": "6250.00"}
    second = _post(service, as_json(same))
    assert first.json() == second.json()
    other = SIGNUP.model_copy(update={"assessment_score": 62})
    assert signup_key(CAMPAIGN, other) != signup_key(CAMPAIGN, SIGNUP)
    assert SIGNUP.revenue_leak_monthly == Decimal("6250")


def test_ten_concurrent_deliveries_answer_with_one_run(service: Service) -> None:
    """Ten simultaneous deliveries of one signup all get 202 with the same flow run id."""

    async def deliver_all() -> list[httpx.Response]:
        async with asgi_client(service.client.app) as client:
            return await asyncio.gather(
                *(
                    client.post(
                        "/webhooks/signup", content=BODY, headers=sign_standard(SIGNUP_SECRET, BODY)
                    )
                    for _ in range(10)
                )
            )

    responses = asyncio.run(deliver_all())
    assert {r.status_code for r in responses} == {202}
    assert len({r.json()["flow_run_id"] for r in responses}) == 1
    assert len(service.flow_runs.runs) == 1


def test_our_verifier_agrees_with_resend_sdk() -> None:
    """A Svix signature the Resend SDK accepts is accepted by the service's verifier too."""
    body = as_json({"type": "email.delivered", "data": {"email_id": "abc"}})
    headers = sign_standard(RESEND_SECRET, body, prefix="svix")
    parsed = resend.Webhooks.verify(
        {
            "payload": body.decode(),
            "headers": {
                "id": headers["svix-id"],
                "timestamp": headers["svix-timestamp"],
                "signature": headers["svix-signature"],
            },
            "webhook_secret": RESEND_SECRET,
        }
    )
    assert parsed["type"] == "email.delivered"
    verifier = StandardWebhookVerifier(decode_whsec(RESEND_SECRET, "X"), prefix="svix")
    rotated = headers | {"svix-signature": "v1,b2xk " + headers["svix-signature"]}
    assert verifier.verify(rotated, body) == headers["svix-id"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("signup_webhook_secret", None),
        ("booking_webhook_secret", None),
        ("signup_webhook_secret", "plain-text-secret"),
        ("resend_webhook_secret", "whsec_c2hvcnQ="),
    ],
)
def test_a_missing_or_malformed_secret_stops_the_start(
    notion_standin: NotionStandIn, notion_crm: NotionCRM, name: str, value: str | None
) -> None:
    """The app refuses to start, naming the setting, when a secret is missing or not whsec_."""
    settings = service_settings(notion_standin, notion_crm, **{name: value})
    with pytest.raises(SettingsError, match=name.upper()):
        create_app(settings)


def test_a_time_zone_reaches_the_orchestrator(service: Service) -> None:
    """A signup with an IANA time zone is 202, and the zone is one of the run's parameters."""
    body = as_json(SIGNUP.model_dump(mode="json") | {"timezone": "America/New_York"})
    response = _post(service, body)
    assert response.status_code == 202
    [(parameters, key)] = service.flow_runs.calls
    assert parameters["timezone"] == "America/New_York"
    assert key != signup_key(CAMPAIGN, SIGNUP)  # another zone is another signup


@pytest.mark.parametrize("zone", ["Mars/Olympus", "Etc/Unknown", 60])
def test_an_unknown_time_zone_is_422_naming_the_field(service: Service, zone: object) -> None:
    """A zone that is not an IANA name (or not a string) is a 422 naming timezone."""
    response = _post(service, as_json(SIGNUP.model_dump(mode="json") | {"timezone": zone}))
    assert response.status_code == 422
    assert "timezone" in response.json()["detail"]
    assert service.flow_runs.calls == []


def test_a_signup_without_a_zone_keeps_its_key() -> None:
    """Adding the optional zone field did not change the key of a signup that has none."""
    values = SIGNUP.model_dump()
    assert values["timezone"] is None
    with_zone = SIGNUP.model_copy(update={"timezone": "UTC"})
    assert signup_key(CAMPAIGN, with_zone) != signup_key(CAMPAIGN, SIGNUP)
    del values["timezone"]
    plain = {k: str(v) if isinstance(v, Decimal) else v for k, v in values.items()}
    canonical = json.dumps(
        plain,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    digest = hashlib.sha256(canonical.encode("ascii")).hexdigest()
    assert signup_key(CAMPAIGN, SIGNUP) == f"christmas/signup/{digest}"
