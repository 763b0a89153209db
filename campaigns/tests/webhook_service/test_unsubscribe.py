"""`GET` / `POST /unsubscribe`: a page that changes nothing, and an idempotent one-click POST."""

from __future__ import annotations

import logging
import re

import pytest

from campaigns.models import SequenceStatus
from campaigns.notion_crm import NotionCRM
from campaigns.standins.notion import NotionStandIn
from campaigns.tests.webhook_service.conftest import (
    DEAD_PREFECT,
    Service,
    build_service,
    service_settings,
    unsubscribe_token,
)
from campaigns.unsubscribe import make_token
from campaigns.webhook_service.services import _prefect_cancel

EMAIL = "tom@brightpathaccounting.example"
ONE_CLICK = {"content": b"List-Unsubscribe=One-Click"}
FORM = {"content-type": "application/x-www-form-urlencoded"}


def _status(crm: NotionCRM, email: str = EMAIL) -> SequenceStatus | None:
    return crm.contact_status(email)


def test_the_page_shows_a_button_and_changes_nothing(service: Service) -> None:
    """GET answers a small self-contained page with a POST button, and reads or writes nothing."""
    service.seed_contact(EMAIL)
    before = len(service.notion.requests)
    response = service.client.get("/unsubscribe", params={"token": unsubscribe_token(EMAIL)})
    assert response.status_code == 200
    page = response.text
    assert '<form method="post"' in page and "<button" in page
    assert 'name="List-Unsubscribe" value="One-Click"' in page
    assert "<script" not in page and not re.search(r"(src|href)=", page)
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert len(service.notion.requests) == before
    assert _status(service.crm) == SequenceStatus.ACTIVE
    assert service.cancel.calls == []


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_forged_or_altered_token_is_400_and_changes_nothing(
    service: Service, method: str
) -> None:
    """A token not signed with our secret, or edited, or missing, is refused on GET and POST."""
    service.seed_contact(EMAIL)
    good = unsubscribe_token(EMAIL)
    for token in [make_token(EMAIL, "another-secret"), good[:-2] + "xx", "", "é" * 10]:
        response = service.client.request(method, "/unsubscribe", params={"token": token})
        assert response.status_code == 400, token
    assert service.client.request(method, "/unsubscribe").status_code == 400
    assert service.notion_writes() == []
    assert _status(service.crm) == SequenceStatus.ACTIVE


def test_a_browser_gets_an_html_refusal(service: Service) -> None:
    """A person following a broken link sees a page, not JSON."""
    response = service.client.get(
        "/unsubscribe", params={"token": "broken"}, headers={"Accept": "text/html"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "does not work" in response.text


def test_one_click_post_unsubscribes_and_cancels(service: Service) -> None:
    """The RFC 8058 POST marks the contact Unsubscribed and cancels the rest of its sequence."""
    service.seed_contact(EMAIL)
    token = unsubscribe_token(EMAIL)
    response = service.client.post(
        "/unsubscribe", params={"token": token}, headers=FORM, **ONE_CLICK
    )
    assert response.status_code == 200
    assert _status(service.crm) == SequenceStatus.UNSUBSCRIBED
    assert service.cancel.calls == [(EMAIL, SequenceStatus.UNSUBSCRIBED)]


def test_one_click_post_is_idempotent(service: Service) -> None:
    """A second POST (the button after the mail client's one-click) is 200 and writes nothing."""
    service.seed_contact(EMAIL)
    params = {"token": unsubscribe_token(EMAIL)}
    assert service.client.post("/unsubscribe", params=params, **ONE_CLICK).status_code == 200
    writes = len(service.notion_writes())
    assert service.client.post("/unsubscribe", params=params).status_code == 200
    assert len(service.notion_writes()) == writes
    assert _status(service.crm) == SequenceStatus.UNSUBSCRIBED
    assert len(service.cancel.calls) == 1


def test_an_unknown_address_still_gets_200(service: Service) -> None:
    """A valid token for an address not on the list gets 200, revealing and writing nothing."""
    params = {"token": unsubscribe_token("stranger@example.com")}
    response = service.client.post("/unsubscribe", params=params, **ONE_CLICK)
    assert response.status_code == 200
    assert service.notion_writes() == []
    assert service.cancel.calls == []


def test_notion_down_is_503_with_retry_after(service: Service) -> None:
    """When Notion cannot be reached the POST answers 503 and Retry-After, and nothing changed."""
    service.seed_contact(EMAIL)
    service.notion.inject_failure(status=503, count=None)
    response = service.client.post(
        "/unsubscribe", params={"token": unsubscribe_token(EMAIL)}, **ONE_CLICK
    )
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    service.notion.clear_failures()
    assert _status(service.crm) == SequenceStatus.ACTIVE
    assert service.cancel.calls == []


def test_prefect_down_during_the_cancel_still_answers_200(
    notion_standin: NotionStandIn, notion_crm: NotionCRM, caplog: pytest.LogCaptureFixture
) -> None:
    """With the real cancel and no Prefect server, the contact is Unsubscribed and it is logged."""
    settings = service_settings(notion_standin, notion_crm, prefect_api_url=DEAD_PREFECT)
    service = build_service(notion_standin, notion_crm, cancel_runs=_prefect_cancel(settings))
    service.seed_contact(EMAIL)
    with caplog.at_level(logging.INFO, logger="campaigns.webhooks"):
        response = service.client.post(
            "/unsubscribe", params={"token": unsubscribe_token(EMAIL)}, **ONE_CLICK
        )
    assert response.status_code == 200
    assert _status(service.crm) == SequenceStatus.UNSUBSCRIBED
    assert "Could not cancel the scheduled runs" in caplog.text
    assert EMAIL not in caplog.text


def test_an_oversized_post_body_is_refused(service: Service) -> None:
    """A POST carrying more than a few kilobytes is refused with 413 and changes nothing."""
    service.seed_contact(EMAIL)
    params = {"token": unsubscribe_token(EMAIL)}
    response = service.client.post("/unsubscribe", params=params, content=b"x" * 5000)
    assert response.status_code == 413
    assert _status(service.crm) == SequenceStatus.ACTIVE
