"""The write plan: which email goes to which record, from decisions and the user's choices.

The winning email goes to the losing side; a typed value goes to both sides that do not
hold it already. Write-back (DESIGN §5) executes a plan; nothing here talks to a remote
system.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from core import emails
from core.model import Side, Strength
from core.store.cache import Cache, chunked


@dataclass(frozen=True)
class PlannedWrite:
    """One write: put ``new_email`` on a record of ``system`` that now holds ``old_email``."""

    link_id: int
    system: str  # "apollo" | "salesforce"
    object: str  # "Contact" (Apollo), or the Salesforce "Lead" / "Contact"
    record_id: str
    old_email: str | None
    new_email: str
    why: str  # "chosen", "recommended (strong)", ...


@dataclass
class WritePlan:
    """Writes per system, plus the pairs that were considered and why some are not written."""

    writes: list[PlannedWrite] = field(default_factory=list)
    pairs: int = 0
    not_written: dict[str, int] = field(default_factory=dict)

    def count(self, system: str) -> int:
        return sum(1 for w in self.writes if w.system == system)

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
SELECT d.link_id, l.apollo_id, l.sf_id, d.sf_object, d.apollo_email, d.sf_email, d.choice,
       d.choice_email, d.rec_winner, d.strength, d.status
FROM decisions d JOIN links l USING (link_id)
WHERE l.apollo_id IS NOT NULL AND l.sf_id IS NOT NULL
  AND d.status IN ('open', 'chosen', 'skipped', 'failed')
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
        rows = cache.conn.execute(_PLAN_SQL).fetchall()
    else:
        for chunk in chunked(link_ids):
            rows += cache.conn.execute(
                _PLAN_SQL + f" AND d.link_id IN ({','.join('?' * len(chunk))})", chunk).fetchall()
    for (link_id, apollo_id, sf_id, sf_object, a_email, s_email, choice, choice_email,
         rec_winner, strength, status) in rows:
        if choice:
            if not include_chosen:
                continue
            direction, why = choice, "chosen"
        elif link_ids is not None or strength in wanted:
            direction, why = rec_winner, f"recommended ({strength})"
        else:
            continue
        result.pairs += 1
        if direction == "skip":
            _note(result, "skipped")
            continue
        if direction == Side.APOLLO.value:
            if not emails.comparison_key(a_email):
                _note(result, "blank winner")
                continue
            result.writes.append(PlannedWrite(link_id, "salesforce", sf_object, sf_id, s_email,
                                              a_email, why))
        elif direction == Side.SALESFORCE.value:
            if not emails.comparison_key(s_email):
                _note(result, "blank winner")
                continue
            result.writes.append(PlannedWrite(link_id, "apollo", "Contact", apollo_id, a_email,
                                              s_email, why))
        elif direction == "custom" and choice_email:
            key = emails.comparison_key(choice_email)
            if emails.comparison_key(s_email) != key:
                result.writes.append(PlannedWrite(link_id, "salesforce", sf_object, sf_id,
                                                  s_email, choice_email, why))
            if emails.comparison_key(a_email) != key:
                result.writes.append(PlannedWrite(link_id, "apollo", "Contact", apollo_id,
                                                  a_email, choice_email, why))
        else:
            _note(result, "no direction (needs review)")
    return result


def _note(plan_: WritePlan, why: str) -> None:
    plan_.not_written[why] = plan_.not_written.get(why, 0) + 1


__all__ = ["PlannedWrite", "WritePlan", "plan"]
