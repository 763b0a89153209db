"""The orchestrator deployment's Run form in the Prefect UI, built from the flow's signature.

Prefect turns the signature and the docstring's `Args:` into the deployment's parameter schema:
the UI draws one input per property (its description under the name, its bounds checked before
Run), and the API checks runs created from the deployment against it. `Signup` still validates
the values inside the flow, so the form's bounds must be exactly `Signup`'s.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from prefect.utilities.callables import parameter_schema, parameter_schema_from_entrypoint
from prefect.utilities.schema_tools import ValidationError as SchemaValidationError
from prefect.utilities.schema_tools import validate
from pydantic import ValidationError

from campaigns.christmas_campaign.flows import orchestrator
from campaigns.christmas_campaign.flows.orchestrator import christmas_email_sequence_orchestrator
from campaigns.christmas_campaign.samples import SAMPLE_SIGNUPS
from campaigns.models import SYSTEM_COUNT, Signup

SCHEMA = parameter_schema(christmas_email_sequence_orchestrator).model_dump_for_openapi()
NULL = {"type": "null"}

# (parameter, the input the form shows: JSON type and bounds, required)
INPUTS = [
    ("email", {"type": "string", "format": "email", "maxLength": 200}, True),
    ("first_name", {"type": "string", "minLength": 1, "maxLength": 100}, True),
    ("business_name", {"type": "string", "minLength": 1, "maxLength": 200}, True),
    ("assessment_score", {"type": "integer", "minimum": 0, "maximum": 100}, True),
    ("red_systems", {"type": "integer", "minimum": 0, "maximum": SYSTEM_COUNT}, True),
    ("orange_systems", {"type": "integer", "minimum": 0, "maximum": SYSTEM_COUNT}, True),
    ("yellow_systems", {"type": "integer", "minimum": 0, "maximum": SYSTEM_COUNT}, True),
    ("green_systems", {"type": "integer", "minimum": 0, "maximum": SYSTEM_COUNT}, True),
    ("gps_score", {"type": "integer", "minimum": 0, "maximum": 100}, False),
    ("money_score", {"type": "integer", "minimum": 0, "maximum": 100}, False),
    ("weakest_system_1", {"type": "string", "maxLength": 100}, False),
    ("weakest_system_2", {"type": "string", "maxLength": 100}, False),
    ("revenue_leak_monthly", {"type": "number", "minimum": 0, "maximum": 1_000_000_000}, False),
    ("timezone", {"type": "string", "maxLength": 64}, False),
]

# What a marketer types: numbers as numbers, the leak as a plain dollar amount.
FORM: dict[str, Any] = {
    "email": "Maria@HarbourPlumbing.example",
    "first_name": "Maria",
    "business_name": "Harbour Plumbing & Heating",
    "assessment_score": 38,
    "red_systems": 3,
    "orange_systems": 2,
    "yellow_systems": 2,
    "green_systems": 1,
    "gps_score": 41,
    "money_score": 33,
    "weakest_system_1": "Cash flow",
    "weakest_system_2": "Lead follow-up",
    "revenue_leak_monthly": 14700,
    "timezone": "Europe/London",
}
REQUIRED_ONLY = {name: FORM[name] for name, _, required in INPUTS if required}
FORM_PAYLOADS = [
    pytest.param(FORM, Decimal("14700"), id="every-field"),
    pytest.param(FORM | {"revenue_leak_monthly": 3200.5}, Decimal("3200.50"), id="leak-with-cents"),
    pytest.param(FORM | {"revenue_leak_monthly": 0.07}, Decimal("0.07"), id="leak-of-cents"),
    pytest.param(REQUIRED_ONLY, None, id="required-only"),
    pytest.param(
        REQUIRED_ONLY | {name: None for name, _, required in INPUTS if not required},
        None,
        id="optionals-none",
    ),
]


def _input(prop: dict[str, Any]) -> dict[str, Any]:
    """The schema of the value typed in: the one non-null alternative of an optional input."""
    if "anyOf" not in prop:
        return {k: v for k, v in prop.items() if k not in {"title", "description", "position"}}
    alternatives = [alt for alt in prop["anyOf"] if alt != NULL]
    assert len(alternatives) == 1, f"a chooser between {prop['anyOf']}"
    assert NULL in prop["anyOf"]
    return dict(alternatives[0])


def test_the_form_has_one_input_per_signup_field() -> None:
    """The form's inputs are exactly the signup's fields, in the signature's order."""
    assert list(SCHEMA["properties"]) == [name for name, _, _ in INPUTS]
    assert set(SCHEMA["properties"]) == set(Signup.model_fields)


def test_required_inputs_are_the_signups_required_fields() -> None:
    """The eight answers every signup has are required; the other six may be left out."""
    assert SCHEMA["required"] == [name for name, _, required in INPUTS if required]
    assert set(SCHEMA["required"]) == {n for n, f in Signup.model_fields.items() if f.is_required()}


@pytest.mark.parametrize(("name", "expected", "required"), INPUTS, ids=[i[0] for i in INPUTS])
def test_each_input_has_help_and_bounds(
    name: str, expected: dict[str, Any], required: bool
) -> None:
    """Each input has a description and shows one input of its type, with its bounds."""
    prop = SCHEMA["properties"][name]
    assert len(prop.get("description") or "") > 20
    assert _input(prop) == expected
    assert ("default" not in prop) == required
    if not required:
        assert prop["default"] is None


@pytest.mark.parametrize("name", [i[0] for i in INPUTS])
def test_form_bounds_are_the_signups(name: str) -> None:
    """The bounds the form checks are the ones `Signup` enforces, field by field."""
    signup_prop = Signup.model_json_schema()["properties"][name]
    if name == "revenue_leak_monthly":  # Signup also reads the Decimal from text; the form does not
        signup_prop = signup_prop | {
            "anyOf": [a for a in signup_prop["anyOf"] if a["type"] != "string"]
        }
    assert _input(SCHEMA["properties"][name]) == _input(signup_prop)


def test_the_leak_is_a_plain_number() -> None:
    """The monthly leak is one number input (or None), never a number-or-text chooser."""
    assert SCHEMA["properties"]["revenue_leak_monthly"]["anyOf"] == [
        {"type": "number", "minimum": 0, "maximum": 1_000_000_000},
        NULL,
    ]


def test_the_schema_from_the_source_file_is_the_same() -> None:
    """Reading the flow from its file, as `prefect deploy` may, gives the same form."""
    entrypoint = f"{Path(orchestrator.__file__)}:christmas_email_sequence_orchestrator"
    assert parameter_schema_from_entrypoint(entrypoint).model_dump_for_openapi() == SCHEMA


@pytest.mark.parametrize(("payload", "leak"), FORM_PAYLOADS)
def test_a_filled_form_is_a_valid_signup(payload: dict[str, Any], leak: Decimal | None) -> None:
    """A filled form passes the API's schema check and the flow's parameter validation, and
    `Signup` accepts what the flow then holds."""
    validate(payload, SCHEMA, raise_on_error=True)
    parameters = christmas_email_sequence_orchestrator.validate_parameters(payload)
    signup = Signup.model_validate(parameters)
    assert signup.email == "maria@harbourplumbing.example"
    assert signup.revenue_leak_monthly == leak
    assert signup.red_systems + signup.orange_systems == 5


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("red_systems", SYSTEM_COUNT + 1),
        ("green_systems", -1),
        ("assessment_score", 101),
        ("gps_score", 101),
        ("revenue_leak_monthly", -1),
        ("first_name", ""),
    ],
)
def test_the_api_refuses_a_value_out_of_bounds(field: str, value: object) -> None:
    """A run created from the deployment with a value out of bounds is refused, naming it."""
    with pytest.raises(SchemaValidationError, match=field):
        validate(FORM | {field: value}, SCHEMA, raise_on_error=True)


def test_signup_still_decides_and_names_the_field() -> None:
    """The flow's own parameter check leaves the rules to `Signup`, whose message names the
    field (so a bad signup fails at once, without the run's retries)."""
    parameters = christmas_email_sequence_orchestrator.validate_parameters(
        FORM | {"green_systems": 2}
    )
    with pytest.raises(ValidationError, match="green_systems"):
        Signup.model_validate(parameters)


@pytest.mark.parametrize("signup", list(SAMPLE_SIGNUPS.values()), ids=lambda s: s.first_name)
def test_callers_passing_a_dumped_signup_still_work(signup: Signup) -> None:
    """The flow called with `Signup.model_dump(mode="json")` (leak as text) gets that signup."""
    parameters = christmas_email_sequence_orchestrator.validate_parameters(
        signup.model_dump(mode="json")
    )
    assert Signup.model_validate(parameters) == signup
