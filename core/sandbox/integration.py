"""Both emulators as one integrated Apollo ⇄ Salesforce setup (DESIGN §3.1).

The :class:`ApolloSync` plays Apollo's Salesforce integration between an
:class:`~core.sandbox.apollo.store.ApolloStore` and a
:class:`~core.sandbox.salesforce.store.SalesforceStore`:

- S8: an email edit of a linked Apollo contact (PATCH, bulk_update) is pushed to the linked
  Lead/Contact at once, as Apollo's sync user; a refused push (a converted Lead) is recorded
  on the contact's ``crm_job`` as failed, with the error code.
- S7: a new Apollo contact, or one moved to a chosen stage, gets a Salesforce Lead/Contact
  when the push settings say so, and is linked to it.
- S1/S5, S4, S6, S9: :meth:`ApolloSync.pull_tick` is Apollo's ~30-minute pull: Salesforce
  email edits reach the linked contacts, records are linked by email (the Contact wins over
  a Lead), new records are imported as contacts, and a never-pushed contact for whom a
  record was created later takes that record's email.

Apollo's own writes to Salesforce come back in the next pull; they are recognised by the
sync user (``LastModifiedById``) and not pulled again, so the two sides never ping-pong.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..model import CreatePolicy, Settings
from .apollo.contacts import email_key
from .apollo.store import ApolloStore, ContactChange
from .clock import parse_iso
from .ids import APOLLO_SYNC_USER, PREFIX, to18
from .salesforce.store import StoreError
from .server import json_response

SYNC_USER = to18(APOLLO_SYNC_USER)
# Salesforce stamps times in milliseconds; re-read a little before the last pull so a change
# stamped in the same instant as the pull is never missed (handling a record twice is harmless).
PULL_OVERLAP = timedelta(seconds=1)
DEFAULT_INSTANCE_URL = "https://sandbox.my.salesforce.com"


def coerce_settings(settings: Settings | Mapping | None) -> Settings:
    """Apollo's push/pull settings from a :class:`~core.model.Settings`, a dict or None."""
    if settings is None:
        return Settings()
    if isinstance(settings, Settings):
        return settings
    if isinstance(settings, Mapping):
        known = {k: v for k, v in settings.items() if k in Settings.__dataclass_fields__}
        if "create_policy" in known:
            known["create_policy"] = CreatePolicy(str(getattr(known["create_policy"], "value",
                                                              known["create_policy"])).lower())
        if "create_stages" in known:
            stages = known["create_stages"]
            known["create_stages"] = (stages,) if isinstance(stages, str) else tuple(stages or ())
        if "create_as" in known and known["create_as"] not in ("Lead", "Contact"):
            raise ValueError(f"create_as must be 'Lead' or 'Contact', not {known['create_as']!r}")
        return Settings(**known)
    raise TypeError(f"settings must be Settings, a mapping or None, not {type(settings).__name__}")


def object_of(record_id: str | None) -> str | None:
    """``Lead`` or ``Contact`` from a Salesforce id's key prefix (None for anything else)."""
    if not record_id:
        return None
    prefix = record_id[:3]
    if prefix == PREFIX["Lead"]:
        return "Lead"
    if prefix == PREFIX["Contact"]:
        return "Contact"
    return None


def primary_link(contact: Mapping) -> tuple[str, str] | None:
    """The Salesforce record a contact is synced with: its Contact if it has one, else its
    Lead (Apollo prefers the Contact)."""
    if contact.get("salesforce_contact_id"):
        return "Contact", to18(contact["salesforce_contact_id"])
    if contact.get("salesforce_lead_id"):
        return "Lead", to18(contact["salesforce_lead_id"])
    sf_id = contact.get("salesforce_id")
    obj = object_of(sf_id)
    return (obj, to18(sf_id)) if obj else None


@dataclass
class PullReport:
    """What one pull tick did, by rule (Apollo contact ids in each list)."""

    since: str
    until: str
    records_seen: int = 0
    updated: list[str] = field(default_factory=list)  # S1/S5: email taken from Salesforce
    linked: list[str] = field(default_factory=list)  # S4: linked by the same email
    relinked: list[str] = field(default_factory=list)  # moved from a Lead to its Contact
    late_created: list[str] = field(default_factory=list)  # S9: email overwritten, linked
    imported: list[str] = field(default_factory=list)  # S6: new contacts from Salesforce
    in_crm_only: int = 0  # S6 with manage_crm_as_contacts off: shown "In CRM" only
    echoes: int = 0  # Apollo's own pushes coming back: not pulled again

    def as_dict(self) -> dict:
        """JSON-able summary (the admin endpoint's answer)."""
        return {"since": self.since, "until": self.until, "records_seen": self.records_seen,
                "updated": self.updated, "linked": self.linked, "relinked": self.relinked,
                "late_created": self.late_created, "imported": self.imported,
                "in_crm_only": self.in_crm_only, "echoes": self.echoes}


class ApolloSync:
    """Apollo's Salesforce integration between the two sandbox stores.

    ``settings`` mirrors Apollo's push/pull settings (create_policy off|on|stages,
    create_stages as stage names or ids, create_as Lead|Contact, manage_crm_as_contacts).
    ``last_pull`` is when Apollo last pulled (default: now), so records already in the
    stores count as pulled. Attach it to an :class:`~core.sandbox.apollo.api.ApolloApp`
    with :meth:`attach` so API writes trigger the pushes.
    """

    def __init__(self, sf_store, apollo_store: ApolloStore, settings: Settings | Mapping | None = None,
                 *, instance_url: str = DEFAULT_INSTANCE_URL, last_pull: datetime | None = None):
        self.sf = sf_store
        self.apollo = apollo_store
        self.settings = coerce_settings(settings)
        self.instance_url = instance_url.rstrip("/")
        self.clock = apollo_store.clock
        self.last_pull: datetime = last_pull or self.clock()
        self.pulls = 0
        # (Id, SystemModstamp) near the last tick. Records already in the stores were pulled
        # at ``last_pull``, including those the next tick's overlap re-reads.
        self._pulled_versions: set[tuple] = self._versions_at(self.last_pull)
        self._lock = threading.RLock()  # pushes and pulls happen one at a time, as in Apollo

    def _versions_at(self, until: datetime) -> set[tuple]:
        """The record versions stamped within the pull overlap before ``until``."""
        return {(r.get("Id"), r.get("SystemModstamp"))
                for r in self.sf.changed_since(until - PULL_OVERLAP)
                if (parse_iso(r.get("SystemModstamp")) or until) <= until}

    # -- wiring ------------------------------------------------------------------------------

    def attach(self, app) -> None:
        """Make ``app`` (an ApolloApp) push through this sync and serve
        ``POST /__sandbox/pull_tick`` on its admin surface."""
        app.sync = self
        app.admin_routes[("POST", "/__sandbox/pull_tick")] = (
            lambda request: json_response(200, self.pull_tick().as_dict()))

    # -- Apollo → Salesforce (S7, S8) --------------------------------------------------------

    def contact_changed(self, change: ContactChange) -> None:
        """After an API write: push an email edit (S8), or create on a stage move (S7)."""
        with self._lock:
            contact = change.contact
            link = primary_link(contact)
            if link and change.email_changed:
                self._push_email(contact, *link)
            elif link is None and "contact_stage_id" in change.changed:
                if self._creates_for(contact):
                    self._create_in_salesforce(contact)

    def contact_created(self, contact: dict) -> None:
        """After POST /contacts: create the Salesforce record if the push settings say so (S7)."""
        with self._lock:
            if self._creates_for(contact):
                self._create_in_salesforce(contact)

    def _creates_for(self, contact: Mapping) -> bool:
        stage = self.apollo.stage(contact.get("contact_stage_id")) or {}
        return self.settings.creates_for_stage(stage.get("name"), contact.get("contact_stage_id"))

    def _push_email(self, contact: dict, obj: str, sf_id: str) -> dict:
        """S8: write the contact's email to its linked record as Apollo's sync user."""
        try:
            if self.sf.get(obj, sf_id) is None:
                job = self.apollo.new_crm_job(
                    "failed", error_code="NOT_FOUND",
                    note=f"The linked Salesforce {obj} {sf_id} does not exist")
            else:
                self.sf.update(obj, sf_id, {"Email": contact.get("email") or None},
                               user_id=SYNC_USER)
                job = self.apollo.new_crm_job("completed")
        except StoreError as exc:
            job = self.apollo.new_crm_job("failed", error_code=exc.error_code,
                                          note=f"{exc.error_code}: {exc.message}")
        pushed = True if job["status"] == "completed" else None
        self.apollo.set_fields(contact["id"], {"crm_job": job, "queued_for_crm_push": False},
                               touch=False, pushed=pushed)
        return job

    def _create_in_salesforce(self, contact: dict) -> dict:
        """S7: create a Lead or Contact from an Apollo contact as the sync user; link them."""
        obj = self.settings.create_as
        # Only the fields the sandbox org has (it keeps no Title).
        fields = {"FirstName": contact.get("first_name") or None,
                  "LastName": contact.get("last_name") or "[not provided]",
                  "Email": contact.get("email") or None}
        if obj == "Lead":
            fields["Company"] = contact.get("organization_name") or "[not provided]"
        fields = {k: v for k, v in fields.items() if v is not None}
        try:
            record = self.sf.create(obj, fields, user_id=SYNC_USER)
        except StoreError as exc:
            job = self.apollo.new_crm_job("failed", error_code=exc.error_code,
                                          note=f"{exc.error_code}: {exc.message}")
            self.apollo.set_fields(contact["id"], {"crm_job": job, "queued_for_crm_push": False},
                                   touch=False)
            return job
        job = self.apollo.new_crm_job("completed")
        self.apollo.set_fields(contact["id"], {**self._link_fields(record), "crm_job": job,
                                               "queued_for_crm_push": False},
                               touch=True, pushed=True)
        return job

    def _link_fields(self, record: Mapping, contact: Mapping | None = None) -> dict:
        """The Apollo fields that link a contact to a Salesforce Lead/Contact."""
        sf_id = to18(record["Id"])
        obj = object_of(sf_id)
        fields = {"salesforce_id": sf_id, "crm_record_url": f"{self.instance_url}/{sf_id}"}
        if obj == "Contact":
            fields["salesforce_contact_id"] = sf_id
            fields["salesforce_account_id"] = record.get("AccountId")
        else:
            fields["salesforce_lead_id"] = sf_id
            if contact is not None and contact.get("salesforce_contact_id"):
                fields["salesforce_contact_id"] = None
        return fields

    # -- Salesforce → Apollo (S1/S5, S4, S6, S9) ---------------------------------------------

    def pull_tick(self) -> PullReport:
        """Apollo's periodic pull: everything Salesforce changed since the last tick."""
        with self._lock:
            since = self.last_pull
            until = self.clock()
            changed = [r for r in self.sf.changed_since(since - PULL_OVERLAP)
                       if (r.get("Id"), r.get("SystemModstamp")) not in self._pulled_versions]
            self.last_pull = until
            self.pulls += 1
            # Versions inside the next tick's overlap were handled now: not again then.
            edge = until - PULL_OVERLAP
            self._pulled_versions = {(r.get("Id"), r.get("SystemModstamp")) for r in changed
                                     if (parse_iso(r.get("SystemModstamp")) or until) >= edge}
            report = PullReport(since.isoformat(), until.isoformat(), len(changed))
            # Contacts first: when a Lead and a Contact are one person, the Contact links.
            for record in sorted(changed, key=lambda r: object_of(r.get("Id")) != "Contact"):
                self._pull_record(record, report)
            return report

    def _pull_record(self, record: Mapping, report: PullReport) -> None:
        sf_id = to18(record["Id"])
        obj = object_of(sf_id)
        if obj is None or record.get("IsDeleted"):
            return
        if obj == "Lead" and record.get("IsConverted"):
            self._follow_conversion(record, report)
            return
        email = record.get("Email")
        linked = [c for c in self.apollo.find_linked(sf_id) if primary_link(c) == (obj, sf_id)]
        if linked:
            if to18(record.get("LastModifiedById") or "") == SYNC_USER:
                report.echoes += 1  # Apollo's own push coming back
                return
            for contact in linked:
                if email_key(contact.get("email")) != email_key(email):
                    self.apollo.set_email(contact["id"], email, how="crm")
                    report.updated.append(contact["id"])
            return
        if obj == "Lead":
            twin = self._twin_contact(email)
            if twin is not None:
                # The person's Contact carries the link (Apollo's only dedupe).
                if not self.apollo.find_linked(to18(twin["Id"])):
                    self._link_by_email(twin, "Contact", email, report)
                return
        if self._link_by_email(record, obj, email, report):
            return
        created_by_apollo = to18(record.get("CreatedById") or "") == SYNC_USER
        if created_by_apollo:
            return
        # S9: a never-pushed contact for this person, made before this record was created.
        created = parse_iso(record.get("CreatedDate"))
        company = self._company_of(record)
        late = [c for c in self.apollo.find_unlinked(first=record.get("FirstName"),
                                                     last=record.get("LastName"),
                                                     company=company, never_pushed=True)
                if created is None or (parse_iso(c.get("created_at")) or created) <= created]
        for contact in late:
            self.apollo.set_email(contact["id"], email, how="crm")
            self.apollo.set_fields(contact["id"], self._link_fields(record, contact))
            report.late_created.append(contact["id"])
        if late:
            return
        # S6: a record Apollo has no contact for.
        if self.settings.manage_crm_as_contacts:
            report.imported.append(self._import(record, company))
        else:
            report.in_crm_only += 1

    def _link_by_email(self, record: Mapping, obj: str, email: str | None,
                       report: PullReport) -> bool:
        """S4: link Apollo contacts with this email and no link (for a Contact, also those
        linked to a Lead only). Returns whether any was linked."""
        matched = []
        for contact in self.apollo.find_by_email(email) if email else []:
            link = primary_link(contact)
            if link is None:
                report.linked.append(contact["id"])
            elif obj == "Contact" and link[0] == "Lead":
                report.relinked.append(contact["id"])
            else:
                continue
            matched.append(contact)
        for contact in matched:
            self.apollo.set_fields(contact["id"], self._link_fields(record, contact))
        return bool(matched)

    def _twin_contact(self, email: str | None) -> dict | None:
        """A live Contact with this email (so a Lead with it is not linked)."""
        if not email:
            return None
        for record in self.sf.find_by_email(email):
            if object_of(record.get("Id")) == "Contact":
                return record
        return None

    def _follow_conversion(self, lead: Mapping, report: PullReport) -> None:
        """A converted Lead: contacts linked to it follow to the Contact it became."""
        contact_id = lead.get("ConvertedContactId")
        if not contact_id:
            return
        record = self.sf.get("Contact", to18(contact_id))
        if record is None:
            return
        for contact in self.apollo.find_linked(to18(lead["Id"])):
            if not contact.get("salesforce_contact_id"):
                self.apollo.set_fields(contact["id"], {
                    **self._link_fields(record), "salesforce_lead_id": to18(lead["Id"])})
                report.relinked.append(contact["id"])

    def _company_of(self, record: Mapping) -> str | None:
        if record.get("Company"):
            return record["Company"]
        account_id = record.get("AccountId")
        if account_id:
            account = self.sf.get("Account", account_id)
            if account:
                return account.get("Name")
        return None

    def _import(self, record: Mapping, company: str | None) -> str:
        """S6: a Salesforce record becomes an Apollo contact (source ``crm``), linked."""
        contact = self.apollo.create({"first_name": record.get("FirstName"),
                                      "last_name": record.get("LastName"),
                                      "title": record.get("Title"),
                                      "organization_name": company}, source="crm")
        if record.get("Email"):
            self.apollo.set_email(contact["id"], record["Email"], how="crm")
        self.apollo.set_fields(contact["id"], {**self._link_fields(record),
                                               "source_display_name": "Imported from CRM"})
        return contact["id"]
