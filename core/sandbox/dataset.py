"""A seeded generator of realistic Apollo/Salesforce workspaces with known situations.

Every pair is generated for one *situation* of the decision table (DESIGN §3.2) in fixed,
reported proportions, together with the rule the engine must predict for it. Records come
out in the APIs' own wire shapes, so the same data can be served by the emulators or
written straight into a cache (:func:`write_cache`) through the pull's own ingest code.
Everything is streamed: a million records per side never sit in memory at once.

The generator also simulates Concord's own past: the base (the last email both sides
agreed on) and observations (when Concord first saw each value), as a workspace that has
been reconciled before would have them.
"""

from __future__ import annotations

import bisect
import functools
import random
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from .. import rules
from ..emails import comparison_key
from ..model import UTC, CreatePolicy, Settings
from ..store.cache import Cache, chunked, iso
from ..store.ingest import add_history, upsert_apollo, upsert_salesforce
from ..store.settings import save_settings
from . import ids, names

DAY = 86400
PULL_EVERY = 6 * 3600  # the simulated Concord pulled every six hours
# How many contact lists a contact is in: 0 for 8%, 1 for 60%, 2 for 26%, 3 for 6%.
LISTS_PER_CONTACT = ((0.08, 0), (0.68, 1), (0.94, 2), (1.0, 3))
LIST_KIND = 0x8  # the id kind of the generated lists
_MASK64 = (1 << 64) - 1


def _mix64(value: int) -> int:
    """SplitMix64's finaliser: a cheap, well-spread hash of a 64-bit integer."""
    value = (value + 0x9E3779B97F4A7C15) & _MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK64
    return value ^ (value >> 31)


@dataclass
class Scenario:
    """One generated pair and what the engine must make of it."""

    number: int
    situation: str
    expected_rule: str  # the native prediction's rule id
    apollo: dict | None
    salesforce: list[dict] = field(default_factory=list)  # the linked record first
    history: list[dict] = field(default_factory=list)
    base: tuple | None = None  # (apollo_id, sf_id, email, synced_at)
    observations: list[tuple] = field(default_factory=list)  # (side, id, email, first, prior)
    expected_link: str | None = None  # crm_id | email | None
    suggestion: bool = False  # a fuzzy link should be suggested for this pair
    company: str = ""

    @property
    def key(self) -> str:
        """The id the pair is found by: the Apollo contact's, else the Salesforce record's."""
        return self.apollo["id"] if self.apollo else self.salesforce[0]["Id"]


# (situation, weight, expected native rule); weights are normalised.
SITUATIONS: tuple[tuple[str, float, str], ...] = (
    ("same", 0.50, rules.SAME),
    ("same_case_only", 0.03, rules.SAME),
    ("same_linked_by_email", 0.04, rules.SAME),
    ("same_role_account", 0.01, rules.SAME),
    ("one_sided_apollo", 0.06, rules.ONE_SIDED),
    ("one_sided_salesforce", 0.05, rules.ONE_SIDED),
    ("one_sided_salesforce_verified", 0.02, rules.ONE_SIDED),
    ("in_flight_salesforce", 0.01, rules.ONE_SIDED),
    ("plus_tag_apollo", 0.005, rules.ONE_SIDED),
    ("both_changed", 0.02, rules.LAST_EDIT),
    ("no_base_field_history", 0.02, rules.LAST_EDIT),
    ("gmail_dots_both_changed", 0.005, rules.LAST_EDIT),
    ("late_sfdc_create", 0.015, rules.LATE_SFDC_CREATE),
    ("unknown_order", 0.02, rules.UNKNOWN_ORDER),
    ("bounced_salesforce", 0.015, rules.ONE_SIDED),
    ("bounced_apollo", 0.015, rules.ONE_SIDED),
    ("blank_apollo", 0.01, rules.ONE_SIDED),
    ("blank_salesforce", 0.01, rules.ONE_SIDED),
    ("invalid_apollo", 0.01, rules.ONE_SIDED),
    ("converted_lead_followed", 0.01, rules.SAME),
    ("converted_lead_unresolved", 0.005, rules.CONVERTED_LEAD),
    ("lead_contact_twin", 0.01, rules.SAME),
    ("apollo_only_create", 0.015, rules.APOLLO_ONLY_CREATE),
    ("apollo_only_no_push", 0.03, rules.APOLLO_ONLY_NO_PUSH),
    ("sfdc_only", 0.03, rules.SFDC_ONLY_IMPORT),
    ("fuzzy_same_person", 0.01, rules.APOLLO_ONLY_NO_PUSH),
)
SITUATION_NAMES = tuple(s[0] for s in SITUATIONS)
EXPECTED_RULE = {s[0]: s[2] for s in SITUATIONS}
AGREEING = ("same", "same_case_only", "same_linked_by_email", "same_role_account")
# "demo" shows every situation often (about 58% of pairs agree); "typical" is a workspace
# whose sync mostly works (about 95% agree), the rest in the same relative proportions.
MIXES = ("demo", "typical")


def _weights(mix: str) -> list[tuple[str, float]]:
    if mix not in MIXES:
        raise ValueError(f"mix must be one of {', '.join(MIXES)}, got {mix!r}")
    weights = [(name, w) for name, w, _ in SITUATIONS]
    if mix == "typical":
        agreeing = sum(w for n, w in weights if n in AGREEING)
        others = sum(w for n, w in weights if n not in AGREEING)
        scale = 0.95 / 0.05 * others / agreeing
        weights = [(n, w * scale if n in AGREEING else w) for n, w in weights]
    return weights


def allocate(records: int, mix: str = "demo") -> dict[str, int]:
    """How many pairs of each situation ``records`` pairs hold (largest remainder, exact)."""
    weights = _weights(mix)
    total = sum(w for _, w in weights)
    shares = [(name, records * w / total) for name, w in weights]
    counts = {name: int(share) for name, share in shares}
    left = records - sum(counts.values())
    by_remainder = sorted(shares, key=lambda s: (s[1] - int(s[1])), reverse=True)
    for name, _ in by_remainder[:left]:
        counts[name] += 1
    return counts


def _apollo_ts(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(seconds))


def _sf_ts(seconds: int | None) -> str | None:
    if seconds is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S.000+0000", time.gmtime(seconds))


@functools.lru_cache(maxsize=4096)
def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


class Dataset:
    """A generated workspace: ``Dataset(records=10_000, seed=7)``; iterate what you need."""

    def __init__(self, records: int, seed: int = 0, now: datetime | None = None,
                 mix: str = "demo"):
        if records < 1:
            raise ValueError("records must be at least 1")
        self.records = records
        self.seed = seed
        self.mix = mix
        self.now = (now or datetime.now(UTC)).replace(microsecond=0)
        self.now_s = int(self.now.timestamp())
        self.counts = allocate(records, mix)
        self.settings = Settings(
            create_policy=CreatePolicy.STAGES, create_stages=("Interested",), create_as="Lead",
            manage_crm_as_contacts=True,
            apollo_user_ids=(ids.to18(ids.APOLLO_SYNC_USER),),
        )
        self._companies = max(8, records // 12)
        self._stage_ids = [ids.apollo_id(i + 1, kind=0x7) for i in range(len(names.STAGES))]
        self._list_ids = [ids.apollo_id(i + 1, kind=LIST_KIND) for i in range(len(names.LISTS))]
        # 16-bit draws map to a list count and to a list through these tables.
        self._lists_wanted = bytes(next(k for bound, k in LISTS_PER_CONTACT if d / 65536 < bound)
                                   for d in range(65536))
        weights = [w for _, w in names.LISTS]
        cumulative = [sum(weights[:i + 1]) / sum(weights) for i in range(len(weights))]
        self._list_pick = bytes(bisect.bisect_right(cumulative, d / 65536) for d in range(65536))
        self._list_salt = _mix64(seed ^ 0x4C4953545321)
        self._list_counts: list[int] | None = None
        self._company_cache: dict[int, tuple[str, str, str]] = {}
        self._apollo_user = ids.to18(ids.APOLLO_SYNC_USER)
        self._other_user = ids.to18(ids.OTHER_USER)
        self._concord_user = ids.to18(ids.CONCORD_USER)

    # -- reference data ---------------------------------------------------------------------

    def stages(self) -> list[dict]:
        """Apollo contact stages, as ``GET /contact_stages`` lists them."""
        return [{"id": sid, "name": name, "display_name": name, "display_order": i + 1,
                 "category": category}
                for i, (sid, (name, category)) in enumerate(zip(self._stage_ids, names.STAGES))]

    def stage_names(self) -> dict[str, str]:
        return {s["id"]: s["name"] for s in self.stages()}

    def labels(self) -> list[dict]:
        """The team's contact lists, as ``GET /labels`` lists them (``cached_count`` exact)."""
        if self._list_counts is None:
            counts = [0] * len(self._list_ids)
            index = {list_id: i for i, list_id in enumerate(self._list_ids)}
            for number, situation in enumerate(self._order(), start=1):
                if situation != "sfdc_only":  # the one situation without an Apollo contact
                    for list_id in self.contact_label_ids(number):
                        counts[index[list_id]] += 1
            self._list_counts = counts
        created = self.now_s - 800 * DAY
        return [{"id": list_id, "name": name, "modality": "contacts",
                 "cached_count": self._list_counts[i], "user_id": ids.apollo_id(1, kind=0x3),
                 "created_at": _apollo_ts(created + i * 30 * DAY),
                 "updated_at": _apollo_ts(self.now_s - (i + 1) * 3600)}
                for i, (list_id, (name, _)) in enumerate(zip(self._list_ids, names.LISTS))]

    def contact_label_ids(self, number: int) -> list[str]:
        """The lists contact ``number`` is in: a pure function of the seed and the number,
        apart from the scenario generator's random stream so its choices stay as they were."""
        # One 64-bit hash gives four 16-bit draws: how many lists, then up to three picks.
        value = _mix64(self._list_salt ^ number)
        wanted = self._lists_wanted[value & 0xFFFF]
        chosen: list[int] = []
        draws, hashes = 3, 1
        while len(chosen) < wanted:
            if draws:
                value, draws = value >> 16, draws - 1
            else:  # repeated picks used the draws up: hash again
                value = _mix64(self._list_salt ^ number ^ hashes << 40)
                draws, hashes = 3, hashes + 1
            pick = self._list_pick[value & 0xFFFF]
            if pick not in chosen:
                chosen.append(pick)
        if wanted > 1:
            chosen.sort()
        return [self._list_ids[i] for i in chosen]

    def company(self, index: int) -> tuple[str, str, str]:
        """``(name, domain, account id)`` of company ``index``; stable for a seed."""
        found = self._company_cache.get(index)
        if found is None:
            found = self._company_cache[index] = self._make_company(index)
        return found

    def _make_company(self, index: int) -> tuple[str, str, str]:
        rng = random.Random(self.seed * 1_000_003 + index)
        a = rng.choice(names.COMPANY_WORDS_A)
        b = rng.choice(names.COMPANY_WORDS_B)
        name = f"{a} {b}{rng.choice(names.COMPANY_SUFFIXES)}"
        if index >= len(names.COMPANY_WORDS_A) * len(names.COMPANY_WORDS_B) // 2:
            name = f"{a} {rng.choice(names.COMPANY_WORDS_A)} {b}"
        domain = f"{_ascii(a)}{_ascii(b)}{index % 97 if index > 200 else ''}.{rng.choice(names.TLDS)}"
        return name, domain, ids.salesforce_id("Account", index + 1)

    def accounts(self) -> Iterator[dict]:
        """Salesforce Accounts, one per company."""
        for i in range(self._companies):
            name, domain, account_id = self.company(i)
            yield {"attributes": {"type": "Account"}, "Id": account_id, "Name": name,
                   "Website": f"https://www.{domain}"}

    # -- the scenarios ----------------------------------------------------------------------

    def _order(self, rng: random.Random | None = None) -> list[str]:
        """The situation of every pair, in the seeded order (``rng`` goes on from there)."""
        order = []
        for name in SITUATION_NAMES:
            order.extend([name] * self.counts[name])
        (rng or random.Random(self.seed)).shuffle(order)
        return order

    def scenarios(self) -> Iterator[Scenario]:
        """Every generated pair, in a seeded order."""
        rng = random.Random(self.seed)
        for number, situation in enumerate(self._order(rng), start=1):
            yield _Builder(self, number, situation, rng).build()

    def apollo_contacts(self) -> Iterator[dict]:
        for scenario in self.scenarios():
            if scenario.apollo:
                yield scenario.apollo

    def salesforce_records(self) -> Iterator[dict]:
        for scenario in self.scenarios():
            yield from scenario.salesforce

    def salesforce_history(self) -> Iterator[dict]:
        for scenario in self.scenarios():
            yield from scenario.history

    def report(self) -> dict:
        """The proportions this dataset was built with (for summaries and notes)."""
        return {"records": self.records, "seed": self.seed, "mix": self.mix, "now": iso(self.now),
                "situations": {n: {"count": self.counts[n], "expected_rule": EXPECTED_RULE[n]}
                               for n in SITUATION_NAMES}}


class _Builder:
    """Builds one scenario; small methods per situation keep each readable."""

    def __init__(self, dataset: Dataset, number: int, situation: str, rng: random.Random):
        self.d = dataset
        self.n = number
        self.situation = situation
        self.rng = rng
        self.now = dataset.now_s
        company_index = rng.randrange(dataset._companies)
        self.company, self.domain, self.account_id = dataset.company(company_index)
        unicode_name = rng.random() < 0.06
        self.first = rng.choice(names.FIRST_NAMES_UNICODE if unicode_name and rng.random() < 0.6
                                else names.FIRST_NAMES)
        self.last = rng.choice(names.LAST_NAMES_UNICODE if unicode_name else names.LAST_NAMES)
        self.apollo_id = ids.apollo_id(number)
        self.object = "Contact" if rng.random() < 0.65 else "Lead"
        self.sf_id = ids.salesforce_id(self.object, number)
        self.a_created = self.now - rng.randint(200, 700) * DAY
        # Half the linked people started in Apollo and were pushed (Apollo's sync user created
        # the Salesforce record minutes later); half came from Salesforce (imported into Apollo).
        self.pushed = rng.random() < 0.5
        if self.pushed:
            self.s_created = self.a_created + rng.randint(60, 3600)
        else:
            self.s_created = self.a_created - rng.randint(1, 300) * DAY
        self.synced = self.now - rng.randint(10, 30) * DAY
        self.history: list[dict] = []
        self.observations: list[tuple] = []
        self.stage = dataset._stage_ids[rng.randrange(len(dataset._stage_ids))]
        if self.stage == dataset._stage_ids[3]:  # "Interested" creates records: not for linked
            self.stage = dataset._stage_ids[0]

    # -- addresses --------------------------------------------------------------------------

    def email(self, style: int | None = None, domain: str | None = None) -> str:
        first, last = _ascii(self.first) or f"user{self.n}", _ascii(self.last) or f"p{self.n}"
        domain = domain or self.domain
        style = self.rng.randrange(5) if style is None else style
        local = (f"{first}.{last}", f"{first[0]}{last}", f"{first}", f"{first}{last[0]}",
                 f"{first}_{last}")[style]
        return f"{local}{self.n if style == 2 else ''}@{domain}"

    def other_email(self, email: str) -> str:
        """A different address for the same person (new format, new domain or a personal one)."""
        choice = self.rng.randrange(3)
        if choice == 0:
            local, _, domain = email.partition("@")
            return f"{local}.{self.n % 1000}@{domain}" if "." not in local[-4:] else f"x{email}"
        if choice == 1:
            return self.email(style=1, domain=f"new{self.domain}")
        return self.email(style=0, domain=self.rng.choice(names.FREE_DOMAINS)).replace(
            "@", f"{self.n}@", 1)

    # -- times ------------------------------------------------------------------------------

    def ago(self, low_days: float, high_days: float) -> int:
        return self.now - int(self.rng.uniform(low_days * DAY, high_days * DAY))

    def observe(self, side: str, record_id: str, email: str | None, edited: int | None) -> None:
        """Concord saw ``email`` on the first simulated pull after ``edited`` (None: always)."""
        if edited is None:
            return
        prior = edited - edited % PULL_EVERY
        first = min(prior + PULL_EVERY, self.now)
        self.observations.append((side, record_id, email, first, prior))

    def sf_history(self, old: str | None, new: str | None, at: int, by: str | None = None) -> None:
        kind = f"{self.object}History"
        self.history.append({
            "attributes": {"type": kind}, "Id": ids.salesforce_id(kind, self.n * 8 + len(self.history)),
            f"{self.object}Id": self.sf_id, "Field": "Email", "OldValue": old, "NewValue": new,
            "CreatedDate": _sf_ts(at), "CreatedById": by or self.d._other_user, "DataType": "Email",
            "IsDeleted": False,
        })

    # -- records ----------------------------------------------------------------------------

    def apollo(self, email: str | None, *, updated: int, status: str = "verified",
               linked: bool = True, stage: str | None = None) -> dict:
        sf_link = {
            "salesforce_id": self.sf_id if linked else None,
            "salesforce_contact_id": self.sf_id if linked and self.object == "Contact" else None,
            "salesforce_lead_id": self.sf_id if linked and self.object == "Lead" else None,
            "salesforce_account_id": self.account_id if linked and self.object == "Contact" else None,
            "crm_record_url": f"https://sandbox.my.salesforce.com/{self.sf_id}" if linked else None,
        }
        return {
            "id": self.apollo_id,
            "person_id": ids.apollo_id(self.n, kind=0x5),
            "first_name": self.first,
            "last_name": self.last,
            "name": f"{self.first} {self.last}",
            "title": self.rng.choice(("VP Sales", "Head of Marketing", "CTO", "Account Executive",
                                      "Operations Manager", "Founder", "Data Analyst")),
            "organization_name": self.company,
            "email": email,
            "email_status": status if email else None,
            "email_true_status": (status.replace("_", " ").title() if email else None),
            "email_from_customer": linked,
            "contact_emails": ([{"email": email, "position": 0, "email_status": status,
                                 "source": "User Managed" if linked else "Apollo"}] if email else []),
            "contact_stage_id": stage or self.stage,
            "label_ids": self.d.contact_label_ids(self.n),
            "source": "crm" if linked and not self.pushed else "search",
            "existence_level": "full",
            **sf_link,
            "created_at": _apollo_ts(self.a_created),
            "updated_at": _apollo_ts(updated),
        }

    def salesforce(self, email: str | None, *, modified: int, created_by: str | None = None,
                   created: int | None = None, bounced: int | None = None,
                   converted_to: str | None = None, record_id: str | None = None,
                   obj: str | None = None) -> dict:
        primary = record_id is None and (obj is None or obj == self.object)
        obj = obj or self.object
        record_id = record_id or self.sf_id
        created = self.s_created if created is None else created
        if created_by is None:
            created_by = self.d._apollo_user if primary and self.pushed else self.d._other_user
        record = {
            "attributes": {"type": obj, "url": f"/services/data/v59.0/sobjects/{obj}/{record_id}"},
            "Id": record_id,
            "FirstName": self.first,
            "LastName": self.last,
            "Email": email.lower() if email else None,  # Salesforce stores emails lower-cased
            "EmailBouncedDate": _sf_ts(bounced),
            "EmailBouncedReason": "550 5.1.1 mailbox unavailable" if bounced else None,
            "CreatedDate": _sf_ts(created),
            "CreatedById": created_by,
            "LastModifiedDate": _sf_ts(modified),
            "LastModifiedById": self.d._other_user,
            "SystemModstamp": _sf_ts(modified),
            "IsDeleted": False,
        }
        if obj == "Lead":
            record.update({"Company": self.company, "Status": "Open - Not Contacted",
                           "IsConverted": bool(converted_to), "ConvertedContactId": converted_to,
                           "ConvertedAccountId": self.account_id if converted_to else None,
                           "ConvertedDate": _sf_ts(modified)[:10] if converted_to else None})
        else:
            record["AccountId"] = self.account_id
        return record

    # -- situations -------------------------------------------------------------------------

    def build(self) -> Scenario:
        method = getattr(self, f"_{self.situation}")
        scenario = method()
        scenario.history = self.history
        scenario.observations = self.observations
        return scenario

    def _scenario(self, apollo, sf, base_email=None, *, link="crm_id", **kw) -> Scenario:
        sf_list = sf if isinstance(sf, list) else ([sf] if sf else [])
        base = None
        if base_email is not None and apollo and sf_list:
            base = (apollo["id"], sf_list[0]["Id"], base_email, _apollo_ts(self.synced))
        return Scenario(self.n, self.situation, EXPECTED_RULE[self.situation], apollo, sf_list,
                        base=base, expected_link=link if apollo and sf_list else None,
                        company=self.company, **kw)

    def _agreeing(self, email: str, *, linked: bool = True, apollo_email: str | None = None):
        modified = self.ago(35, 150)
        a = self.apollo(apollo_email or email, updated=self.ago(1, 60), linked=linked)
        s = self.salesforce(email, modified=modified)
        return a, s

    def _same(self):
        email = self.email()
        a, s = self._agreeing(email)
        return self._scenario(a, s, email)

    def _same_case_only(self):
        email = self.email()
        a, s = self._agreeing(email, apollo_email=f" {email.title()} ")
        return self._scenario(a, s, email)

    def _same_linked_by_email(self):
        email = self.email()
        a, s = self._agreeing(email, linked=False)
        return self._scenario(a, s, None, link="email")

    def _same_role_account(self):
        # A shared role mailbox; several contacts of one company may hold it (email is not a key).
        email = f"{self.rng.choice(names.ROLE_LOCALS)}@{self.domain}"
        a, s = self._agreeing(email)
        return self._scenario(a, s, email)

    def _one_sided_apollo(self, new: str | None = None, status: str = "verified"):
        old = self.email()
        new = self.other_email(old) if new is None else new
        edited = self.ago(0.5, 9)
        a = self.apollo(new, updated=edited, status=status)
        s = self.salesforce(old, modified=self.ago(35, 150))
        self.observe("apollo", self.apollo_id, new, edited)
        return self._scenario(a, s, old)

    def _one_sided_salesforce(self, status: str = "guessed", edited: int | None = None,
                              new: str | None = None, bounced: int | None = None):
        old = self.email()
        new = self.other_email(old) if new is None else new
        edited = self.ago(1, 9) if edited is None else edited
        a = self.apollo(old, updated=self.ago(40, 120), status=status)
        s = self.salesforce(new, modified=max(edited, bounced or 0), bounced=bounced)
        self.sf_history(old, new, edited)
        self.observe("salesforce", self.sf_id, new, edited)
        return self._scenario(a, s, old)

    def _one_sided_salesforce_verified(self):
        return self._one_sided_salesforce(status="verified")

    def _in_flight_salesforce(self):
        return self._one_sided_salesforce(status="unverified",
                                          edited=self.now - self.rng.randint(60, 20 * 60))

    def _plus_tag_apollo(self):
        old = self.email(style=0)
        local, _, domain = old.partition("@")
        return self._one_sided_apollo(new=f"{local}+crm@{domain}")

    def _both_changed(self, old: str | None = None, a_new: str | None = None,
                      s_new: str | None = None):
        old = old or self.email(style=0)
        a_new, s_new = a_new or self.other_email(old), s_new or self.email(style=4)
        a_edit, s_edit = self.ago(1, 9), self.ago(1, 9)
        if abs(a_edit - s_edit) < PULL_EVERY * 2:  # far enough apart for a definite order
            s_edit = a_edit - PULL_EVERY * 3
        a = self.apollo(a_new, updated=a_edit)
        s = self.salesforce(s_new, modified=s_edit)
        self.observe("apollo", self.apollo_id, a_new, a_edit)
        self.sf_history(old, s_new, s_edit)
        return self._scenario(a, s, old)

    def _gmail_dots_both_changed(self):
        first, last = _ascii(self.first) or "jo", _ascii(self.last) or f"p{self.n}"
        return self._both_changed(old=self.email(),
                                  a_new=f"{first}.{last}{self.n}@gmail.com",
                                  s_new=f"{first}{last}{self.n}@gmail.com")

    def _no_base_field_history(self):
        # Both sides set their email after the record was created; history dates the Salesforce
        # edit, an observation dates Apollo's, far enough apart to order them.
        old = self.email()
        a_new, s_new = self.other_email(old), self.email(style=3)
        s_edit = self.ago(20, 40)
        a_edit = s_edit + self.rng.choice((-1, 1)) * self.rng.randint(3, 8) * DAY
        a = self.apollo(a_new, updated=a_edit)
        s = self.salesforce(s_new, modified=s_edit)
        self.sf_history(old, s_new, s_edit)
        self.observe("apollo", self.apollo_id, a_new, a_edit)
        return self._scenario(a, s, None)

    def _late_sfdc_create(self):
        # The contact was never pushed; someone created a Lead/Contact for the same person
        # later with another address. Apollo's next pull overwrites the contact's email (S9).
        a_email = self.email()
        self.s_created = self.now - self.rng.randint(5, 25 * 60)
        a = self.apollo(a_email, updated=self.a_created + DAY, status="unverified")
        s = self.salesforce(self.other_email(a_email), modified=self.s_created,
                            created=self.s_created, created_by=self.d._other_user)
        return self._scenario(a, s, None)

    def _unknown_order(self):
        # No base and no field-level times: only record timestamps, which bound nothing useful.
        # Apollo pushed the contact when it was created; both emails changed since, undated.
        a_email = self.email()
        a = self.apollo(a_email, updated=self.ago(1, 30), status="unverified")
        s = self.salesforce(self.other_email(a_email), modified=self.ago(1, 30),
                            created_by=self.d._apollo_user)
        return self._scenario(a, s, None)

    def _bounced_salesforce(self):
        edited = self.ago(3, 9)
        return self._one_sided_salesforce(status="unverified", edited=edited,
                                          bounced=edited + self.rng.randint(3600, 2 * DAY))

    def _bounced_apollo(self):
        return self._one_sided_apollo(status="bounced")

    def _blank_apollo(self):
        return self._one_sided_apollo(new="")

    def _blank_salesforce(self):
        return self._one_sided_salesforce(new="", status="unverified")

    def _invalid_apollo(self):
        first, last = _ascii(self.first) or "jo", _ascii(self.last) or "x"
        bad = self.rng.choice((f"{first}.{last}@{self.domain.split('.')[0]}",
                               f"{first} {last}@{self.domain}",
                               f"{first}.{last}@@{self.domain}",
                               f"{first}.{last}{'x' * 70}@{self.domain}"))
        return self._one_sided_apollo(new=bad)

    def _converted_lead_followed(self):
        # Apollo still holds the Lead's id; the Lead was converted and the Contact carries on.
        self.object = "Lead"
        self.sf_id = ids.salesforce_id("Lead", self.n)
        contact_id = ids.salesforce_id("Contact", self.n)
        email = self.email()
        converted_at = self.ago(20, 60)
        a = self.apollo(email, updated=self.ago(1, 60))
        lead = self.salesforce(email, modified=converted_at, converted_to=contact_id)
        contact = self.salesforce(email, modified=converted_at, created=converted_at,
                                  record_id=contact_id, obj="Contact")
        scenario = self._scenario(a, [contact, lead], None, link="crm_id")
        return scenario

    def _converted_lead_unresolved(self):
        # The converted Contact is not in the data (deleted or not visible to Concord's user).
        self.object = "Lead"
        self.sf_id = ids.salesforce_id("Lead", self.n)
        email = self.email()
        a = self.apollo(self.other_email(email), updated=self.ago(1, 9))
        lead = self.salesforce(email, modified=self.ago(20, 60),
                               converted_to=ids.salesforce_id("Contact", 9_000_000 + self.n))
        return self._scenario(a, lead, None)

    def _lead_contact_twin(self):
        # A Lead and a Contact for one person with the same email; Apollo links the Contact.
        self.object = "Contact"
        self.sf_id = ids.salesforce_id("Contact", self.n)
        email = self.email()
        a = self.apollo(email, updated=self.ago(1, 60), linked=False)
        contact = self.salesforce(email, modified=self.ago(30, 90))
        lead = self.salesforce(email, modified=self.ago(30, 90), obj="Lead",
                               record_id=ids.salesforce_id("Lead", self.n))
        return self._scenario(a, [contact, lead], None, link="email")

    def _apollo_only_create(self):
        # Saved at a stage the push settings create records for, and not pushed: a push
        # Apollo missed. Saved longer ago than Apollo's push queue takes, as the emulator
        # pushes at once and never holds a push in its queue.
        interested = self.d._stage_ids[3]
        a = self.apollo(self.email(), updated=self.ago(rules.APOLLO_PUSH_MINUTES / 1440, 2),
                        linked=False, stage=interested)
        return self._scenario(a, None)

    def _apollo_only_no_push(self):
        a = self.apollo(self.email(), updated=self.ago(1, 90), linked=False)
        return self._scenario(a, None)

    def _sfdc_only(self):
        s = self.salesforce(self.email(), modified=self.ago(1, 90))
        return self._scenario(None, s)

    def _fuzzy_same_person(self):
        # Same person and company on both sides, unlinked, with different addresses: a fuzzy
        # match is suggested, never applied.
        work = self.email(style=0)
        personal = self.email(style=0, domain=self.rng.choice(names.FREE_DOMAINS)).replace(
            "@", f"{self.n}@", 1)
        a = self.apollo(personal, updated=self.ago(1, 90), linked=False)
        s = self.salesforce(work, modified=self.ago(1, 90))
        scenario = self._scenario(a, None, suggestion=True)
        scenario.salesforce = [s]
        return scenario


def write_cache(cache: Cache, dataset: Dataset, *, batch: int = 5000,
                progress=None) -> dict[str, int]:
    """Write a generated workspace straight into a cache, as a long-used workspace holds it.

    Records go through the pull's ingest code; base rows and observations are the simulated
    past. Returns counts per table.
    """
    pulled_at = iso(dataset.now)
    totals = {"apollo": 0, "salesforce": 0, "history": 0, "base": 0, "observations": 0}
    with cache.transaction():
        cache.set_state("apollo_stages", dataset.stage_names())
        save_settings(cache, dataset.settings)
    for group in chunked(dataset.scenarios(), batch):
        apollo = [s.apollo for s in group if s.apollo]
        sf = []
        for s in group:
            for record in s.salesforce:
                record = dict(record)
                if record["attributes"]["type"] == "Contact":
                    # A real pull asks for Account.Name; the emulator derives it from AccountId.
                    record["Account"] = {"Name": s.company}
                sf.append(record)
        history = [h for s in group for h in s.history]
        # Agreeing pairs keep no base row (their base is the value they share).
        base = [(b[0], b[1], b[2], comparison_key(b[2]), b[3]) for s in group
                if (b := s.base) and s.expected_rule != rules.SAME]
        observations = [(side, rid, comparison_key(email), email, _iso_s(first), _iso_s(prior))
                        for s in group for side, rid, email, first, prior in s.observations]
        with cache.transaction():
            upsert_apollo(cache, apollo, pulled_at, observe=False)
            upsert_salesforce(cache, sf, pulled_at, observe=False)
            totals["history"] += add_history(cache, history)
            cache.conn.executemany(
                "INSERT OR REPLACE INTO base (apollo_id, sf_id, email, email_key, synced_at) "
                "VALUES (?,?,?,?,?)", base)
            cache.conn.executemany(
                "INSERT OR REPLACE INTO observations "
                "(side, record_id, email_key, email, first_seen_at, prior_seen_at) "
                "VALUES (?,?,?,?,?,?)", observations)
        totals["apollo"] += len(apollo)
        totals["salesforce"] += len(sf)
        totals["base"] += len(base)
        totals["observations"] += len(observations)
        if progress:
            progress(totals["apollo"], dataset.records)
    return totals


def _iso_s(seconds: int | None) -> str | None:
    return None if seconds is None else _apollo_ts(seconds)
