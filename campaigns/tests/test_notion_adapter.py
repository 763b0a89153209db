"""The Notion adapter through the real notion-client SDK against the stand-in, over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from campaigns import errors
from campaigns.christmas_campaign.samples import SAMPLE_SIGNUPS
from campaigns.models import (
    EmailTemplate,
    NewSend,
    Segment,
    SendStatus,
    SendUpdate,
    SequenceStatus,
    TemplateSegment,
    TemplateStatus,
)
from campaigns.notion_crm import NotionCRM
from campaigns.notion_schema import schema_problems
from campaigns.standins.notion import NotionStandIn
from campaigns.tests.fixtures import make_api

SIGNUP = SAMPLE_SIGNUPS[Segment.CRITICAL]
WHEN = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def _template(body: str, status: TemplateStatus = TemplateStatus.ACTIVE) -> EmailTemplate:
    return EmailTemplate(
        template_id="christmas_email_3",
        subject="Subject {{ first_name }}",
        preview_text="Preview",
        body_html=body,
        email_number=3,
        segment=TemplateSegment.ALL,
        status=status,
    )


def _open_send(crm: NotionCRM, number: int) -> object:
    return crm.find_or_create_send(
        NewSend(
            email=SIGNUP.email,
            email_number=number,
            template_id=f"christmas_email_{number}",
            contact_id=None,
            scheduled_for=WHEN,
            idempotency_key=f"key-{number}",
        )
    )


def test_created_databases_match_the_contract_schema(notion_crm: NotionCRM) -> None:
    """The databases the adapter creates have every property of docs/contract.md §3, typed."""
    for key, database_id in notion_crm.database_ids.items():
        assert schema_problems(notion_crm.api, key, database_id) == []


def test_find_or_create_contact_is_idempotent(
    notion_crm: NotionCRM, notion_standin: NotionStandIn
) -> None:
    """Two find-or-creates for one address (in any case) return the same single row."""
    first = notion_crm.find_or_create_contact(SIGNUP)
    again = notion_crm.find_or_create_contact(SIGNUP.model_copy(update={"email": SIGNUP.email}))
    assert first.page_id == again.page_id
    assert notion_crm.find_contact(SIGNUP.email.upper()) is not None
    assert len(notion_standin.rows(notion_crm.database_ids["contacts"])) == 1


def test_enrollment_fields_and_status_round_trip(notion_crm: NotionCRM) -> None:
    """Segment, scores, status and enrollment time are written and read back as written."""
    contact = notion_crm.find_or_create_contact(SIGNUP)
    enrolled = notion_crm.enroll_contact(contact, SIGNUP, Segment.CRITICAL, WHEN)
    assert enrolled.segment == Segment.CRITICAL
    assert enrolled.red_systems == SIGNUP.red_systems
    assert enrolled.enrolled_at == WHEN
    assert notion_crm.contact_status(SIGNUP.email) == SequenceStatus.ACTIVE
    notion_crm.set_contact_status(contact.page_id, SequenceStatus.UNSUBSCRIBED)
    assert notion_crm.contact_status(SIGNUP.email) == SequenceStatus.UNSUBSCRIBED
    notion_crm.record_sent(contact.page_id, 4, WHEN, last=False)
    refreshed = notion_crm.find_contact(SIGNUP.email)
    assert refreshed is not None and refreshed.last_email_sent == 4


def test_body_of_5000_characters_round_trips_intact(
    notion_crm: NotionCRM, notion_standin: NotionStandIn
) -> None:
    """A 5,000-character body (with astral characters) is split into items and read back whole."""
    body = ("<p>Ho ho ho \U0001f384 {{ first_name }}</p>\n" * 200)[:5000]
    notion_crm.upsert_template(_template(body))
    fetched = notion_crm.get_template("christmas_email_3")
    assert fetched.body_html == body
    page = notion_standin.page(str(fetched.page_id))
    assert len(page["properties"]["Body HTML"]["rich_text"]) > 2


def test_upsert_template_updates_in_place(
    notion_crm: NotionCRM, notion_standin: NotionStandIn
) -> None:
    """Upserting the same template id twice updates one row instead of adding another."""
    _, created = notion_crm.upsert_template(_template("<p>one {{ unsubscribe_url }}</p>"))
    _, created_again = notion_crm.upsert_template(_template("<p>two {{ unsubscribe_url }}</p>"))
    assert (created, created_again) == (True, False)
    assert len(notion_standin.rows(notion_crm.database_ids["templates"])) == 1
    assert "two" in notion_crm.get_template("christmas_email_3").body_html


@pytest.mark.parametrize(
    ("status", "error"),
    [(None, errors.TemplateNotFound), (TemplateStatus.DRAFT, errors.TemplateNotActive)],
    ids=["missing", "draft"],
)
def test_unusable_template_raises_a_named_error(
    notion_crm: NotionCRM, status: TemplateStatus | None, error: type[Exception]
) -> None:
    """A missing or Draft template raises an error that names the template id."""
    if status is not None:
        notion_crm.upsert_template(_template("<p>x</p>", status))
    with pytest.raises(error, match="christmas_email_3"):
        notion_crm.get_template("christmas_email_3")


def test_send_row_find_or_create_and_update(notion_crm: NotionCRM) -> None:
    """The send-log row of (email, number) is created once and its status updates stick."""
    row = _open_send(notion_crm, 2)
    assert _open_send(notion_crm, 2).page_id == row.page_id  # type: ignore[attr-defined]
    updated = notion_crm.update_send(
        row.page_id,  # type: ignore[attr-defined]
        SendUpdate(status=SendStatus.SENT, sent_at=WHEN, resend_email_id="re-1", flow_run_id="f"),
    )
    assert updated.status == SendStatus.SENT and updated.resend_email_id == "re-1"
    found = notion_crm.find_send_by_resend_id("re-1")
    assert found is not None and found.email_number == 2


def test_429_storm_is_survived_without_losing_or_duplicating_writes(
    notion_standin: NotionStandIn, notion_crm: NotionCRM
) -> None:
    """Under a 5 req/s limit, 12 find-or-creates all land, each exactly once."""
    notion_standin.set_rate_limit(5, burst=2)
    for number in range(1, 13):
        _open_send(notion_crm, number)
    statuses = [r["status"] for r in notion_standin.requests]
    assert statuses.count(429) > 0
    rows = notion_standin.rows(notion_crm.database_ids["sends"])
    numbers = sorted(row["Email Number"] for row in rows)
    assert numbers == list(range(1, 13))


def test_529_service_overload_is_retried(
    notion_standin: NotionStandIn, notion_crm: NotionCRM
) -> None:
    """A 529 service_overload, which the SDK does not retry, is retried by the adapter."""
    notion_standin.inject_failure(status=529, code="service_overload", count=2, retry_after=0)
    assert notion_crm.find_or_create_contact(SIGNUP).email == SIGNUP.email


def test_5xx_on_a_read_is_retried(notion_standin: NotionStandIn, notion_crm: NotionCRM) -> None:
    """A 503 on a query (a POST that only reads) is retried until it succeeds."""
    notion_standin.inject_failure(method="POST", path="/query$", status=503, count=2)
    assert notion_crm.find_contact(SIGNUP.email) is None


def test_5xx_on_create_is_not_retried_and_find_or_create_recovers(
    notion_standin: NotionStandIn, notion_crm: NotionCRM
) -> None:
    """A 500 after a create landed is not retried blindly; the next find-or-create finds the row."""
    notion_standin.inject_failure(method="POST", path="^/v1/pages$", status=500, when="after")
    with pytest.raises(errors.NotionUnavailable, match="creating contact"):
        notion_crm.find_or_create_contact(SIGNUP)
    notion_crm.find_or_create_contact(SIGNUP)
    assert len(notion_standin.rows(notion_crm.database_ids["contacts"])) == 1


def test_validation_error_is_not_retried(
    notion_standin: NotionStandIn, notion_crm: NotionCRM
) -> None:
    """A 400 validation_error fails at once with Notion's message."""
    notion_standin.inject_failure(method="PATCH", status=400, code="validation_error", count=5)
    contact = notion_crm.find_or_create_contact(SIGNUP)
    before = len(notion_standin.requests)
    with pytest.raises(errors.NotionValidationError):
        notion_crm.set_contact_status(contact.page_id, SequenceStatus.ACTIVE)
    assert len(notion_standin.requests) == before + 1


def test_bad_token_is_an_auth_error_naming_the_setting(
    notion_standin: NotionStandIn, notion_crm: NotionCRM
) -> None:
    """A refused token raises NotionAuthError that tells the user to check NOTION_TOKEN."""
    api = make_api(notion_standin.url, token="wrong")
    crm = NotionCRM(api, **{f"{k}_db": v for k, v in notion_crm.database_ids.items()})
    with pytest.raises(errors.NotionAuthError, match="NOTION_TOKEN"):
        crm.find_contact(SIGNUP.email)


def test_unknown_database_is_not_found(notion_standin: NotionStandIn) -> None:
    """A database id that does not exist raises NotionNotFound naming the database."""
    api = make_api(notion_standin.url)
    with pytest.raises(errors.NotionNotFound, match="0000"):
        api.data_source_id("00000000-0000-4000-8000-00000000dead")


def test_timeout_on_a_read_is_retried(notion_standin: NotionStandIn) -> None:
    """A read that times out is retried and then succeeds."""
    api = make_api(notion_standin.url, timeout_seconds=0.5)
    database = notion_standin.create_database("Probe", {"Name": {"title": {}}})
    notion_standin.inject_failure(method="GET", path="^/v1/databases/", delay=1.5, status=None)
    assert api.data_source_id(database[0])


def test_get_templates_reads_several_in_one_query(
    notion_crm: NotionCRM, notion_standin: NotionStandIn
) -> None:
    """Several templates come back from one query; a missing one raises its named error."""
    for number in (1, 2):
        notion_crm.upsert_template(
            _template("<p>x</p>").model_copy(update={"template_id": f"t{number}"})
        )
    before = len(notion_standin.requests)
    found = notion_crm.get_templates(["t1", "t2"])
    assert sorted(found) == ["t1", "t2"] and found["t2"].template_id == "t2"
    assert len(notion_standin.requests) == before + 1
    with pytest.raises(errors.TemplateNotFound, match="t3"):
        notion_crm.get_templates(["t1", "t3"])
