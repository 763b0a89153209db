"""Signup validation at the edge: bad input is refused naming its field; good input is cleaned."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from campaigns.models import Signup

GOOD: dict[str, Any] = {
    "email": "jo@example.com",
    "first_name": "Jo",
    "business_name": "Jo's Joinery",
    "assessment_score": 50,
    "red_systems": 1,
    "orange_systems": 2,
    "yellow_systems": 3,
    "green_systems": 2,
}
COLOURS = ("red_systems", "orange_systems", "yellow_systems", "green_systems")
# 64 + 1 + 145 = 210 characters: a valid address by RFC length limits, too long for the contract.
LONG_EMAIL = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 13 + ".com"


def signup(**overrides: Any) -> Signup:
    return Signup(**{**GOOD, **overrides})


BAD_FIELDS = [
    pytest.param({"email": "not-an-email"}, "email", id="email-no-at"),
    pytest.param({"email": "jo@"}, "email", id="email-no-domain"),
    pytest.param({"email": "jo@example"}, "email", id="email-no-tld"),
    pytest.param({"email": ""}, "email", id="email-empty"),
    pytest.param({"email": "jo@example.com\nBcc: x@example.com"}, "email", id="email-newline"),
    pytest.param({"email": LONG_EMAIL}, "email", id="email-over-200"),
    pytest.param({"first_name": ""}, "first_name", id="first_name-empty"),
    pytest.param({"first_name": "   "}, "first_name", id="first_name-whitespace"),
    pytest.param({"first_name": "Jo\nBcc: x"}, "first_name", id="first_name-LF"),
    pytest.param({"first_name": "Jo\rBcc: x"}, "first_name", id="first_name-CR"),
    pytest.param({"first_name": "Jo\x00"}, "first_name", id="first_name-NUL"),
    pytest.param({"first_name": "Jo\u2028x"}, "first_name", id="first_name-line-separator"),
    pytest.param({"first_name": "Jo\u2029x"}, "first_name", id="first_name-paragraph-separator"),
    pytest.param({"first_name": "Jo\tx"}, "first_name", id="first_name-tab"),
    pytest.param({"first_name": "x" * 101}, "first_name", id="first_name-over-100"),
    pytest.param({"first_name": None}, "first_name", id="first_name-none"),
    pytest.param({"business_name": ""}, "business_name", id="business_name-empty"),
    pytest.param({"business_name": "  "}, "business_name", id="business_name-whitespace"),
    pytest.param({"business_name": "Acme\r\nInc"}, "business_name", id="business_name-CRLF"),
    pytest.param({"business_name": "x" * 201}, "business_name", id="business_name-over-200"),
    pytest.param({"red_systems": -1, "green_systems": 3}, "red_systems", id="red-minus-1"),
    pytest.param(
        {"red_systems": 9, "orange_systems": 0, "yellow_systems": 0, "green_systems": 0},
        "red_systems",
        id="red-9",
    ),
    pytest.param({"orange_systems": -1}, "orange_systems", id="orange-minus-1"),
    pytest.param({"yellow_systems": 9}, "yellow_systems", id="yellow-9"),
    pytest.param({"green_systems": -1}, "green_systems", id="green-minus-1"),
    pytest.param({"green_systems": 2.5}, "green_systems", id="green-fraction"),
    pytest.param({"assessment_score": -1}, "assessment_score", id="assessment_score-minus-1"),
    pytest.param({"assessment_score": 101}, "assessment_score", id="assessment_score-101"),
    pytest.param({"assessment_score": "high"}, "assessment_score", id="assessment_score-text"),
    pytest.param({"gps_score": 101}, "gps_score", id="gps_score-101"),
    pytest.param({"gps_score": -1}, "gps_score", id="gps_score-minus-1"),
    pytest.param({"money_score": 101}, "money_score", id="money_score-101"),
    pytest.param({"weakest_system_1": "x" * 101}, "weakest_system_1", id="weakest_1-over-100"),
    pytest.param({"weakest_system_2": "Cash\nflow"}, "weakest_system_2", id="weakest_2-newline"),
    pytest.param(
        {"revenue_leak_monthly": Decimal("-1")}, "revenue_leak_monthly", id="leak-negative"
    ),
    pytest.param(
        {"revenue_leak_monthly": Decimal("-0.01")}, "revenue_leak_monthly", id="leak-minus-a-cent"
    ),
    pytest.param(
        {"revenue_leak_monthly": Decimal("1.234")}, "revenue_leak_monthly", id="leak-3-decimals"
    ),
    pytest.param({"revenue_leak_monthly": "1.005"}, "revenue_leak_monthly", id="leak-3-dec-text"),
    pytest.param(
        {"revenue_leak_monthly": Decimal("1000000000.01")},
        "revenue_leak_monthly",
        id="leak-over-a-billion",
    ),
    pytest.param({"nickname": "Jojo"}, "nickname", id="unknown-extra-field"),
]


@pytest.mark.parametrize(("overrides", "field"), BAD_FIELDS)
def test_bad_field_is_named(overrides: dict[str, Any], field: str) -> None:
    """A bad value is refused with a ValidationError whose only error locates that field."""
    with pytest.raises(ValidationError) as info:
        signup(**overrides)
    locations = [error["loc"] for error in info.value.errors()]
    assert locations == [(field,)], info.value.errors()


@pytest.mark.parametrize(
    "field", [pytest.param(field, id=field) for field in ("email", *COLOURS, "assessment_score")]
)
def test_missing_required_field_is_named(field: str) -> None:
    """Leaving out a required field is refused naming that field."""
    fields = {k: v for k, v in GOOD.items() if k != field}
    with pytest.raises(ValidationError) as info:
        Signup(**fields)
    assert (field,) in [error["loc"] for error in info.value.errors()]


@pytest.mark.parametrize(
    "colours",
    [
        pytest.param((0, 0, 0, 0), id="all-zero"),
        pytest.param((1, 1, 1, 1), id="total-4"),
        pytest.param((2, 2, 2, 1), id="total-7"),
        pytest.param((2, 2, 2, 3), id="total-9"),
        pytest.param((8, 8, 8, 8), id="total-32"),
        pytest.param((8, 0, 0, 1), id="eight-red-plus-one"),
    ],
)
def test_colours_must_add_up_to_eight(colours: tuple[int, int, int, int]) -> None:
    """Colour counts that do not add up to 8 are refused with a message naming all four fields."""
    with pytest.raises(ValidationError) as info:
        signup(**dict(zip(COLOURS, colours, strict=True)))
    errors = info.value.errors()
    assert len(errors) == 1
    message = errors[0]["msg"]
    for name in COLOURS:
        assert name in message
    assert "8" in message
    assert f"got {sum(colours)}" in message


@pytest.mark.parametrize(
    ("overrides", "field", "expected"),
    [
        pytest.param({"email": "  Jo@Example.COM "}, "email", "jo@example.com", id="email-lower"),
        pytest.param({"email": "JO@EXAMPLE.COM"}, "email", "jo@example.com", id="email-upper"),
        pytest.param({"first_name": "  Jo  "}, "first_name", "Jo", id="first_name-stripped"),
        pytest.param({"first_name": "Zoë"}, "first_name", "Zoë", id="first_name-non-ascii"),
        pytest.param({"first_name": "x" * 100}, "first_name", "x" * 100, id="first_name-100"),
        pytest.param(
            {"business_name": "\tAcme & Co "}, "business_name", "Acme & Co", id="business-stripped"
        ),
        pytest.param({"weakest_system_1": ""}, "weakest_system_1", None, id="weakest_1-empty"),
        pytest.param({"weakest_system_1": "   "}, "weakest_system_1", None, id="weakest_1-blank"),
        pytest.param({"weakest_system_2": None}, "weakest_system_2", None, id="weakest_2-none"),
        pytest.param(
            {"weakest_system_1": "  Cash flow "},
            "weakest_system_1",
            "Cash flow",
            id="weakest_strip",
        ),
        pytest.param({"gps_score": 0}, "gps_score", 0, id="gps_score-0"),
        pytest.param({"gps_score": 100}, "gps_score", 100, id="gps_score-100"),
        pytest.param({"assessment_score": 0}, "assessment_score", 0, id="assessment_score-0"),
        pytest.param({"assessment_score": 100}, "assessment_score", 100, id="assessment-100"),
        pytest.param(
            {"revenue_leak_monthly": "14700.50"},
            "revenue_leak_monthly",
            Decimal("14700.50"),
            id="leak-two-decimals",
        ),
        pytest.param(
            {"revenue_leak_monthly": 0}, "revenue_leak_monthly", Decimal(0), id="leak-zero"
        ),
    ],
)
def test_good_input_is_normalised(overrides: dict[str, Any], field: str, expected: object) -> None:
    """Valid input is accepted, with emails lower-cased and stripped and blank options as None."""
    assert getattr(signup(**overrides), field) == expected


@pytest.mark.parametrize(
    "colours",
    [
        pytest.param((8, 0, 0, 0), id="all-red"),
        pytest.param((0, 0, 0, 8), id="all-green"),
        pytest.param((2, 2, 2, 2), id="even"),
        pytest.param((0, 8, 0, 0), id="all-orange"),
    ],
)
def test_colour_splits_adding_to_eight_are_accepted(colours: tuple[int, int, int, int]) -> None:
    """Any split of the eight systems with counts 0–8 is accepted."""
    result = signup(**dict(zip(COLOURS, colours, strict=True)))
    assert tuple(getattr(result, name) for name in COLOURS) == colours


def test_signup_is_frozen() -> None:
    """A validated signup cannot be modified afterwards."""
    result = signup()
    with pytest.raises(ValidationError):
        result.first_name = "Eve"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("Europe/Paris", "Europe/Paris", id="paris"),
        pytest.param("Pacific/Kiritimati", "Pacific/Kiritimati", id="kiritimati"),
        pytest.param("Asia/Calcutta", "Asia/Calcutta", id="legacy-name-browsers-send"),
        pytest.param("UTC", "UTC", id="utc"),
        pytest.param("", None, id="blank-is-unset"),
        pytest.param(None, None, id="none"),
    ],
)
def test_timezone_is_an_iana_name_or_unset(value: str | None, expected: str | None) -> None:
    """The optional time zone is kept when it is an IANA name; blank means not given."""
    assert signup(timezone=value).timezone == expected


@pytest.mark.parametrize(
    "value",
    ["Mars/Olympus", "localtime", "../../etc/passwd", "europe/paris", "x" * 65, "+01:00"],
)
def test_unknown_timezone_is_refused_naming_the_field(value: str) -> None:
    """A name outside the IANA database (or a path, or an offset) is refused, naming timezone."""
    with pytest.raises(ValidationError) as info:
        signup(timezone=value)
    assert [error["loc"] for error in info.value.errors()] == [("timezone",)]


def test_timezone_in_strict_json_must_be_a_string() -> None:
    """The website's JSON is strict: a number for the zone is refused, naming the field."""
    body = signup().model_dump(mode="json") | {"timezone": 1}
    with pytest.raises(ValidationError) as info:
        Signup.model_validate_json(json.dumps(body), strict=True)
    assert [error["loc"] for error in info.value.errors()] == [("timezone",)]
