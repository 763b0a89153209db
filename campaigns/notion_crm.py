"""The Notion adapter: contacts, templates and send log (docs/contract.md §3) as pydantic models.

Notion has no unique constraints, so "find or create" is find-then-create, and reads pick the
oldest row when a person has created a duplicate by hand: every process agrees on the same row.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from campaigns import notion_properties as p
from campaigns.errors import TemplateNotActive, TemplateNotFound
from campaigns.idempotency import contact_ref
from campaigns.models import (
    Contact,
    EmailTemplate,
    NewSend,
    Segment,
    SendRecord,
    SendStatus,
    SendUpdate,
    SequenceStatus,
    Signup,
    TemplateStatus,
)
from campaigns.notion_api import NotionApi
from campaigns.notion_tables import CONTACTS, SENDS, TEMPLATES, sent_label
from campaigns.settings import Settings

log = logging.getLogger("campaigns.notion")
_OLDEST_FIRST = [{"timestamp": "created_time", "direction": "ascending"}]
_ALL: dict[str, Any] = {"sorts": _OLDEST_FIRST}  # no filter: every row


class NotionCRM:
    """Contract-level operations on the Contacts, Email Templates and Email Sends databases."""

    def __init__(self, api: NotionApi, contacts_db: str, templates_db: str, sends_db: str):
        self.api = api
        self._dbs = {"contacts": contacts_db, "templates": templates_db, "sends": sends_db}

    @classmethod
    def from_settings(cls, settings: Settings, **api_options: Any) -> NotionCRM:
        notion = settings.notion
        dbs = {
            "contacts": (notion.contacts_db_id, settings.notion_contacts_data_source_id),
            "templates": (notion.templates_db_id, settings.notion_templates_data_source_id),
            "sends": (notion.sends_db_id, settings.notion_sends_data_source_id),
        }
        api_options.setdefault("requests_per_second", settings.notion_requests_per_second or None)
        api_options.setdefault(
            "data_sources", {db: source for db, source in dbs.values() if source}
        )
        token = notion.token.get_secret_value()
        api = NotionApi(token, settings.notion_base_url, **api_options)
        return cls(api, *(db for db, _ in dbs.values()))

    def data_source_ids(self) -> dict[str, str]:
        """The data source behind each database, by key (looked up once where not known)."""
        return {which: self.data_source(which) for which in self._dbs}

    @property
    def database_ids(self) -> dict[str, str]:
        """The three database ids, by key: contacts, templates, sends."""
        return dict(self._dbs)

    def data_source(self, which: str) -> str:
        return self.api.data_source_id(self._dbs[which])

    # --- contacts ----------------------------------------------------------------------------

    def find_contact(self, email: str) -> Contact | None:
        email = email.strip().lower()
        pages = self._find(
            "contacts", CONTACTS["email"].equals(email), f"looking up contact {contact_ref(email)}"
        )
        return CONTACTS.read(pages[0]) if pages else None

    def contacts_with_status(self, status: SequenceStatus) -> list[Contact]:
        """Every contact whose Sequence Status is `status` (100 per request, oldest first)."""
        body = {
            "filter": CONTACTS["sequence_status"].equals(status),
            "sorts": _OLDEST_FIRST,
        }
        what = f"listing the {status.value} contacts"
        return [
            CONTACTS.read(page) for page in self.api.query(what, self.data_source("contacts"), body)
        ]

    def all_contacts(self) -> list[Contact]:
        """Every contact (100 per request, oldest first)."""
        pages = self.api.query("listing every contact", self.data_source("contacts"), _ALL)
        return [CONTACTS.read(page) for page in pages]

    def all_sends(self) -> list[SendRecord]:
        """Every row of the send log (100 per request, oldest first)."""
        pages = self.api.query("reading the whole send log", self.data_source("sends"), _ALL)
        return [SENDS.read(page) for page in pages]

    def find_or_create_contact(self, signup: Signup) -> Contact:
        """The contact of this address, created with name and business only when missing."""
        existing = self.find_contact(signup.email)
        if existing is not None:
            return existing
        page = self.api.create_page(
            f"creating contact {contact_ref(signup.email)}",
            self.data_source("contacts"),
            CONTACTS.properties(
                first_name=signup.first_name,
                email=signup.email,
                business_name=signup.business_name,
            ),
        )
        return CONTACTS.read(page)

    def enroll_contact(
        self, known: Contact | None, signup: Signup, segment: Segment, enrolled_at: datetime
    ) -> Contact:
        """Record the signup, its segment and `Sequence Status = Active` from `enrolled_at`.

        `known` is the contact the caller has just read (None: there is none, so one page is
        created with everything in one request). A contact already Active since `enrolled_at`
        with the same details is returned as it is: a re-run writes nothing new.
        """
        properties = {
            **_signup_properties(known, signup, segment),
            **CONTACTS.properties(sequence_status=SequenceStatus.ACTIVE, enrolled_at=enrolled_at),
        }
        if known is not None and _already_enrolled(known, signup, segment, enrolled_at):
            return known
        return self._write_contact(known, signup, properties, "enrolling")

    def record_late_signup(
        self, known: Contact | None, signup: Signup, segment: Segment
    ) -> Contact:
        """Record a signup that came after the campaign's end: its answers, `Campaign Ended`.

        Nothing is scheduled for it, so `Enrolled At` is left as it is (empty for a new contact).
        One request: a create, or an update of `known`.
        """
        properties = {
            **_signup_properties(known, signup, segment),
            **CONTACTS.properties(sequence_status=SequenceStatus.CAMPAIGN_ENDED),
        }
        return self._write_contact(known, signup, properties, "recording the late signup of")

    def _write_contact(
        self, known: Contact | None, signup: Signup, properties: dict[str, Any], doing: str
    ) -> Contact:
        if known is None:
            page = self.api.create_page(
                f"creating contact {contact_ref(signup.email)}",
                self.data_source("contacts"),
                {**CONTACTS.properties(email=signup.email), **properties},
            )
            log.info(
                "Created contact page %s for contact %s.", page["id"], contact_ref(signup.email)
            )
            return CONTACTS.read(page)
        page = self.api.update_page(f"{doing} contact {known.page_id}", known.page_id, properties)
        return CONTACTS.read(page)

    def set_contact_status(self, page_id: str, status: SequenceStatus) -> Contact:
        page = self.api.update_page(
            f"setting contact {page_id} to {status.value}",
            page_id,
            CONTACTS.properties(sequence_status=status),
        )
        return CONTACTS.read(page)

    def contact_status(self, email: str) -> SequenceStatus | None:
        """The contact's current `Sequence Status`, read fresh (None when there is no contact)."""
        contact = self.find_contact(email)
        return contact.sequence_status if contact else None

    def record_sent(
        self, page_id: str, email_number: int, sent_at: datetime, *, last: bool
    ) -> Contact:
        """Move the contact's Last Email Sent on to this email; Completed after the `last`."""
        completed = {"sequence_status": SequenceStatus.COMPLETED} if last else {}
        properties = CONTACTS.properties(
            last_email_sent=email_number, last_email_sent_at=sent_at, **completed
        )
        page = self.api.update_page(
            f"recording email {email_number} on contact {page_id}", page_id, properties
        )
        return CONTACTS.read(page)

    # --- templates ---------------------------------------------------------------------------

    def find_template(self, template_id: str) -> EmailTemplate | None:
        pages = self._find(
            "templates",
            TEMPLATES["template_id"].equals(template_id),
            f"looking up template {template_id}",
        )
        return TEMPLATES.read(pages[0]) if pages else None

    def get_template(self, template_id: str) -> EmailTemplate:
        """The Active template with this id, or an error saying why it cannot be used."""
        return _usable(template_id, self.find_template(template_id))

    def get_templates(self, template_ids: list[str]) -> dict[str, EmailTemplate]:
        """Several Active templates in one query (or the error of the first unusable one)."""
        flt = {"or": [TEMPLATES["template_id"].equals(t) for t in template_ids]}
        what = f"looking up {len(template_ids)} templates"
        found: dict[str, EmailTemplate] = {}
        body = {"filter": flt, "sorts": _OLDEST_FIRST}
        for page in self.api.query(what, self.data_source("templates"), body):
            template = TEMPLATES.read(page)
            found.setdefault(template.template_id, template)
        return {tid: _usable(tid, found.get(tid)) for tid in template_ids}

    def upsert_template(self, template: EmailTemplate) -> tuple[EmailTemplate, bool]:
        """Create or overwrite the template row with this id; True when it was created."""
        properties = TEMPLATES.properties(**template.model_dump(exclude={"page_id"}))
        existing = self.find_template(template.template_id)
        what = f"writing template {template.template_id}"
        if existing is not None and existing.page_id:
            return TEMPLATES.read(self.api.update_page(what, existing.page_id, properties)), False
        page = self.api.create_page(what, self.data_source("templates"), properties)
        return TEMPLATES.read(page), True

    # --- send log ----------------------------------------------------------------------------

    def find_send(self, email: str, email_number: int) -> SendRecord | None:
        email = email.strip().lower()
        flt = {"and": [SENDS["email"].equals(email), SENDS["email_number"].equals(email_number)]}
        pages = self._find("sends", flt, f"looking up send {email_number} of {contact_ref(email)}")
        return SENDS.read(pages[0]) if pages else None

    def find_sends(self, email: str) -> dict[int, SendRecord]:
        """Every send-log row of one contact, by email number (the oldest row per number)."""
        email = email.strip().lower()
        flt = SENDS["email"].equals(email)
        what = f"reading the send log of {contact_ref(email)}"
        rows: dict[int, SendRecord] = {}
        body = {"filter": flt, "sorts": _OLDEST_FIRST}
        for page in self.api.query(what, self.data_source("sends"), body, limit=500):
            row = SENDS.read(page)
            rows.setdefault(row.email_number, row)
        return rows

    def find_send_by_resend_id(self, resend_email_id: str) -> SendRecord | None:
        flt = SENDS["resend_email_id"].equals(resend_email_id)
        pages = self._find("sends", flt, f"looking up the send of Resend email {resend_email_id}")
        return SENDS.read(pages[0]) if pages else None

    def find_or_create_send(self, new: NewSend) -> SendRecord:
        """The row of (email, email number), created as Scheduled when missing."""
        existing = self.find_send(new.email, new.email_number)
        if existing is not None:
            return existing
        return self.write_send(new, SendUpdate(status=SendStatus.SCHEDULED))

    def write_send(
        self, new: NewSend, update: SendUpdate, page_id: str | None = None
    ) -> SendRecord:
        """Write a step's outcome to its row: update row `page_id`, or create the row when None.

        Rows are written when something happens to a step (sent, skipped, failed), so a step
        costs one Notion write; the caller knows from the orchestrator, or has read, whether
        the row exists.
        """
        if page_id is not None:
            return self.update_send(page_id, update)
        email = new.email.strip().lower()
        related = {"contact_id": new.contact_id} if new.contact_id else {}
        properties = {
            **SENDS.properties(
                label=sent_label(new.template_id, email),
                email=email,
                email_number=new.email_number,
                template_id=new.template_id,
                scheduled_for=new.scheduled_for,
                idempotency_key=new.idempotency_key,
                **related,
            ),
            **_send_update_properties(update),
        }
        what = f"creating send {new.email_number} of {contact_ref(email)}"
        return SENDS.read(self.api.create_page(what, self.data_source("sends"), properties))

    def update_send(self, page_id: str, update: SendUpdate) -> SendRecord:
        page = self.api.update_page(
            f"setting send {page_id} to {update.status.value}",
            page_id,
            _send_update_properties(update),
        )
        return SENDS.read(page)

    # --- shared ------------------------------------------------------------------------------

    def _find(self, which: str, flt: dict[str, Any], what: str) -> list[dict[str, Any]]:
        pages = list(
            self.api.query(
                what, self.data_source(which), {"filter": flt, "sorts": _OLDEST_FIRST}, limit=10
            )
        )
        if len(pages) > 1:
            log.warning(
                "Found %d rows in %s while %s; using the oldest, %s.",
                len(pages),
                which,
                what,
                pages[0]["id"],
            )
        return pages


def _send_update_properties(update: SendUpdate) -> dict[str, Any]:
    """The fields `update` sets (None leaves a property as it is); long text is cut to fit."""
    values = update.model_dump(exclude_none=True)
    cut = {name: value[: p.MAX_TEXT] for name, value in values.items() if isinstance(value, str)}
    return SENDS.properties(**{**values, **cut})


def _signup_properties(known: Contact | None, signup: Signup, segment: Segment) -> dict[str, Any]:
    """The contact's answers as Notion properties.

    `Time Zone` is written only when the signup gives one or the contact held one (to clear
    it), so a Contacts database not yet migrated keeps working for signups without a zone.
    """
    zone = (
        {"time_zone": signup.timezone or ""}
        if signup.timezone or (known is not None and known.time_zone)
        else {}
    )
    return CONTACTS.properties(
        first_name=signup.first_name,
        business_name=signup.business_name,
        segment=segment,
        assessment_score=signup.assessment_score,
        red_systems=signup.red_systems,
        orange_systems=signup.orange_systems,
        yellow_systems=signup.yellow_systems,
        green_systems=signup.green_systems,
        **zone,
    )


def _already_enrolled(
    contact: Contact, signup: Signup, segment: Segment, enrolled_at: datetime
) -> bool:
    """True when the contact already holds exactly this enrollment (nothing new to write)."""
    return (
        contact.sequence_status == SequenceStatus.ACTIVE
        and contact.enrolled_at == enrolled_at
        and contact.segment == segment
        and (contact.first_name, contact.business_name, contact.assessment_score)
        == (signup.first_name, signup.business_name, signup.assessment_score)
        and contact.time_zone == (signup.timezone or "")
        and (
            contact.red_systems,
            contact.orange_systems,
            contact.yellow_systems,
            contact.green_systems,
        )
        == (signup.red_systems, signup.orange_systems, signup.yellow_systems, signup.green_systems)
    )


def _usable(template_id: str, template: EmailTemplate | None) -> EmailTemplate:
    """The template if it can be sent, else the error that says why not."""
    if template is None:
        raise TemplateNotFound(
            f"Template {template_id} does not exist in the Email Templates database."
        )
    if template.status != TemplateStatus.ACTIVE:
        raise TemplateNotActive(
            f"Template {template_id} has Status {template.status.value}; only Active "
            "templates are sent."
        )
    return template
