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

import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from ..model import CreatePolicy, Settings
from . import dataset as dataset_module
from . import tls as tls_module
from .apollo.api import ApolloApp
from .apollo.contacts import email_key
from .apollo.store import ApolloStore, ContactChange
from .clock import SandboxClock, parse_iso
from .ids import APOLLO_SYNC_USER, PREFIX, to18
from .salesforce.app import start_salesforce
from .salesforce.store import SalesforceStore, StoreError
from .server import SandboxServer, json_response

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


# -- starting the whole sandbox ------------------------------------------------------------------

def load_dataset(sf_store, apollo_store: ApolloStore, dataset, *, chunk: int = 20_000) -> dict:
    """Load a generated dataset into both stores; returns how many rows of each.

    A dataset that offers ``scenarios()`` is generated once and split as it streams;
    otherwise its ``salesforce_records()``, ``salesforce_history()`` and
    ``apollo_contacts()`` are read one after the other. Its lists of contacts come from
    ``labels()``, if it has them.
    """
    labels = getattr(dataset, "labels", None)
    counts = {"accounts": sf_store.load_accounts(dataset.accounts()),
              "stages": apollo_store.load_stages(dataset.stages()),
              "labels": apollo_store.load_labels(labels()) if labels else 0,
              "salesforce_records": 0, "salesforce_history": 0, "apollo_contacts": 0}
    scenarios = getattr(dataset, "scenarios", None)
    with apollo_store.bulk_load():
        if scenarios is None:
            counts["salesforce_records"] = sf_store.load_records(dataset.salesforce_records())
            counts["salesforce_history"] = sf_store.load_history(dataset.salesforce_history())
            counts["apollo_contacts"] = apollo_store.load_contacts(dataset.apollo_contacts())
            return counts
        contacts, records, history = [], [], []

        def flush():
            counts["salesforce_records"] += sf_store.load_records(records) if records else 0
            counts["salesforce_history"] += sf_store.load_history(history) if history else 0
            counts["apollo_contacts"] += apollo_store.load_contacts(contacts) if contacts else 0
            contacts.clear()
            records.clear()
            history.clear()

        for scenario in scenarios():
            if scenario.apollo:
                contacts.append(scenario.apollo)
            records.extend(scenario.salesforce)
            history.extend(scenario.history)
            if len(contacts) >= chunk or len(records) >= chunk:
                flush()
        flush()
    return counts


def _generate(records: int, seed: int):
    generate = getattr(dataset_module, "generate", None)  # a factory, if the module offers one
    return generate(records, seed) if generate else dataset_module.Dataset(records, seed)


class RunningSandbox:
    """Both emulators serving one integrated Apollo ⇄ Salesforce setup over HTTPS on 127.0.0.1.

    Attributes: ``salesforce_url`` (also the instance and login URL), ``apollo_url``,
    ``ca_path``, ``apollo_api_key``, ``salesforce_access_token``, ``salesforce_client_id``,
    ``admin_token`` (``X-Sandbox-Admin`` on both servers), ``sync``, ``clock`` and the
    stores, apps and servers. :meth:`info` is everything a separate process needs.
    """

    def __init__(self, *, salesforce_server, apollo_server, sync: ApolloSync, clock,
                 tls_material, apollo_api_key: str, salesforce_access_token: str,
                 admin_token: str, records: int, seed: int, loaded: dict,
                 build_seconds: float):
        self.salesforce_server = salesforce_server
        self.apollo_server = apollo_server
        self.salesforce_app = salesforce_server.app
        self.apollo_app = apollo_server.app
        self.sync = sync
        self.sf_store = sync.sf
        self.apollo_store = sync.apollo
        self.clock = clock
        self.tls = tls_material
        self.apollo_api_key = apollo_api_key
        self.salesforce_access_token = salesforce_access_token
        self.admin_token = admin_token
        self.records = records
        self.seed = seed
        self.loaded = loaded
        self.build_seconds = build_seconds

    @property
    def salesforce_url(self) -> str:
        return self.salesforce_server.base_url

    @property
    def salesforce_instance_url(self) -> str:
        return self.salesforce_server.base_url

    @property
    def salesforce_login_url(self) -> str:
        """Where OAuth and SOAP login go (the emulated org serves its own login host)."""
        return self.salesforce_server.base_url

    @property
    def salesforce_client_id(self) -> str:
        return self.salesforce_app.client_id

    @property
    def apollo_url(self) -> str:
        return self.apollo_server.base_url

    @property
    def ca_path(self) -> str:
        return str(self.tls.ca_path)

    def pull_tick(self) -> PullReport:
        """Run Apollo's pull now (what ``POST /__sandbox/pull_tick`` does)."""
        return self.sync.pull_tick()

    def info(self) -> dict:
        """A JSON-able description: URLs, CA, credentials, admin routes, what was loaded."""
        sf_app = self.salesforce_app
        settings = self.sync.settings
        return {
            "ca_path": self.ca_path,
            "admin_token": self.admin_token,
            "records": self.records,
            "seed": self.seed,
            "loaded": self.loaded,
            "build_seconds": round(self.build_seconds, 3),
            "apollo": {
                "base_url": self.apollo_url,
                "api_url": self.apollo_url + "/api/v1",
                "api_key": self.apollo_api_key,
                "pull_tick_url": self.apollo_url + "/__sandbox/pull_tick",
                "clock_url": self.apollo_url + "/__sandbox/clock",
                "faults_url": self.apollo_url + "/__sandbox/faults",
            },
            "salesforce": {
                **sf_app.info(),  # instance and login URLs, the app's and the user's secrets
                "base_url": self.salesforce_url,
                "token_url": self.salesforce_login_url + "/services/oauth2/token",
                "access_token": self.salesforce_access_token,
                "faults_url": self.salesforce_url + "/__sandbox/faults",
            },
            "settings": {"create_policy": settings.create_policy.value,
                         "create_stages": list(settings.create_stages),
                         "create_as": settings.create_as,
                         "manage_crm_as_contacts": settings.manage_crm_as_contacts,
                         # The Salesforce user Apollo's sync writes as: records it created
                         # were pushed (rules: LATE_SFDC_CREATE needs to know).
                         "apollo_user_ids": [to18(APOLLO_SYNC_USER)]},
            "now": self.clock().isoformat(),
        }

    def stop(self) -> None:
        """Stop both servers and close (and delete) both stores."""
        for server in (self.apollo_server, self.salesforce_server):
            try:
                server.stop()
            except OSError:
                pass
        self.apollo_store.close()
        self.sf_store.close()

    def __enter__(self) -> "RunningSandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_sandbox(records: int, seed: int, *, tls_dir=None, settings=None, dataset=None,
                  clock=None, apollo_options: Mapping | None = None,
                  salesforce_options: Mapping | None = None,
                  apollo_api_key: str | None = None, admin_token: str | None = None,
                  token_ttl: float = 30 * 86400) -> RunningSandbox:
    """Generate (or take) a dataset, load both stores and serve both APIs over HTTPS.

    ``records`` pairs from seed ``seed`` unless ``dataset`` is given (anything with the
    generator's iterators). ``settings`` overrides the dataset's Apollo settings.
    ``apollo_options`` go to :class:`~core.sandbox.apollo.api.ApolloApp` (``limits``,
    ``retry_after``, ``header_style``...), ``salesforce_options`` to the Salesforce app.
    The access token handed out lives ``token_ttl`` idle seconds.
    """
    started = time.monotonic()
    dataset = dataset if dataset is not None else _generate(records, seed)
    now = getattr(dataset, "now", None)
    clock = clock or SandboxClock(max(now, _utc_now()) if now else None)
    material = tls_module.generate(tls_dir)
    sf_store = SalesforceStore(clock=clock)
    apollo_store = ApolloStore(clock=clock)
    try:
        loaded = load_dataset(sf_store, apollo_store, dataset)
    except BaseException:
        sf_store.close()
        apollo_store.close()
        raise
    build_seconds = time.monotonic() - started
    chosen = coerce_settings(settings if settings is not None
                             else getattr(dataset, "settings", None))
    admin_token = admin_token or secrets.token_urlsafe(16)
    apollo_api_key = apollo_api_key or secrets.token_urlsafe(24)
    sf_server = start_salesforce(sf_store, material, admin_token=admin_token,
                                 **dict(salesforce_options or {}))
    apollo_app = ApolloApp(apollo_store, api_key=apollo_api_key, seed=seed,
                           **dict(apollo_options or {}))
    apollo_server = SandboxServer(apollo_app, material, admin_token=admin_token).start()
    # Apollo last pulled one pull interval ago, so Salesforce edits made since (the
    # dataset's "in flight" ones) arrive on the next tick and older state stays as generated.
    last_pull = clock() - timedelta(minutes=chosen.apollo_pull_minutes)
    sync = ApolloSync(sf_store, apollo_store, chosen, instance_url=sf_server.base_url,
                          last_pull=last_pull)
    sync.attach(apollo_app)
    token = sf_server.app.issue_token(ttl=token_ttl)
    return RunningSandbox(salesforce_server=sf_server, apollo_server=apollo_server,
                          sync=sync, clock=clock, tls_material=material,
                          apollo_api_key=apollo_api_key, salesforce_access_token=token,
                          admin_token=admin_token, records=records, seed=seed, loaded=loaded,
                          build_seconds=build_seconds)


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)
