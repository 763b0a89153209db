"""Idempotency keys: deterministic, distinct per action, free of personal data and short enough."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest

from campaigns.idempotency import enrollment_key, send_key, step_run_key

EMAIL = "maria@harbourplumbing.example"
ENROLLED = datetime(2024, 12, 1, 9, 30, 15, tzinfo=UTC)
MAX_KEY_LENGTH = 256  # Resend's limit for Idempotency-Key


def send(campaign: str = "christmas", email: str = EMAIL, number: int = 3) -> str:
    return send_key(campaign, email, number)


def enroll(campaign: str = "christmas", email: str = EMAIL, at: datetime = ENROLLED) -> str:
    return enrollment_key(campaign, email, at)


def step(
    campaign: str = "christmas", email: str = EMAIL, at: datetime = ENROLLED, number: int = 3
) -> str:
    return step_run_key(campaign, email, at, number)


KEY_MAKERS = [
    pytest.param(send, id="send_key"),
    pytest.param(enroll, id="enrollment_key"),
    pytest.param(step, id="step_run_key"),
]


@pytest.mark.parametrize("make", KEY_MAKERS)
def test_keys_are_deterministic(make: Callable[..., str]) -> None:
    """The same inputs always give the same key."""
    assert make() == make()


@pytest.mark.parametrize(
    ("make", "changed"),
    [
        pytest.param(send, {"campaign": "easter"}, id="send-campaign"),
        pytest.param(send, {"email": "tom@example.com"}, id="send-email"),
        pytest.param(send, {"number": 4}, id="send-number"),
        pytest.param(enroll, {"campaign": "easter"}, id="enroll-campaign"),
        pytest.param(enroll, {"email": "tom@example.com"}, id="enroll-email"),
        pytest.param(enroll, {"at": ENROLLED + timedelta(seconds=1)}, id="enroll-one-second"),
        pytest.param(enroll, {"at": ENROLLED + timedelta(days=365)}, id="enroll-next-year"),
        pytest.param(step, {"campaign": "easter"}, id="step-campaign"),
        pytest.param(step, {"email": "tom@example.com"}, id="step-email"),
        pytest.param(step, {"at": ENROLLED + timedelta(seconds=1)}, id="step-enrolled-at"),
        pytest.param(step, {"number": 4}, id="step-number"),
    ],
)
def test_keys_differ_when_an_input_differs(
    make: Callable[..., str], changed: dict[str, object]
) -> None:
    """Changing any one input gives a different key."""
    assert make(**changed) != make()


def test_the_three_kinds_of_key_never_coincide() -> None:
    """A send key, an enrollment key and a step-run key for the same contact are all different."""
    assert len({send(), enroll(), step()}) == 3


@pytest.mark.parametrize("make", KEY_MAKERS)
@pytest.mark.parametrize(
    "variant",
    [
        pytest.param("MARIA@HARBOURPLUMBING.EXAMPLE", id="upper"),
        pytest.param("Maria@HarbourPlumbing.example", id="mixed"),
        pytest.param("  maria@harbourplumbing.example  ", id="spaces"),
        pytest.param("\tMaria@harbourplumbing.example\n", id="tab-newline"),
    ],
)
def test_keys_ignore_email_case_and_spaces(make: Callable[..., str], variant: str) -> None:
    """The address is compared lower-cased and stripped, so its spelling does not change the key."""
    assert make(email=variant) == make()


@pytest.mark.parametrize("make", KEY_MAKERS)
@pytest.mark.parametrize(
    "email",
    [
        pytest.param(EMAIL, id="plain"),
        pytest.param("Jo.Bloggs+xmas@Example.co.uk", id="plus-and-case"),
    ],
)
def test_keys_contain_no_raw_email(make: Callable[..., str], email: str) -> None:
    """No part of the contact's address (local part or domain) appears in the key."""
    key = make(email=email).lower()
    local, domain = email.lower().split("@")
    assert "@" not in key
    assert local not in key
    assert domain not in key


@pytest.mark.parametrize("make", KEY_MAKERS)
def test_keys_stay_short(make: Callable[..., str]) -> None:
    """With a 200-character address and a long campaign name a key is still at most 256 chars."""
    long_email = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 3 + ".com"
    assert len(long_email) == 200
    key = make(campaign="christmas-2024-holiday-nurture", email=long_email)
    assert len(key) <= MAX_KEY_LENGTH
    assert key.isascii()


@pytest.mark.parametrize(
    "same_instant",
    [
        pytest.param(ENROLLED, id="utc"),
        pytest.param(ENROLLED.astimezone(timezone(timedelta(hours=-5))), id="utc-minus-5"),
        pytest.param(
            ENROLLED.astimezone(timezone(timedelta(hours=13, minutes=45))), id="plus-13h45"
        ),
        pytest.param(ENROLLED.astimezone(timezone(timedelta(hours=15))), id="next-day-local"),
    ],
)
def test_same_instant_in_any_timezone_gives_the_same_keys(same_instant: datetime) -> None:
    """The enrollment instant, not its wall-clock spelling, determines the key."""
    assert same_instant == ENROLLED
    assert enroll(at=same_instant) == enroll()
    assert step(at=same_instant) == step()


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda at: enrollment_key("christmas", EMAIL, at), id="enrollment_key"),
        pytest.param(lambda at: step_run_key("christmas", EMAIL, at, 1), id="step_run_key"),
    ],
)
def test_naive_enrollment_time_raises(make: Callable[[datetime], str]) -> None:
    """A naive enrollment time is refused rather than read in the machine's timezone."""
    with pytest.raises(ValueError, match="timezone-aware"):
        make(datetime(2024, 12, 1, 9, 30, 15))
