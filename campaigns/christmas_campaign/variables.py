"""Template variables of docs/contract.md §5, computed from a signup with `now` passed in.

Optional answers the contact did not give are left *out* of the mapping rather than set to an
empty string: a template that uses one unguarded then fails loudly before sending (StrictUndefined),
instead of mailing "your weakest system is ." to a customer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

from campaigns.models import Segment, Signup
from campaigns.settings import EmailContent, Settings
from campaigns.unsubscribe import unsubscribe_url

ALWAYS_DEFINED = frozenset(
    {
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
)
OPTIONAL = frozenset(
    {
        "gps_score",
        "money_score",
        "weakest_system_1",
        "weakest_system_2",
        "revenue_leak_monthly",
        "revenue_leak_monthly_k",
        "revenue_leak_annual",
    }
)
TEMPLATE_VARIABLES = ALWAYS_DEFINED | OPTIONAL


def days_until_christmas(now: datetime) -> int:
    """Whole days from `now`'s UTC date to the next 25 December (0 on the day itself)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    today = now.astimezone(UTC).date()
    christmas = date(today.year, 12, 25)
    if today > christmas:
        christmas = date(today.year + 1, 12, 25)
    return (christmas - today).days


def thousands_half_up(dollars: Decimal) -> int:
    """Dollars to whole thousands, rounding half up (14,700 -> 15; 14,499.99 -> 14)."""
    return int((dollars / 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def money(dollars: Decimal) -> str:
    """Whole dollars with thousands separators and no sign: the copy adds the `$`."""
    return f"{int(dollars.quantize(Decimal(1), rounding=ROUND_HALF_UP)):,}"


def build_variables(
    signup: Signup,
    segment: Segment,
    *,
    booking_url: str,
    unsubscribe_url: str,
    postal_address: str,
    now: datetime,
) -> dict[str, object]:
    """Every variable this contact has a value for, ready for the renderer."""
    values: dict[str, object] = {
        "first_name": signup.first_name,
        "business_name": signup.business_name,
        "segment": segment.value,
        "assessment_score": signup.assessment_score,
        "red_systems": signup.red_systems,
        "orange_systems": signup.orange_systems,
        "yellow_systems": signup.yellow_systems,
        "green_systems": signup.green_systems,
        "booking_url": booking_url,
        "unsubscribe_url": unsubscribe_url,
        "postal_address": postal_address,
        "days_until_christmas": days_until_christmas(now),
    }
    values.update(_optional_values(signup))
    return values


def _optional_values(signup: Signup) -> Mapping[str, object]:
    optional: dict[str, object] = {
        "gps_score": signup.gps_score,
        "money_score": signup.money_score,
        "weakest_system_1": signup.weakest_system_1,
        "weakest_system_2": signup.weakest_system_2,
    }
    leak = signup.revenue_leak_monthly
    if leak is not None:
        optional["revenue_leak_monthly"] = money(leak)
        optional["revenue_leak_monthly_k"] = str(thousands_half_up(leak))
        optional["revenue_leak_annual"] = money(leak * 12)
    return {name: value for name, value in optional.items() if value is not None}


def variables_for(
    settings: Settings, signup: Signup, segment: Segment, now: datetime
) -> dict[str, object]:
    """The template variables of this contact, with its signed unsubscribe link."""
    content = settings.content
    return build_variables(
        signup,
        segment,
        booking_url=str(content.booking_url),
        unsubscribe_url=unsubscribe_link(content, signup.email),
        postal_address=content.postal_address,
        now=now,
    )


def unsubscribe_link(content: EmailContent, email: str) -> str:
    """The signed one-click link of this contact, used in the footer and the header alike."""
    secret = content.unsubscribe_secret.get_secret_value()
    return unsubscribe_url(str(content.public_base_url), email, secret)
