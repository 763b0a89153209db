"""What the local stack, the demo and the tests share: the stand-ins' credentials, the settings
that aim the whole campaign at them, and signups no other run uses.

Public and shipped, because `campaign demo` runs on `LocalStack`; nothing here reaches a real
service.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from campaigns.christmas_campaign.samples import SAMPLE_SIGNUPS
from campaigns.models import Segment, Signup

NOTION_TOKEN = "ntn_local_sandbox"
RESEND_KEY = "re_local_sandbox"
PUBLIC_BASE_URL = "https://hooks.review.example"
# The content settings every sandbox uses: a sender, the footer's address, the booking link.
SANDBOX_CONTENT = {
    "EMAIL_FROM": "Systems Review <hello@review.example>",
    "EMAIL_REPLY_TO": "hello@review.example",
    "POSTAL_ADDRESS": "Systems Review Ltd, 1 Market Street, Springfield 12345",
    "UNSUBSCRIBE_SECRET": "local-sandbox-unsubscribe-secret",
    "BOOKING_URL": "https://cal.review.example/christmas-review",
}


def standin_env(
    database_ids: Mapping[str, str],
    notion_url: str,
    resend_url: str,
    *,
    public_base_url: str = PUBLIC_BASE_URL,
    testing_mode: bool = True,
    time_scale: float = 1.0,
    notion_rate: float | None = None,
) -> dict[str, str]:
    """Every campaign setting, aimed at the stand-ins, as environment variables.

    `notion_rate` sets `NOTION_REQUESTS_PER_SECOND` (0: no client-side throttle); None leaves
    the setting's default.
    """
    env = {
        "NOTION_TOKEN": NOTION_TOKEN,
        "NOTION_API_URL": notion_url,
        "NOTION_CONTACTS_DB_ID": database_ids["contacts"],
        "NOTION_TEMPLATES_DB_ID": database_ids["templates"],
        "NOTION_SENDS_DB_ID": database_ids["sends"],
        "RESEND_API_KEY": RESEND_KEY,
        "RESEND_API_URL": resend_url,
        **SANDBOX_CONTENT,
        "PUBLIC_BASE_URL": public_base_url,
        "TESTING_MODE": "true" if testing_mode else "false",
        "SEQUENCE_TIME_SCALE": str(time_scale),
    }
    if notion_rate is not None:
        env["NOTION_REQUESTS_PER_SECOND"] = str(notion_rate)
    return env


def unique_signup(segment: Segment) -> Signup:
    """The segment's sample signup at an address no other run uses (a shared server keeps all)."""
    sample = SAMPLE_SIGNUPS[segment]
    return sample.model_copy(update={"email": f"{uuid.uuid4().hex[:10]}.{sample.email}"})
