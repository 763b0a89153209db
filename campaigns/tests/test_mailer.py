"""The Resend adapter through the real resend SDK against the stand-in, over HTTP."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from campaigns import errors
from campaigns.mailer import OutgoingEmail, ResendMailer
from campaigns.standins.resend import ResendStandIn
from campaigns.testing import RESEND_KEY

KEY = "christmas/send/0123456789abcdef0123/3"
EMAIL = OutgoingEmail(
    to="maria@harbourplumbing.example",
    subject="Maria, your results are in",
    html="<p>Hello Maria</p>",
    text="Hello Maria\n",
    unsubscribe_url="https://hooks.review.example/unsubscribe?token=abc",
    tags={"campaign": "christmas", "email_number": "3", "segment": "CRITICAL"},
)


def _posts(server: ResendStandIn) -> int:
    return sum(1 for r in server.requests if r["method"] == "POST" and r["path"] == "/emails")


def test_send_carries_every_field_and_header(
    mailer: ResendMailer, resend_standin: ResendStandIn
) -> None:
    """One send delivers from, reply-to, subject, html, text, tags and one-click headers."""
    sent = mailer.send(EMAIL, KEY)
    [email] = resend_standin.emails
    assert email["id"] == sent.id and sent.attempts == 1
    assert email["from"] == "Systems Review <hello@review.example>"
    assert email["reply_to"] in ("hello@review.example", ["hello@review.example"])
    assert email["to"] == [EMAIL.to]
    assert (email["subject"], email["html"], email["text"]) == (
        EMAIL.subject,
        EMAIL.html,
        EMAIL.text,
    )
    assert email["idempotency_key"] == KEY
    assert {t["name"]: t["value"] for t in email["tags"]} == EMAIL.tags
    unsubscribe = email["headers"]["List-Unsubscribe"]
    assert unsubscribe.startswith("<https://hooks.review.example/unsubscribe?token=abc>")
    assert "<mailto:hello@review.example?subject=unsubscribe>" in unsubscribe
    assert email["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mailer.get(sent.id)["id"] == sent.id


def test_retried_send_after_a_timeout_produces_one_email(
    resend_standin: ResendStandIn,
) -> None:
    """The first attempt lands but answers too late; the same-key retry sends nothing new."""
    slow = ResendMailer(
        SecretStr(RESEND_KEY),
        resend_standin.url,
        "A <a@review.example>",
        backoff_seconds=0.05,
        timeout_seconds=1,
    )
    resend_standin.inject_failure(
        method="POST", path="^/emails$", status=None, delay=2.0, when="after"
    )
    sent = slow.send(EMAIL, KEY)
    assert sent.attempts >= 2
    assert len(resend_standin.emails) == 1 and resend_standin.emails[0]["id"] == sent.id


def test_500_then_success_sends_one_email(
    mailer: ResendMailer, resend_standin: ResendStandIn
) -> None:
    """A 500 application_error is retried with the same key and one email arrives."""
    resend_standin.inject_failure(
        method="POST", path="^/emails$", status=500, code="application_error", count=2
    )
    assert mailer.send(EMAIL, KEY).attempts == 3
    assert len(resend_standin.emails) == 1


def test_429_waits_for_retry_after(mailer: ResendMailer, resend_standin: ResendStandIn) -> None:
    """A 429 rate_limit_exceeded is retried after its retry-after and then succeeds."""
    resend_standin.inject_failure(
        method="POST", path="^/emails$", status=429, code="rate_limit_exceeded", retry_after=1
    )
    assert mailer.send(EMAIL, KEY).attempts == 2
    assert len(resend_standin.emails) == 1


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (422, "validation_error", errors.ResendRejected),
        (400, "validation_error", errors.ResendRejected),
        (403, "invalid_api_key", errors.ResendRejected),
        (429, "daily_quota_exceeded", errors.ResendQuotaExceeded),
        (429, "monthly_quota_exceeded", errors.ResendQuotaExceeded),
    ],
    ids=["422", "400", "403", "daily-quota", "monthly-quota"],
)
def test_final_errors_are_not_retried(
    mailer: ResendMailer,
    resend_standin: ResendStandIn,
    status: int,
    code: str,
    error: type[Exception],
) -> None:
    """Validation, auth and quota errors fail after exactly one request."""
    resend_standin.inject_failure(
        method="POST", path="^/emails$", status=status, code=code, count=5
    )
    with pytest.raises(error, match=code):
        mailer.send(EMAIL, KEY)
    assert _posts(resend_standin) == 1
    assert resend_standin.emails == []


def test_real_validation_error_from_the_stand_in_is_not_retried(
    resend_standin: ResendStandIn,
) -> None:
    """A sender the API rejects (422) fails once, with Resend's message."""
    bad = ResendMailer(SecretStr(RESEND_KEY), resend_standin.url, "not an address")
    with pytest.raises(errors.ResendRejected, match="422"):
        bad.send(EMAIL, KEY)
    assert _posts(resend_standin) == 1


def test_persistent_5xx_gives_up_with_a_clear_error(
    mailer: ResendMailer, resend_standin: ResendStandIn
) -> None:
    """A Resend outage ends in ResendUnavailable after the allowed attempts."""
    resend_standin.inject_failure(method="POST", path="^/emails$", status=503, count=50)
    with pytest.raises(errors.ResendUnavailable, match="after 5 attempts"):
        mailer.send(EMAIL, KEY)
    assert _posts(resend_standin) == 5


def test_same_key_twice_sends_once(mailer: ResendMailer, resend_standin: ResendStandIn) -> None:
    """A retried task sending the same email with the same key gets the same id back."""
    assert mailer.send(EMAIL, KEY).id == mailer.send(EMAIL, KEY).id
    assert len(resend_standin.emails) == 1


def test_same_key_with_a_different_payload_is_a_conflict(
    mailer: ResendMailer, resend_standin: ResendStandIn
) -> None:
    """Reusing a key for other content is refused, and nothing second is sent."""
    mailer.send(EMAIL, KEY)
    changed = EMAIL.model_copy(update={"subject": "Something else"})
    with pytest.raises(errors.ResendIdempotencyConflict):
        mailer.send(changed, KEY)
    assert len(resend_standin.emails) == 1


@pytest.mark.parametrize(
    "key", [None, SecretStr(""), SecretStr("  ")], ids=["none", "empty", "blank"]
)
def test_without_an_api_key_nothing_is_called(
    resend_standin: ResendStandIn, key: SecretStr | None
) -> None:
    """With no API key the adapter refuses before any request is made."""
    unconfigured = ResendMailer(key, resend_standin.url, "A <a@review.example>")
    with pytest.raises(errors.ResendNotConfigured, match="RESEND_API_KEY"):
        unconfigured.send(EMAIL, KEY)
    assert resend_standin.requests == []
