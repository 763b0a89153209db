"""`GET /healthz` and the small parts of the service: the memories, keyed locks, request budgets,
the factory."""

from __future__ import annotations

import asyncio
import logging

import pytest

from campaigns.notion_crm import NotionCRM
from campaigns.settings import NotionAccess, PrefectAccess
from campaigns.standins.notion import NotionStandIn
from campaigns.tests.webhook_service.conftest import Service, build_service
from campaigns.webhook_service import app as app_module
from campaigns.webhook_service.app import app_from_env
from campaigns.webhook_service.concurrency import KeyedLocks, RequestBudget
from campaigns.webhook_service.dedup import ExpiringMap, MemorySeenIds


def test_healthz_is_200_when_everything_answers(service: Service) -> None:
    """With Notion, Resend settings and Prefect all fine the report says ok."""
    response = service.client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "notion": {"configured": True, "reachable": True},
        "resend": {"configured": True},
        "prefect": {"reachable": True},
    }


def test_healthz_names_an_unreachable_part(service: Service) -> None:
    """Prefect down and Notion failing each show in the report, with a 503."""
    service.flow_runs.down = True
    service.notion.inject_failure(status=503, count=None)
    response = service.client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["prefect"] == {"reachable": False}
    assert body["notion"] == {"configured": True, "reachable": False}


def test_healthz_reports_missing_resend_settings(
    notion_standin: NotionStandIn, notion_crm: NotionCRM
) -> None:
    """Without a Resend API key no email can go out, and the report says so."""
    service = build_service(notion_standin, notion_crm, settings={"resend_api_key": None})
    response = service.client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["resend"] == {"configured": False}


def test_seen_ids_expire_after_their_ttl() -> None:
    """An id is seen until its time to live has passed, then forgotten."""
    now = [1000.0]
    ids = MemorySeenIds(ttl_seconds=600, clock=lambda: now[0])
    ids.remember("a")
    now[0] += 300
    ids.remember("b")
    assert ids.seen("a") and ids.seen("b")
    now[0] += 301
    assert not ids.seen("a") and ids.seen("b")
    assert len(ids) == 1


def test_an_expiring_map_keeps_the_newest_entries_up_to_its_size() -> None:
    """Beyond its size the entries put longest ago are dropped; putting again refreshes one."""
    kept: ExpiringMap[int] = ExpiringMap(ttl_seconds=600, max_size=2)
    kept.put("a", 1)
    kept.put("b", 2)
    kept.put("a", 3)
    kept.put("c", 4)
    assert (kept.get("a"), kept.get("b"), kept.get("c")) == (3, None, 4)
    assert len(kept) == 2


def test_a_request_budget_refuses_until_the_window_slides() -> None:
    """Three requests a minute per key: the fourth waits for the first to leave the window."""
    now = [1000.0]
    budget = RequestBudget(requests=3, window_seconds=60, clock=lambda: now[0])
    waits = []
    for step in (0, 10, 10, 10, 15.5, 15):  # seconds before each request
        now[0] += step
        waits.append(budget.take("link"))
    assert waits == [0, 0, 0, 30, 15, 0]
    assert budget.take("another link") == 0


def test_keyed_locks_serialise_one_key_and_are_forgotten() -> None:
    """Holders of one key run one at a time; no lock is kept once nobody holds it."""
    locks = KeyedLocks()
    inside: list[int] = []
    peak: list[int] = []

    async def hold(key: str) -> None:
        async with locks.hold(key):
            inside.append(1)
            peak.append(len(inside))
            await asyncio.sleep(0.01)
            inside.pop()

    async def main() -> None:
        await asyncio.gather(*(hold("same") for _ in range(5)))

    asyncio.run(main())
    assert max(peak) == 1
    assert locks._locks == {}


def test_the_factory_stops_naming_a_missing_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    """uvicorn's factory exits with a message naming the missing variable."""
    for name in (*NotionAccess.variables(), "SIGNUP_WEBHOOK_SECRET", *PrefectAccess.variables()):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(str(tmp_path))
    # keep caplog working
    monkeypatch.setattr(app_module, "configure_service_logging", lambda: None)
    with pytest.raises(SystemExit, match="NOTION_TOKEN"):
        app_from_env()


def test_access_lines_drop_the_query_string() -> None:
    """An unsubscribe token (it names the contact) never reaches the access log."""
    args = ("127.0.0.1:5000", "POST", "/unsubscribe?token=abc.def", "1.1", 200)
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, "", 0, '%s - "%s %s" %s %d', args, None
    )
    assert app_module._path_only(record)
    assert record.getMessage() == '127.0.0.1:5000 - "POST /unsubscribe" 1.1 200'
