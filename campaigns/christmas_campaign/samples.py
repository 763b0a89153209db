"""Sample signups, one per segment, for previews, the demo and tests."""

from __future__ import annotations

from decimal import Decimal

from campaigns.models import Segment, Signup

SAMPLE_SIGNUPS: dict[Segment, Signup] = {
    Segment.CRITICAL: Signup(
        email="maria@harbourplumbing.example",
        first_name="Maria",
        business_name="Harbour Plumbing & Heating",
        assessment_score=38,
        red_systems=3,
        orange_systems=2,
        yellow_systems=2,
        green_systems=1,
        gps_score=41,
        money_score=33,
        weakest_system_1="Cash flow",
        weakest_system_2="Lead follow-up",
        revenue_leak_monthly=Decimal("14700"),
    ),
    Segment.URGENT: Signup(
        email="tom@brightpathaccounting.example",
        first_name="Tom",
        business_name="Brightpath Accounting",
        assessment_score=61,
        red_systems=1,
        orange_systems=2,
        yellow_systems=3,
        green_systems=2,
        gps_score=58,
        money_score=64,
        weakest_system_1="Client onboarding",
        weakest_system_2="Pricing",
        revenue_leak_monthly=Decimal("6250"),
    ),
    Segment.OPTIMIZE: Signup(
        email="ava@northlightstudio.example",
        first_name="Ava",
        business_name="Northlight Design Studio",
        assessment_score=82,
        red_systems=0,
        orange_systems=1,
        yellow_systems=3,
        green_systems=4,
        gps_score=79,
        money_score=85,
        weakest_system_1="Team capacity",
        weakest_system_2="Referrals",
        revenue_leak_monthly=Decimal("2400"),
    ),
}
