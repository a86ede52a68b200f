"""The write plan: which email goes to which record, from decisions and the user's choices.

The winning email goes to the losing side; a value the user typed goes to both sides that
do not hold it already. Every write carries its precondition: the target still holds the
value the pull saw, and the pair's other record holds what the plan copies from it (Apollo
pushes an email edit of a linked contact to Salesforce at once, so a write to Apollo is in
effect a write to both records). Nothing here talks to a remote system.

Refused before anything leaves the machine, each counted in ``not_written``:

- a value Salesforce would reject (:func:`core.emails.validate`), or a blank winner;
- a converted Lead: its converted Contact is written instead, or nothing if the cache
  does not hold that Contact;
- one typed address planned for different people (several pairs);
- a pair whose records changed in the cache since it was decided (reconcile again).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from core import emails
from core.model import Side, Strength
from core.store.cache import Cache, chunked

USER_CHOICE = "USER_CHOICE"  # the rule of a write the user chose (beside the engine's rules)


@dataclass(frozen=True)
class PlannedWrite:
    """One write: put ``new_email`` on a record of ``system`` that now holds ``old_email``.

    ``partner_*`` name the pair's record on the other system and the email keys it may hold
    when the write is sent (its half of the precondition)."""

    link_id: int
    system: str  # "apollo" | "salesforce"
    object: str  # "Contact" (Apollo), or the Salesforce "Lead" / "Contact"
    record_id: str
    old_email: str | None
    new_email: str
    why: str  # "chosen", "recommended (strong)", ...
    rule: str = ""
    partner_object: str = ""
    partner_id: str = ""
    partner_keys: tuple[str, ...] = ()
    base_email: str | None = None
    also_old: tuple[str, ...] = ()  # other email keys the target may hold instead of old_email
    person: str = ""  # the pair's name, for the confirmation
    apollo_email: str | None = None  # what each side holds now, for the confirmation
    sf_email: str | None = None

    def as_dict(self) -> dict:
        return {"link_id": self.link_id, "system": self.system, "object": self.object,
                "record_id": self.record_id, "old_email": self.old_email,
                "new_email": self.new_email, "rule": self.rule, "why": self.why}


@dataclass
class WritePlan:
    """Writes per system, plus the pairs that were considered and why some are not written."""

    writes: list[PlannedWrite] = field(default_factory=list)
    pairs: int = 0
    not_written: dict[str, int] = field(default_factory=dict)
    refused: list[tuple[int, str]] = field(default_factory=list)  # (link_id, why), said loudly

    def count(self, system: str) -> int:
        return sum(1 for w in self.writes if w.system == system)

    def by_rule(self) -> dict[str, dict[str, int]]:
        """``rule -> {system: writes}``."""
        counts: dict[str, Counter] = {}
        for w in self.writes:
            counts.setdefault(w.rule, Counter())[w.system] += 1
        return {rule: dict(c) for rule, c in sorted(counts.items())}

    def digest(self) -> str:
        """A hash of exactly what would be written (order-independent): a dry run and the
        run that follows it have the same hash when the remotes have not changed."""
        rows = sorted((w.system, w.object, w.record_id, emails.comparison_key(w.old_email),
                       w.new_email) for w in self.writes)
        return hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:16]

    def summary(self) -> str:
        """One sentence stating how many writes go where (for the confirmation)."""
        to_sf, to_apollo = self.count("salesforce"), self.count("apollo")
        text = (f"{self.pairs} pair{'s' if self.pairs != 1 else ''}: {to_sf} write"
                f"{'s' if to_sf != 1 else ''} to Salesforce and {to_apollo} to Apollo")
        if self.not_written:
            reasons = ", ".join(f"{n} {why}" for why, n in sorted(self.not_written.items()))
            text += f"; not written: {reasons}"
        return text + "."


_PLAN_SQL = """
SELECT d.link_id, l.apollo_id, l.sf_id, s.object, d.apollo_email, d.sf_email, d.choice,
       d.choice_email, d.rec_winner, d.strength, d.status, d.rec_rule,
       a.email, a.email_key, s.email, s.email_key, s.is_converted, s.converted_contact_id,
       cc.email, cc.email_key, b.email,
       trim(coalesce(nullif(trim(a.first_name || ' ' || a.last_name), ''),
                     s.first_name || ' ' || s.last_name, ''))
FROM decisions d JOIN links l USING (link_id)
JOIN apollo_contacts a ON a.id = l.apollo_id
JOIN sf_records s ON s.id = l.sf_id
LEFT JOIN sf_records cc ON cc.id = s.converted_contact_id AND cc.object = 'Contact'
LEFT JOIN base b ON b.apollo_id = l.apollo_id AND b.sf_id = l.sf_id
WHERE d.status IN ('open', 'chosen', 'skipped', 'failed')
"""


def plan(cache: Cache, *, strengths: Iterable[str] = (Strength.STRONG.value,),
         link_ids: Sequence[int] | None = None, include_chosen: bool = True) -> WritePlan:
    """The writes that applying would make.

    Pairs with a user choice are planned when ``include_chosen``; pairs without one follow the
    recommendation when its strength is in ``strengths``. ``link_ids`` limits the plan to a
    selection (then every selected pair with a usable direction is planned).
    """
    wanted = {Strength(s).value for s in strengths}
    result = WritePlan()
    rows = []
    if link_ids is None:
        rows = cache.conn.execute(_PLAN_SQL + " ORDER BY d.link_id").fetchall()
    else:
        for chunk in chunked(sorted(set(link_ids))):
            rows += cache.conn.execute(
                _PLAN_SQL + f" AND d.link_id IN ({','.join('?' * len(chunk))}) ORDER BY d.link_id",
                chunk).fetchall()
    typed: dict[str, set[int]] = {}
    for row in rows:
        (link_id, apollo_id, sf_id, sf_object, d_apollo, d_sf, choice, choice_email,
         rec_winner, strength, status, rec_rule, a_email, a_key, s_email, s_key,
         converted, converted_id, cc_email, cc_key, base_email, person) = row
        if choice:
            if not include_chosen:
                continue
            direction, why, rule = choice, "chosen", USER_CHOICE
        elif link_ids is not None or strength in wanted:
            direction, why, rule = rec_winner, f"recommended ({strength})", rec_rule
        else:
            continue
        result.pairs += 1
        if direction == "skip":
            _note(result, "skipped")
            continue
        if emails.comparison_key(d_apollo) != a_key or emails.comparison_key(d_sf) != s_key:
            _note(result, "changed since decided (reconcile again)")
            continue
        if converted:
            # A converted Lead refuses writes; its converted Contact is the record to write.
            if not converted_id or cc_key is None:
                _note(result, "converted lead without its contact")
                continue
            sf_id, sf_object, s_email, s_key = converted_id, "Contact", cc_email, cc_key
        if direction == Side.APOLLO.value:
            new = a_email
        elif direction == Side.SALESFORCE.value:
            new = s_email
        elif direction == "custom" and choice_email:
            new = choice_email
        else:
            _note(result, "no direction (needs review)")
            continue
        if not emails.comparison_key(new):
            _note(result, "blank winner")
            continue
        try:
            new = emails.validate(new)
        except emails.EmailError:
            _note(result, "address Salesforce would refuse")
            continue
        key = emails.comparison_key(new)
        common = dict(why=why, rule=rule, base_email=base_email, person=person,
                      apollo_email=a_email, sf_email=s_email)
        writes = []
        if s_key != key:
            writes.append(PlannedWrite(link_id, "salesforce", sf_object, sf_id, s_email, new,
                                       partner_object="Contact", partner_id=apollo_id,
                                       partner_keys=tuple(sorted({a_key, key})), **common))
        if a_key != key:
            writes.append(PlannedWrite(link_id, "apollo", "Contact", apollo_id, a_email, new,
                                       partner_object=sf_object, partner_id=sf_id,
                                       partner_keys=tuple(sorted({s_key, key})), **common))
        if direction == "custom" and writes:
            typed.setdefault(key, set()).add(link_id)
        result.writes.extend(writes)
    _refuse_shared_typed(cache, result, typed)
    return result


SHARED_TYPED = "one typed address for several people"


def _typed_holders(cache: Cache) -> dict[str, set[int]]:
    """Every pair still to write that holds a typed address, by the address's key."""
    holders: dict[str, set[int]] = {}
    for link_id, email in cache.conn.execute(
            "SELECT link_id, choice_email FROM decisions WHERE choice = 'custom' "
            "AND status IN ('open', 'chosen', 'skipped', 'failed')"):
        holders.setdefault(emails.comparison_key(email), set()).add(link_id)
    return holders


def _refuse_shared_typed(cache: Cache, result: WritePlan, typed: dict[str, set[int]]) -> None:
    """One typed address held by several pairs (different people) is refused for all of
    them, even when only one of them is being written: typing a value is meant for one
    person, and the other pair would get the same mailbox on its next write."""
    holders = _typed_holders(cache) if typed else {}
    drop: set[int] = set()
    for key, links in typed.items():
        everyone = links | holders.get(key, set())
        if len(everyone) > 1:
            drop |= links
            for link_id in sorted(links):
                result.refused.append((link_id, f"the typed address {key} is held by "
                                                 f"{len(everyone)} different people"))
    if drop:
        result.writes = [w for w in result.writes if w.link_id not in drop]
        result.not_written[SHARED_TYPED] = len(drop)


def _note(plan_: WritePlan, why: str) -> None:
    plan_.not_written[why] = plan_.not_written.get(why, 0) + 1


__all__ = ["PlannedWrite", "USER_CHOICE", "WritePlan", "plan"]
