"""Upsert the campaign's eleven templates into the Email Templates database, by template id.

Idempotent: a second run overwrites the same eleven rows (matched on `Template ID`) and creates
nothing. Run it as `python -m campaigns.christmas_campaign.seed_templates`.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field

from campaigns.christmas_campaign.template_files import load_templates
from campaigns.errors import CampaignError
from campaigns.notion_crm import NotionCRM
from campaigns.settings import load_settings

log = logging.getLogger("campaigns.seed")


@dataclass
class SeedReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"Seeded {len(self.created) + len(self.updated)} templates: "
            f"{len(self.created)} created, {len(self.updated)} updated."
        )


def seed_templates(crm: NotionCRM) -> SeedReport:
    """Write every template file into Notion as an Active template."""
    report = SeedReport()
    for template in load_templates():
        _, created = crm.upsert_template(template)
        (report.created if created else report.updated).append(template.template_id)
        log.info("Template %s %s.", template.template_id, "created" if created else "updated")
    return report


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per template, not per request
    try:
        report = seed_templates(NotionCRM.from_settings(load_settings()))
    except CampaignError as exc:
        print(f"Seeding failed: {exc}", file=sys.stderr)
        return 1
    print(report.summary())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
