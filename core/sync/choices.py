"""The user's decisions beside the engine's, and the write plan they add up to.

A choice is stored next to the recommendation (never instead of it), so "revert to
recommendation" is always possible. The plan turns
chosen or recommended directions into concrete writes: the winning email goes to the
losing side; a typed value goes to both sides that do not hold it already. Write-back
(DESIGN §5) executes a plan; nothing here talks to a remote system.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from core import emails
from core.store.cache import Cache, chunked, now_iso
from core.model import Side, Strength
from core.sync.reconcile import APPLIED, CHOSEN, IN_SYNC, OPEN, SKIPPED

CHOICES = ("apollo", "salesforce", "skip", "custom")


class ChoiceError(ValueError):
    """A choice cannot be stored; the message says why (for example an invalid typed email)."""


def set_choice(cache: Cache, link_ids: Sequence[int], choice: str,
               email: str | None = None) -> list[int]:
    """Store the user's direction for pairs: keep ``apollo``, keep ``salesforce``, ``skip``,
    or ``custom`` with a typed ``email`` (validated as Salesforce would). Returns the link ids
    that changed; pairs already in sync or without a decision are left alone."""
    if choice not in CHOICES:
        raise ChoiceError(f"choice must be one of {', '.join(CHOICES)}, got {choice!r}")
    typed = None
    if choice == "custom":
        if len(link_ids) != 1:
            # One address typed for several people would give all of them one mailbox.
            raise ChoiceError("a typed address is for one pair at a time; "
                              f"{len(link_ids):,} pairs were given")
        try:
            typed = emails.validate(email)
        except emails.EmailError as exc:
            raise ChoiceError(f"{email!r} cannot be used: {exc}") from None
    elif email is not None:
        raise ChoiceError("an email is only given with the 'custom' choice")
    status = SKIPPED if choice == "skip" else CHOSEN
    return _update(cache, link_ids,
                   "choice = ?, choice_email = ?, status = ?, error = NULL",
                   f"status != '{IN_SYNC}' AND EXISTS (SELECT 1 FROM links l WHERE l.link_id = "
                   "decisions.link_id AND l.apollo_id IS NOT NULL AND l.sf_id IS NOT NULL)",
                   (choice, typed, status))


def accept_recommendation(cache: Cache, link_ids: Sequence[int]) -> list[int]:
    """Choose what Concord recommends for each pair that has a recommended winner."""
    return _update(cache, link_ids,
                   f"choice = rec_winner, choice_email = NULL, status = '{CHOSEN}', error = NULL",
                   f"rec_winner IN ('apollo', 'salesforce') AND status != '{IN_SYNC}'")


def revert(cache: Cache, link_ids: Sequence[int]) -> list[int]:
    """Forget the user's choice: the pair follows the recommendation again."""
    return _update(cache, link_ids,
                   f"choice = NULL, choice_email = NULL, status = '{OPEN}', error = NULL",
                   "choice IS NOT NULL")


@dataclass(frozen=True, slots=True)
class ChoiceState:
    """A pair's choice as stored: what undo puts back."""

    link_id: int
    choice: str | None
    choice_email: str | None
    status: str
    error: str | None


def snapshot(cache: Cache, link_ids: Sequence[int]) -> tuple[ChoiceState, ...]:
    """The stored choices of ``link_ids`` (pairs without a decision are left out)."""
    states: list[ChoiceState] = []
    for chunk in chunked(link_ids):
        marks = ",".join("?" * len(chunk))
        states += (ChoiceState(*row) for row in cache.conn.execute(
            "SELECT link_id, choice, choice_email, status, error FROM decisions "
            f"WHERE link_id IN ({marks}) ORDER BY link_id", chunk))
    return tuple(states)


def restore(cache: Cache, states: Iterable[ChoiceState],
            only_if: Iterable[ChoiceState] = ()) -> list[int]:
    """Put choices back as ``states`` hold them; return the link ids that changed.

    With ``only_if``, a pair is restored only while it still holds that state: a pair written
    or decided again since then keeps what it has (undoing a choice never undoes a write).
    """
    expected = {s.link_id: s for s in only_if}
    wanted = [s for s in states if not expected or s.link_id in expected]
    changed: list[int] = []
    with cache.transaction():
        current = {s.link_id: s for s in snapshot(cache, [s.link_id for s in wanted])}
        for state in wanted:
            now = current.get(state.link_id)
            if now is None or now == state or (expected and now != expected[state.link_id]):
                continue
            cache.conn.execute(
                "UPDATE decisions SET choice = ?, choice_email = ?, status = ?, error = ? "
                "WHERE link_id = ?",
                (state.choice, state.choice_email, state.status, state.error, state.link_id))
            changed.append(state.link_id)
    return changed


def typed(cache: Cache, link_ids: Sequence[int]) -> list[int]:
    """The pairs among ``link_ids`` that hold an address the user typed."""
    found: list[int] = []
    for chunk in chunked(link_ids):
        found += (r[0] for r in cache.conn.execute(
            f"SELECT link_id FROM decisions WHERE choice = 'custom' "
            f"AND link_id IN ({','.join('?' * len(chunk))}) ORDER BY link_id", chunk))
    return found


def _update(cache: Cache, link_ids: Sequence[int], assignments: str, condition: str,
            values: tuple = ()) -> list[int]:
    """Apply one UPDATE (``values`` fill the assignments' ``?``) to the decisions of
    ``link_ids`` that meet ``condition``; return them."""
    changed: list[int] = []
    with cache.transaction():
        for chunk in chunked(link_ids):
            marks = ",".join("?" * len(chunk))
            cur = cache.conn.execute(
                f"UPDATE decisions SET {assignments} WHERE link_id IN ({marks}) AND {condition} "
                f"RETURNING link_id", (*values, *chunk))
            changed.extend(r[0] for r in cur.fetchall())
    return changed


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
    person: str = ""  # the pair's name, for the confirmation
    apollo_email: str | None = None  # what each side holds now, for the confirmation
    sf_email: str | None = None


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
       d.choice_email, d.rec_winner, d.strength, d.status,
       trim(coalesce(nullif(trim(a.first_name || ' ' || a.last_name), ''),
                     s.first_name || ' ' || s.last_name, '')) AS person
FROM decisions d JOIN links l USING (link_id)
LEFT JOIN apollo_contacts a ON a.id = l.apollo_id
LEFT JOIN sf_records s ON s.id = l.sf_id
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
    shared = _shared_typed_addresses(cache)
    result = WritePlan()
    rows = []
    if link_ids is None:
        rows = cache.conn.execute(_PLAN_SQL).fetchall()
    else:
        for chunk in chunked(link_ids):
            rows += cache.conn.execute(
                _PLAN_SQL + f" AND d.link_id IN ({','.join('?' * len(chunk))})", chunk).fetchall()
    for (link_id, apollo_id, sf_id, sf_object, a_email, s_email, choice, choice_email,
         rec_winner, strength, status, person) in rows:
        both = {"person": person, "apollo_email": a_email, "sf_email": s_email}
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
                                              a_email, why, **both))
        elif direction == Side.SALESFORCE.value:
            if not emails.comparison_key(s_email):
                _note(result, "blank winner")
                continue
            result.writes.append(PlannedWrite(link_id, "apollo", "Contact", apollo_id, a_email,
                                              s_email, why, **both))
        elif direction == "custom" and choice_email:
            key = emails.comparison_key(choice_email)
            if key in shared:
                _note(result, SHARED_TYPED)
                continue
            if emails.comparison_key(s_email) != key:
                result.writes.append(PlannedWrite(link_id, "salesforce", sf_object, sf_id,
                                                  s_email, choice_email, why, **both))
            if emails.comparison_key(a_email) != key:
                result.writes.append(PlannedWrite(link_id, "apollo", "Contact", apollo_id,
                                                  a_email, choice_email, why, **both))
        else:
            _note(result, "no direction (needs review)")
    return result


SHARED_TYPED = "one typed address for several pairs"


def _shared_typed_addresses(cache: Cache) -> set[str]:
    """Typed addresses held by more than one pair still to write: never planned, since one
    mailbox for different people is almost always a slip (the user types them again)."""
    typed_keys: dict[str, int] = {}
    for (email,) in cache.conn.execute(
            "SELECT choice_email FROM decisions WHERE choice = 'custom' "
            "AND status IN ('open', 'chosen', 'skipped', 'failed')"):
        key = emails.comparison_key(email)
        typed_keys[key] = typed_keys.get(key, 0) + 1
    return {key for key, n in typed_keys.items() if n > 1}


def _note(plan_: WritePlan, why: str) -> None:
    plan_.not_written[why] = plan_.not_written.get(why, 0) + 1


def mark(cache: Cache, link_ids: Sequence[int], status: str, error: str | None = None) -> None:
    """Record an outcome on decisions (used by write-back: applied, failed, conflict)."""
    _update(cache, link_ids, "status = ?, error = ?, decided_at = ?", "1",
            (status, error, now_iso()))


__all__ = ["CHOICES", "SHARED_TYPED", "ChoiceError", "ChoiceState", "PlannedWrite", "WritePlan",
           "accept_recommendation", "mark", "plan", "restore", "revert", "set_choice", "snapshot",
           "typed", "APPLIED"]
