"""The Notion stand-in, exercised over real HTTP through the real `notion_client` SDK."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from notion_client import Client
from notion_client.errors import APIResponseError, HTTPResponseError, RequestTimeoutError
from notion_client.helpers import collect_paginated_api

from campaigns.standins.notion import NotionStandIn

TOKEN = "ntn_standin_test"
PARENT = {"type": "page_id", "page_id": "00000000-0000-4000-8000-000000000001"}
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Notion-Version": "2025-09-03"}


def text(value: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": {"content": value}}]


@pytest.fixture
def notion() -> Iterator[NotionStandIn]:
    with NotionStandIn(token=TOKEN) as server:
        yield server


def make_client(url: str, **options: Any) -> Client:
    return Client(
        auth=TOKEN, base_url=url, retry=False, logger=logging.getLogger("test.notion"), **options
    )


@pytest.fixture
def client(notion: NotionStandIn) -> Client:
    return make_client(notion.url)


def make_people(client: Client) -> str:
    """The data source of a small People database (relation target)."""
    db = client.databases.create(
        parent=PARENT,
        title=text("People"),
        initial_data_source={"properties": {"Name": {"title": {}}}},
    )
    return str(db["data_sources"][0]["id"])


def make_log(client: Client, people: str) -> str:
    """The data source of a database with one property of every type the project uses."""
    properties = {
        "Name": {"title": {}},
        "Body": {"rich_text": {}},
        "Email": {"email": {}},
        "Website": {"url": {}},
        "Phone": {"phone_number": {}},
        "Score": {"number": {}},
        "Segment": {"select": {"options": [{"name": n} for n in ("CRITICAL", "URGENT")]}},
        "Stage": {"status": {}},
        "Opted In": {"checkbox": {}},
        "Sent At": {"date": {}},
        "Contact": {"relation": {"data_source_id": people, "single_property": {}}},
    }
    db = client.databases.create(
        parent=PARENT, title=text("Log"), initial_data_source={"properties": properties}
    )
    return str(db["data_sources"][0]["id"])


@pytest.fixture
def people(client: Client) -> str:
    return make_people(client)


@pytest.fixture
def log_ds(client: Client, people: str) -> str:
    return make_log(client, people)


def create(client: Client, ds: str, **props: Any) -> dict[str, Any]:
    parent = {"type": "data_source_id", "data_source_id": ds}
    return dict(client.pages.create(parent=parent, properties=props))


def names(result: dict[str, Any]) -> list[str]:
    return [p["properties"]["Name"]["title"][0]["plain_text"] for p in result["results"]]


def test_create_database_and_retrieve_data_source(client: Client, people: str) -> None:
    """A created database lists its data source, whose schema carries ids, types and options."""
    db = client.databases.create(
        parent=PARENT,
        title=text("Contacts"),
        initial_data_source={
            "properties": {
                "Name": {"title": {}},
                "Segment": {"select": {"options": [{"name": "A"}]}},
            }
        },
    )
    assert db["object"] == "database" and db["in_trash"] is False
    assert db["parent"] == PARENT and db["title"][0]["plain_text"] == "Contacts"
    fetched = client.databases.retrieve(database_id=db["id"])
    ds_id = fetched["data_sources"][0]["id"]
    assert fetched["data_sources"] == [{"id": ds_id, "name": "Contacts"}]
    source = client.data_sources.retrieve(data_source_id=ds_id)
    assert source["object"] == "data_source"
    assert source["parent"] == {"type": "database_id", "database_id": db["id"]}
    assert source["properties"]["Name"] == {
        "id": "title",
        "name": "Name",
        "type": "title",
        "title": {},
    }
    option = source["properties"]["Segment"]["select"]["options"][0]
    assert option["name"] == "A" and option["color"] and uuid.UUID(option["id"])


def test_page_object_has_notion_shape(client: Client, log_ds: str, people: str) -> None:
    """A created page returns every schema property, set ones typed and unset ones empty."""
    person = create(client, people, Name={"title": text("Pat")})
    page = create(
        client,
        log_ds,
        Name={"title": text("Hello")},
        Email={"email": "a@example.com"},
        Segment={"select": {"name": "URGENT"}},
        **{"Sent At": {"date": {"start": "2025-09-03T12:00:00Z"}}},
        Contact={"relation": [{"id": person["id"].replace("-", "")}]},
    )
    assert page["object"] == "page" and uuid.UUID(page["id"]).version == 4
    assert page["created_time"].endswith("Z") and page["in_trash"] is False
    assert page["parent"]["data_source_id"] == log_ds and page["parent"]["database_id"]
    props = page["properties"]
    title = props["Name"]["title"][0]
    assert title["plain_text"] == "Hello" and title["text"] == {"content": "Hello", "link": None}
    assert title["annotations"]["bold"] is False and title["href"] is None
    assert props["Segment"]["select"]["name"] == "URGENT"
    assert props["Sent At"]["date"] == {
        "start": "2025-09-03T12:00:00.000+00:00",
        "end": None,
        "time_zone": None,
    }
    assert props["Contact"] == {
        "id": props["Contact"]["id"],
        "type": "relation",
        "relation": [{"id": person["id"]}],
        "has_more": False,
    }
    assert props["Body"]["rich_text"] == [] and props["Score"]["number"] is None
    assert props["Opted In"]["checkbox"] is False and props["Stage"]["status"] is None
    assert client.pages.retrieve(page_id=page["id"])["properties"] == props


def test_database_id_parent_resolves_to_its_data_source(client: Client, people: str) -> None:
    """A page created under a database id lands in that database's data source."""
    db_id = client.data_sources.retrieve(data_source_id=people)["parent"]["database_id"]
    page = client.pages.create(
        parent={"database_id": db_id}, properties={"Name": {"title": text("Via db")}}
    )
    assert page["parent"]["data_source_id"] == people


def test_update_page_and_trash_hides_it_from_queries(client: Client, log_ds: str) -> None:
    """PATCH changes properties; a trashed page leaves query results but can still be read."""
    page = create(client, log_ds, Name={"title": text("A")}, Score={"number": 1})
    updated = client.pages.update(page_id=page["id"], properties={"Score": {"number": 2}})
    assert updated["properties"]["Score"]["number"] == 2
    assert updated["properties"]["Name"]["title"][0]["plain_text"] == "A"
    client.pages.update(page_id=page["id"], in_trash=True)
    assert client.data_sources.query(log_ds)["results"] == []
    trashed = client.pages.retrieve(page_id=page["id"])
    assert trashed["in_trash"] is True and trashed["archived"] is True


def test_new_select_option_is_added_to_the_schema(client: Client, log_ds: str) -> None:
    """Writing a select name that does not exist yet creates the option, as Notion does."""
    create(client, log_ds, Name={"title": text("A")}, Segment={"select": {"name": "OPTIMIZE"}})
    options = client.data_sources.retrieve(data_source_id=log_ds)["properties"]["Segment"]
    assert [o["name"] for o in options["select"]["options"]] == ["CRITICAL", "URGENT", "OPTIMIZE"]


def test_data_source_update_renames_adds_and_deletes(client: Client, log_ds: str) -> None:
    """A rename keeps the values, a new property appears empty, a deleted one disappears."""
    page = create(client, log_ds, Name={"title": text("A")}, Body={"rich_text": text("kept")})
    client.data_sources.update(
        log_ds,
        properties={"Body": {"name": "Notes"}, "Extra": {"number": {}}, "Phone": None},
    )
    props = client.pages.retrieve(page_id=page["id"])["properties"]
    assert props["Notes"]["rich_text"][0]["plain_text"] == "kept"
    assert props["Extra"] == {"id": props["Extra"]["id"], "type": "number", "number": None}
    assert "Body" not in props and "Phone" not in props


@pytest.fixture(scope="module")
def seeded() -> Iterator[tuple[Client, str, list[str]]]:
    """One stand-in for the read-only query tests: rows Alice, Bob and an empty Carol."""
    with NotionStandIn(token=TOKEN) as server:
        client = make_client(server.url)
        people = make_people(client)
        log_ds = make_log(client, people)
        yield client, log_ds, seed(client, log_ds, people)


def seed(client: Client, log_ds: str, people: str) -> list[str]:
    p1 = create(client, people, Name={"title": text("P1")})["id"]
    p2 = create(client, people, Name={"title": text("P2")})["id"]
    create(
        client,
        log_ds,
        Name={"title": text("Alice")},
        Body={"rich_text": text("Hello World")},
        Email={"email": "alice@example.com"},
        Website={"url": "https://a.example"},
        Phone={"phone_number": "+1 555 0100"},
        Score={"number": 10},
        Segment={"select": {"name": "CRITICAL"}},
        Stage={"status": {"name": "In progress"}},
        **{"Opted In": {"checkbox": True}, "Sent At": {"date": {"start": "2025-12-01T10:00:00Z"}}},
        Contact={"relation": [{"id": p1}]},
    )
    create(
        client,
        log_ds,
        Name={"title": text("Bob")},
        Body={"rich_text": text("goodbye")},
        Email={"email": "bob@example.org"},
        Score={"number": 5.5},
        Segment={"select": {"name": "URGENT"}},
        Stage={"status": {"name": "Done"}},
        **{"Sent At": {"date": {"start": "2025-12-02"}}},
        Contact={"relation": [{"id": p2}]},
    )
    create(client, log_ds, Name={"title": text("Carol")})
    return [p1, p2]


FILTERS: list[tuple[str, dict[str, Any], list[str]]] = [
    ("title equals", {"property": "Name", "title": {"equals": "Alice"}}, ["Alice"]),
    ("title equals is exact", {"property": "Name", "title": {"equals": "alice"}}, []),
    ("title starts_with", {"property": "Name", "title": {"starts_with": "b"}}, ["Bob"]),
    ("title ends_with", {"property": "Name", "title": {"ends_with": "OL"}}, ["Carol"]),
    ("text contains", {"property": "Body", "rich_text": {"contains": "world"}}, ["Alice"]),
    (
        "text does_not_contain",
        {"property": "Body", "rich_text": {"does_not_contain": "hello"}},
        ["Bob", "Carol"],
    ),
    ("text is_empty", {"property": "Body", "rich_text": {"is_empty": True}}, ["Carol"]),
    ("email equals", {"property": "Email", "email": {"equals": "bob@example.org"}}, ["Bob"]),
    (
        "email does_not_equal",
        {"property": "Email", "email": {"does_not_equal": "bob@example.org"}},
        ["Alice", "Carol"],
    ),
    ("url is_not_empty", {"property": "Website", "url": {"is_not_empty": True}}, ["Alice"]),
    ("phone contains", {"property": "Phone", "phone_number": {"contains": "555"}}, ["Alice"]),
    ("number equals", {"property": "Score", "number": {"equals": 5.5}}, ["Bob"]),
    ("number greater_than", {"property": "Score", "number": {"greater_than": 5.5}}, ["Alice"]),
    (
        "number less_than_or_equal_to",
        {"property": "Score", "number": {"less_than_or_equal_to": 10}},
        ["Alice", "Bob"],
    ),
    ("number is_empty", {"property": "Score", "number": {"is_empty": True}}, ["Carol"]),
    ("select equals", {"property": "Segment", "select": {"equals": "URGENT"}}, ["Bob"]),
    (
        "select does_not_equal",
        {"property": "Segment", "select": {"does_not_equal": "URGENT"}},
        ["Alice", "Carol"],
    ),
    ("select is_empty", {"property": "Segment", "select": {"is_empty": True}}, ["Carol"]),
    ("status equals", {"property": "Stage", "status": {"equals": "Done"}}, ["Bob"]),
    ("checkbox equals", {"property": "Opted In", "checkbox": {"equals": False}}, ["Bob", "Carol"]),
    ("date equals day", {"property": "Sent At", "date": {"equals": "2025-12-01"}}, ["Alice"]),
    (
        "date on_or_after",
        {"property": "Sent At", "date": {"on_or_after": "2025-12-01T10:00:00Z"}},
        ["Alice", "Bob"],
    ),
    ("date before", {"property": "Sent At", "date": {"before": "2025-12-02"}}, ["Alice"]),
    ("date is_empty", {"property": "Sent At", "date": {"is_empty": True}}, ["Carol"]),
    ("relation is_empty", {"property": "Contact", "relation": {"is_empty": True}}, ["Carol"]),
    (
        "or of and",
        {
            "or": [
                {
                    "and": [
                        {"property": "Score", "number": {"greater_than": 1}},
                        {"property": "Segment", "select": {"equals": "URGENT"}},
                    ]
                },
                {"property": "Name", "title": {"equals": "Carol"}},
            ]
        },
        ["Bob", "Carol"],
    ),
    (
        "created_time",
        {"timestamp": "created_time", "created_time": {"after": "2000-01-01"}},
        [
            "Alice",
            "Bob",
            "Carol",
        ],
    ),
]


@pytest.mark.parametrize(("flt", "expected"), [f[1:] for f in FILTERS], ids=[f[0] for f in FILTERS])
def test_filter_families(
    seeded: tuple[Client, str, list[str]], flt: dict[str, Any], expected: list[str]
) -> None:
    """Each filter family and condition selects the rows Notion would select."""
    client, ds, _ = seeded
    assert names(client.data_sources.query(ds, filter=flt)) == expected


def test_relation_contains_filter(seeded: tuple[Client, str, list[str]]) -> None:
    """A relation `contains` filter matches pages linked to that page id, dashes or not."""
    client, ds, (p1, p2) = seeded
    flt = {"property": "Contact", "relation": {"contains": p2.replace("-", "")}}
    assert names(client.data_sources.query(ds, filter=flt)) == ["Bob"]
    flt = {"property": "Contact", "relation": {"does_not_contain": p1}}
    assert names(client.data_sources.query(ds, filter=flt)) == ["Bob", "Carol"]


@pytest.mark.parametrize(
    ("flt", "message"),
    [
        ({"property": "Nope", "title": {"equals": "x"}}, "Could not find property"),
        ({"property": "Email", "rich_text": {"equals": "x"}}, "of type email"),
        ({"property": "Score", "number": {"equals": "ten"}}, "not a valid number filter"),
    ],
)
def test_bad_filter_is_validation_error(
    client: Client, log_ds: str, flt: dict[str, Any], message: str
) -> None:
    """A filter on a missing property, with the wrong type key or argument, is a 400."""
    with pytest.raises(APIResponseError) as caught:
        client.data_sources.query(log_ds, filter=flt)
    assert caught.value.status == 400 and caught.value.code == "validation_error"
    assert message in str(caught.value)


def test_sorts_by_property_and_timestamp(seeded: tuple[Client, str, list[str]]) -> None:
    """Sorts order by property (empties last) or timestamp; no sort means creation order."""
    client, ds, _ = seeded
    assert names(client.data_sources.query(ds)) == ["Alice", "Bob", "Carol"]
    by_score = [{"property": "Score", "direction": "ascending"}]
    assert names(client.data_sources.query(ds, sorts=by_score)) == ["Bob", "Alice", "Carol"]
    by_score[0]["direction"] = "descending"
    assert names(client.data_sources.query(ds, sorts=by_score)) == ["Alice", "Bob", "Carol"]
    newest = [{"timestamp": "created_time", "direction": "descending"}]
    assert names(client.data_sources.query(ds, sorts=newest)) == ["Carol", "Bob", "Alice"]


def test_pagination_over_250_pages(client: Client, people: str) -> None:
    """250 pages come back in three pages of at most 100, with cursors, all exactly once."""
    for i in range(250):
        create(client, people, Name={"title": text(f"p{i:03}")})
    first = client.data_sources.query(people, page_size=100)
    assert len(first["results"]) == 100 and first["has_more"] is True
    assert first["type"] == "page_or_data_source" and first["next_cursor"]
    everything = collect_paginated_api(client.data_sources.query, data_source_id=people)
    assert [p["properties"]["Name"]["title"][0]["plain_text"] for p in everything] == [
        f"p{i:03}" for i in range(250)
    ]
    with pytest.raises(APIResponseError) as caught:
        client.data_sources.query(people, page_size=101)
    assert caught.value.code == "validation_error"


def test_text_limit_counts_utf16_units(client: Client, log_ds: str) -> None:
    """2000 UTF-16 units per text item pass; 2001 fail, an emoji counting as two units."""
    create(client, log_ds, Name={"title": text("ok")}, Body={"rich_text": text("x" * 2000)})
    create(
        client, log_ds, Name={"title": text("ok")}, Body={"rich_text": text("\U0001f600" * 1000)}
    )
    for too_long in ("x" * 2001, "\U0001f600" * 1000 + "x"):
        with pytest.raises(APIResponseError) as caught:
            create(client, log_ds, Body={"rich_text": text(too_long)})
        assert caught.value.code == "validation_error"
        assert (
            "body.properties.Body.rich_text[0].text.content.length should be ≤ 2000, "
            "instead was 2001" in str(caught.value)
        )


def test_array_limit_of_100_items(client: Client, log_ds: str, people: str) -> None:
    """Rich-text and relation arrays take 100 items and reject 101."""
    create(client, log_ds, Body={"rich_text": text("a") * 100})
    with pytest.raises(APIResponseError, match=r"rich_text.length should be ≤ 100"):
        create(client, log_ds, Body={"rich_text": text("a") * 101})
    person = create(client, people, Name={"title": text("P")})["id"]
    with pytest.raises(APIResponseError, match=r"relation.length should be ≤ 100"):
        create(client, log_ds, Contact={"relation": [{"id": person}] * 101})


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"Missing": {"rich_text": []}}, "Missing is not a property that exists."),
        ({"Score": {"number": "ten"}}, "body.properties.Score.number should be a number"),
        ({"Email": {"rich_text": text("x")}}, "Email is expected to be email."),
        ({"Email": {"email": "a" * 201}}, "email.length should be ≤ 200, instead was 201"),
        ({"Stage": {"status": {"name": "Nope"}}}, "does not exist"),
        ({"Contact": {"relation": [{"id": "nope"}]}}, "should be a valid uuid"),
    ],
)
def test_invalid_writes_are_rejected_whole(
    client: Client, log_ds: str, notion: NotionStandIn, props: dict[str, Any], message: str
) -> None:
    """An unknown property or an ill-typed value is a 400 naming it, and nothing is stored."""
    with pytest.raises(APIResponseError) as caught:
        create(client, log_ds, Name={"title": text("x")}, **props)
    assert caught.value.status == 400 and caught.value.code == "validation_error"
    assert message in str(caught.value)
    assert notion.rows(log_ds) == []


def test_unknown_ids_are_404(client: Client) -> None:
    """Unknown page, database and data source ids answer 404 object_not_found."""
    missing = str(uuid.uuid4())
    for call in (
        lambda: client.pages.retrieve(page_id=missing),
        lambda: client.databases.retrieve(database_id=missing),
        lambda: client.data_sources.query(missing),
        lambda: client.blocks.children.list(block_id=missing),
    ):
        with pytest.raises(APIResponseError) as caught:
            call()
        assert caught.value.status == 404 and caught.value.code == "object_not_found"


def test_page_children_are_an_empty_list(client: Client, people: str) -> None:
    """A page's block children are an empty list envelope, enough for the SDK."""
    page = create(client, people, Name={"title": text("P")})
    children = client.blocks.children.list(block_id=page["id"])
    assert children["object"] == "list" and children["results"] == []
    assert children["has_more"] is False


def test_protocol_errors_over_raw_http(notion: NotionStandIn) -> None:
    """Malformed JSON, a missing Notion-Version and a bad token get Notion's error bodies."""
    url = f"{notion.url}/v1/pages"
    bad_json = httpx.post(url, headers=HEADERS, content=b"{not json")
    assert bad_json.status_code == 400 and bad_json.json()["code"] == "invalid_json"
    no_version = httpx.post(url, headers={"Authorization": f"Bearer {TOKEN}"}, json={})
    assert no_version.status_code == 400 and no_version.json()["code"] == "missing_version"
    for auth in ({}, {"Authorization": "Bearer wrong"}):
        reply = httpx.post(url, headers={"Notion-Version": "2025-09-03", **auth}, json={})
        body = reply.json()
        assert reply.status_code == 401 and body["code"] == "unauthorized"
        assert body["object"] == "error" and body["status"] == 401 and body["request_id"]


def test_rate_limit_answers_429_with_retry_after() -> None:
    """Past the burst, requests get 429 rate_limited with an integer Retry-After of at least 1."""
    with NotionStandIn(token=TOKEN, rate_limit=0.5, burst=2) as notion:
        client = make_client(notion.url)
        missing = str(uuid.uuid4())
        statuses = []
        for _ in range(3):
            try:
                client.pages.retrieve(page_id=missing)
            except APIResponseError as exc:
                statuses.append(exc.status)
                error = exc
        assert statuses == [404, 404, 429]
        assert error.code == "rate_limited" and int(error.headers["retry-after"]) >= 1


def test_failure_before_stores_nothing(client: Client, notion: NotionStandIn, people: str) -> None:
    """A "before" failure answers the error without processing; the next request succeeds."""
    notion.inject_failure(method="POST", path=r"^/v1/pages$", status=503, count=1)
    with pytest.raises(APIResponseError) as caught:
        create(client, people, Name={"title": text("A")})
    assert caught.value.status == 503 and caught.value.code == "service_unavailable"
    assert notion.rows(people) == []
    create(client, people, Name={"title": text("A")})
    assert [row["Name"] for row in notion.rows(people)] == ["A"]


def test_failure_after_keeps_the_write(client: Client, notion: NotionStandIn, people: str) -> None:
    """An "after" failure answers an error although the write happened."""
    notion.inject_failure(method="POST", path="/v1/pages", status=500, when="after")
    with pytest.raises(APIResponseError):
        create(client, people, Name={"title": text("A")})
    assert [row["Name"] for row in notion.rows(people)] == ["A"]


def test_delay_after_simulates_a_client_timeout(notion: NotionStandIn, people: str) -> None:
    """A delayed "after" reply makes the client time out although the page was created."""
    notion.inject_failure(method="POST", path="/v1/pages", status=None, delay=0.6, when="after")
    impatient = make_client(notion.url, timeout_ms=200)
    with pytest.raises(RequestTimeoutError):
        create(impatient, people, Name={"title": text("A")})
    assert [row["Name"] for row in notion.rows(people)] == ["A"]


def test_control_endpoints_over_http(client: Client, notion: NotionStandIn, people: str) -> None:
    """Failures can be scripted over HTTP (529 service_overload), and the log read and reset."""
    script = {"method": "GET", "path": "^/v1/data_sources/", "status": 529, "retry_after": 2}
    added = httpx.post(f"{notion.url}/__standin/failures", json=script)
    assert added.status_code == 201
    with pytest.raises(HTTPResponseError) as caught:
        client.data_sources.retrieve(data_source_id=people)
    assert (
        caught.value.status == 529 and json.loads(caught.value.body)["code"] == "service_overload"
    )
    assert caught.value.headers["retry-after"] == "2"
    log = httpx.get(f"{notion.url}/__standin/requests").json()
    assert log[-1]["status"] == 529 and log[-1]["method"] == "GET" and log[-1]["at"]
    assert httpx.post(f"{notion.url}/__standin/reset", json={}).status_code == 200
    assert notion.requests == [] and notion.rows(people) == []  # data kept; People is empty
    assert client.data_sources.retrieve(data_source_id=people)["id"] == people


def test_reset_with_data_forgets_everything(
    client: Client, notion: NotionStandIn, people: str
) -> None:
    """`reset(data=True)` drops every database and page."""
    notion.reset(data=True)
    with pytest.raises(APIResponseError):
        client.data_sources.retrieve(data_source_id=people)


def test_state_survives_a_restart(tmp_path: Path) -> None:
    """With a state file, databases, pages and select options survive a stop and a new start."""
    state = tmp_path / "notion.json"
    with NotionStandIn(token=TOKEN, state_path=state) as first:
        db_id, ds_id = first.create_database(
            "Contacts", {"Name": {"title": {}}, "Tier": {"select": {}}}
        )
        create(
            make_client(first.url),
            ds_id,
            Name={"title": text("A")},
            Tier={"select": {"name": "Gold"}},
        )
    assert json.loads(state.read_text())["pages"]
    assert [p.name for p in tmp_path.iterdir()] == ["notion.json"]  # no temp file left behind
    with NotionStandIn(token=TOKEN, state_path=state) as second:
        client = make_client(second.url)
        assert client.databases.retrieve(database_id=db_id)["data_sources"][0]["id"] == ds_id
        flt = {"property": "Tier", "select": {"equals": "Gold"}}
        assert names(client.data_sources.query(ds_id, filter=flt)) == ["A"]


def test_python_api(notion: NotionStandIn) -> None:
    """The Python helpers create databases and pages with API validation and read them back."""
    db_id, ds_id = notion.create_database(
        "Tasks", {"Name": {"title": {}}, "Done": {"checkbox": {}}}
    )
    page = notion.create_page(ds_id, {"Name": {"title": text("T")}, "Done": {"checkbox": True}})
    assert notion.page(page["id"])["properties"]["Done"]["checkbox"] is True
    assert notion.rows(db_id) == [{"id": page["id"], "Name": "T", "Done": True}]
    assert [d["id"] for d in notion.databases] == [db_id]
    assert notion.data_source(ds_id)["properties"]["Done"]["type"] == "checkbox"
    assert [p["id"] for p in notion.pages] == [page["id"]]


def test_command_line_serves_until_terminated(tmp_path: Path) -> None:
    """`python -m campaigns.standins notion` prints its URL, serves, and stops on SIGTERM."""
    proc = subprocess.Popen(  # noqa: S603 (fixed argv)
        [sys.executable, "-m", "campaigns.standins", "notion", "--port", "0", "--token", TOKEN],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        url = line.rsplit(" ", 1)[-1]
        assert line.startswith("notion stand-in listening on http://127.0.0.1:")
        missing = str(uuid.uuid4())
        reply = httpx.get(f"{url}/v1/pages/{missing}", headers=HEADERS)
        assert reply.status_code == 404
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_rate_limit_can_change_while_running(notion: NotionStandIn, client: Client) -> None:
    """`set_rate_limit` tightens the limit of a running stand-in, and None lifts it."""
    notion.set_rate_limit(0.5, burst=1)
    missing = str(uuid.uuid4())
    codes = []
    for _ in range(2):
        with pytest.raises(APIResponseError) as caught:
            client.pages.retrieve(page_id=missing)
        codes.append(caught.value.code)
    assert codes == ["object_not_found", "rate_limited"]
    notion.set_rate_limit(None)
    with pytest.raises(APIResponseError, match="Could not find page"):
        client.pages.retrieve(page_id=missing)
