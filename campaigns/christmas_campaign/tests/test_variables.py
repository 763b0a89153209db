"""Template variables of docs/contract.md §5: rounding, money, days to Christmas, the names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from campaigns.christmas_campaign.variables import (
    ALWAYS_DEFINED,
    OPTIONAL,
    TEMPLATE_VARIABLES,
    build_variables,
    days_until_christmas,
    money,
    thousands_half_up,
)
from campaigns.models import Segment, Signup

NOW = datetime(2024, 11, 29, 12, 0, tzinfo=UTC)
LINKS = {
    "booking_url": "https://book.example/call",
    "unsubscribe_url": "https://hooks.example/unsubscribe?token=t0k",
    "postal_address": "1 Main Street, Springfield",
}

CONTRACT_VARIABLES = {
    "first_name",
    "business_name",
    "segment",
    "assessment_score",
    "red_systems",
    "orange_systems",
    "yellow_systems",
    "green_systems",
    "gps_score",
    "money_score",
    "weakest_system_1",
    "weakest_system_2",
    "revenue_leak_monthly",
    "revenue_leak_monthly_k",
    "revenue_leak_annual",
    "booking_url",
    "unsubscribe_url",
    "postal_address",
    "days_until_christmas",
}
CONTRACT_ALWAYS = {
    "first_name",
    "business_name",
    "segment",
    "assessment_score",
    "red_systems",
    "orange_systems",
    "yellow_systems",
    "green_systems",
    "booking_url",
    "unsubscribe_url",
    "postal_address",
    "days_until_christmas",
}


def make_signup(**overrides: Any) -> Signup:
    fields: dict[str, Any] = {
        "email": "jo@example.com",
        "first_name": "Jo",
        "business_name": "Jo's Joinery",
        "assessment_score": 50,
        "red_systems": 1,
        "orange_systems": 2,
        "yellow_systems": 3,
        "green_systems": 2,
    }
    fields.update(overrides)
    return Signup(**fields)


def variables_of(signup: Signup, segment: Segment = Segment.URGENT) -> dict[str, object]:
    return build_variables(signup, segment, now=NOW, **LINKS)


# --- revenue leak ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dollars", "expected"),
    [
        pytest.param("14700", 15, id="14700-up"),
        pytest.param("14500", 15, id="14500-half-up"),
        pytest.param("14499.99", 14, id="14499.99-down"),
        pytest.param("499", 0, id="499-zero"),
        pytest.param("500", 1, id="500-half-up"),
        pytest.param("0", 0, id="0"),
        pytest.param("999.99", 1, id="999.99"),
        pytest.param("1500", 2, id="1500-half-up-not-even"),
        pytest.param("2500", 3, id="2500-half-up-not-banker"),
        pytest.param("1000000000", 1_000_000, id="billion"),
    ],
)
def test_thousands_half_up(dollars: str, expected: int) -> None:
    """Dollars become whole thousands, rounding exact halves up (never to even)."""
    assert thousands_half_up(Decimal(dollars)) == expected


@pytest.mark.parametrize(
    ("dollars", "expected"),
    [
        pytest.param("14700", "15", id="14700"),
        pytest.param("14500", "15", id="14500"),
        pytest.param("14499.99", "14", id="14499.99"),
        pytest.param("499", "0", id="499"),
        pytest.param("500", "1", id="500"),
        pytest.param("0", "0", id="0"),
    ],
)
def test_revenue_leak_monthly_k_variable(dollars: str, expected: str) -> None:
    """revenue_leak_monthly_k is the half-up thousands of the monthly leak, as text."""
    values = variables_of(make_signup(revenue_leak_monthly=Decimal(dollars)))
    assert values["revenue_leak_monthly_k"] == expected


@pytest.mark.parametrize(
    ("dollars", "expected"),
    [
        pytest.param("0", "0", id="0"),
        pytest.param("7", "7", id="7"),
        pytest.param("999", "999", id="999"),
        pytest.param("1000", "1,000", id="1000"),
        pytest.param("14700", "14,700", id="14700"),
        pytest.param("176400", "176,400", id="176400"),
        pytest.param("1234567", "1,234,567", id="million"),
        pytest.param("1000000000", "1,000,000,000", id="billion"),
        pytest.param("0.49", "0", id="cents-down"),
        pytest.param("0.5", "1", id="cents-half-up"),
        pytest.param("2.5", "3", id="half-up-not-banker"),
        pytest.param("1234.49", "1,234", id="1234.49"),
        pytest.param("1234.50", "1,235", id="1234.50"),
    ],
)
def test_money(dollars: str, expected: str) -> None:
    """Money is whole dollars, rounded half up, with comma thousands separators and no sign."""
    assert money(Decimal(dollars)) == expected


@pytest.mark.parametrize(
    "dollars",
    [
        pytest.param("0", id="0"),
        pytest.param("1", id="1"),
        pytest.param("2400", id="2400"),
        pytest.param("6250", id="6250"),
        pytest.param("14700", id="14700"),
        pytest.param("83333", id="83333"),
    ],
)
def test_annual_leak_is_twelve_times_monthly(dollars: str) -> None:
    """For whole-dollar leaks, revenue_leak_annual is exactly twelve times revenue_leak_monthly."""
    values = variables_of(make_signup(revenue_leak_monthly=Decimal(dollars)))
    monthly = int(str(values["revenue_leak_monthly"]).replace(",", ""))
    annual = int(str(values["revenue_leak_annual"]).replace(",", ""))
    assert monthly == int(dollars)
    assert annual == 12 * monthly


@pytest.mark.parametrize(
    ("dollars", "monthly", "annual"),
    [
        pytest.param("14700", "14,700", "176,400", id="14700"),
        pytest.param("1000.50", "1,001", "12,006", id="cents-annual-from-exact-amount"),
        pytest.param("0.04", "0", "0", id="four-cents"),
        pytest.param("0.05", "0", "1", id="five-cents-annual-rounds-up"),
    ],
)
def test_leak_variables_are_formatted(dollars: str, monthly: str, annual: str) -> None:
    """Both leaks are money-formatted; the annual one is computed from the exact monthly amount."""
    values = variables_of(make_signup(revenue_leak_monthly=Decimal(dollars)))
    assert values["revenue_leak_monthly"] == monthly
    assert values["revenue_leak_annual"] == annual


# --- days until Christmas --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        pytest.param(datetime(2024, 11, 29, 12, tzinfo=UTC), 26, id="nov29"),
        pytest.param(datetime(2024, 12, 1, 0, tzinfo=UTC), 24, id="dec1"),
        pytest.param(datetime(2024, 12, 24, 23, 59, 59, tzinfo=UTC), 1, id="dec24-late"),
        pytest.param(datetime(2024, 12, 24, 0, tzinfo=UTC), 1, id="dec24-midnight"),
        pytest.param(datetime(2024, 12, 25, 0, tzinfo=UTC), 0, id="dec25-midnight"),
        pytest.param(datetime(2024, 12, 25, 23, 59, tzinfo=UTC), 0, id="dec25-late"),
        pytest.param(datetime(2024, 12, 26, 0, tzinfo=UTC), 364, id="dec26-2024-to-2025"),
        pytest.param(datetime(2023, 12, 26, 0, tzinfo=UTC), 365, id="dec26-2023-over-leap-day"),
        pytest.param(datetime(2024, 12, 31, 0, tzinfo=UTC), 359, id="dec31"),
        pytest.param(datetime(2025, 1, 1, 0, tzinfo=UTC), 358, id="jan1"),
        pytest.param(datetime(2024, 1, 1, 0, tzinfo=UTC), 359, id="jan1-leap-year"),
        pytest.param(
            datetime(2024, 12, 24, 20, tzinfo=timezone(timedelta(hours=-5))),
            0,
            id="dec24-evening-new-york-is-dec25-utc",
        ),
        pytest.param(
            datetime(2024, 12, 25, 8, tzinfo=timezone(timedelta(hours=10))),
            1,
            id="dec25-morning-sydney-is-dec24-utc",
        ),
        pytest.param(
            datetime(2024, 12, 25, 20, tzinfo=timezone(timedelta(hours=-5))),
            364,
            id="dec25-evening-new-york-is-dec26-utc",
        ),
    ],
)
def test_days_until_christmas(now: datetime, expected: int) -> None:
    """Days are counted from the UTC date of `now` to the next 25 December (0 on the day)."""
    assert days_until_christmas(now) == expected


def test_days_until_christmas_refuses_naive_now() -> None:
    """A naive `now` is refused, because its UTC date is unknown."""
    with pytest.raises(ValueError, match="timezone-aware"):
        days_until_christmas(datetime(2024, 12, 1, 12))


def test_build_variables_refuses_naive_now() -> None:
    """build_variables with a naive `now` fails instead of guessing the date."""
    with pytest.raises(ValueError, match="timezone-aware"):
        build_variables(make_signup(), Segment.URGENT, now=datetime(2024, 12, 1), **LINKS)


# --- which names build_variables defines -----------------------------------------------------


def test_variable_sets_match_the_contract() -> None:
    """TEMPLATE_VARIABLES is exactly docs/contract.md §5, split into always-defined and optional."""
    assert set(TEMPLATE_VARIABLES) == CONTRACT_VARIABLES
    assert set(ALWAYS_DEFINED) == CONTRACT_ALWAYS
    assert set(OPTIONAL) == CONTRACT_VARIABLES - CONTRACT_ALWAYS
    assert not ALWAYS_DEFINED & OPTIONAL


def test_minimal_signup_defines_exactly_the_always_defined_names() -> None:
    """A signup without optional answers yields the always-defined names and nothing else."""
    assert set(variables_of(make_signup())) == CONTRACT_ALWAYS


def test_always_defined_values() -> None:
    """The always-defined names carry the signup's answers, the segment and the passed-in links."""
    signup = make_signup()
    values = build_variables(signup, Segment.CRITICAL, now=NOW, **LINKS)
    assert values == {
        "first_name": "Jo",
        "business_name": "Jo's Joinery",
        "segment": "CRITICAL",
        "assessment_score": 50,
        "red_systems": 1,
        "orange_systems": 2,
        "yellow_systems": 3,
        "green_systems": 2,
        "booking_url": LINKS["booking_url"],
        "unsubscribe_url": LINKS["unsubscribe_url"],
        "postal_address": LINKS["postal_address"],
        "days_until_christmas": 26,
    }


@pytest.mark.parametrize(
    ("field", "value", "names"),
    [
        pytest.param("gps_score", 41, {"gps_score"}, id="gps_score"),
        pytest.param("gps_score", 0, {"gps_score"}, id="gps_score-zero"),
        pytest.param("money_score", 33, {"money_score"}, id="money_score"),
        pytest.param("money_score", 0, {"money_score"}, id="money_score-zero"),
        pytest.param("weakest_system_1", "Cash flow", {"weakest_system_1"}, id="weakest_1"),
        pytest.param("weakest_system_2", "Pricing", {"weakest_system_2"}, id="weakest_2"),
        pytest.param(
            "revenue_leak_monthly",
            Decimal("14700"),
            {"revenue_leak_monthly", "revenue_leak_monthly_k", "revenue_leak_annual"},
            id="revenue_leak",
        ),
        pytest.param(
            "revenue_leak_monthly",
            Decimal("0"),
            {"revenue_leak_monthly", "revenue_leak_monthly_k", "revenue_leak_annual"},
            id="revenue_leak-zero",
        ),
    ],
)
def test_optional_names_appear_only_when_answered(
    field: str, value: object, names: set[str]
) -> None:
    """An optional answer adds its variable(s), even when the answer is zero, and nothing else."""
    values = variables_of(make_signup(**{field: value}))
    assert set(values) == CONTRACT_ALWAYS | names


@pytest.mark.parametrize(
    ("field", "blank"),
    [
        pytest.param("weakest_system_1", "", id="weakest_1-empty"),
        pytest.param("weakest_system_2", "   ", id="weakest_2-spaces"),
        pytest.param("gps_score", None, id="gps_score-none"),
        pytest.param("revenue_leak_monthly", None, id="revenue_leak-none"),
    ],
)
def test_blank_optional_answers_are_omitted(field: str, blank: object) -> None:
    """A blank or None optional answer leaves its variable out rather than empty."""
    values = variables_of(make_signup(**{field: blank}))
    assert set(values) == CONTRACT_ALWAYS


@pytest.mark.parametrize(
    "segment", [pytest.param(segment, id=segment.value) for segment in Segment]
)
def test_full_signup_defines_every_contract_variable(segment: Segment) -> None:
    """A signup with every optional answer defines all nineteen variables, all of them known."""
    signup = make_signup(
        gps_score=41,
        money_score=33,
        weakest_system_1="Cash flow",
        weakest_system_2="Lead follow-up",
        revenue_leak_monthly=Decimal("14700"),
    )
    values = variables_of(signup, segment)
    assert set(values) <= TEMPLATE_VARIABLES
    assert set(values) == CONTRACT_VARIABLES
    assert values["segment"] == segment.value
    assert values["weakest_system_1"] == "Cash flow"
    assert values["revenue_leak_monthly"] == "14,700"
    assert values["revenue_leak_monthly_k"] == "15"
    assert values["revenue_leak_annual"] == "176,400"
