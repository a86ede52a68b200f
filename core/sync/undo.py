"""Undo: a run's writes replayed backwards, with the same preconditions as any write.

Each ``done`` row of an apply run gets a reverse row (the value it wrote back to the value
it replaced), journaled and carried out by :mod:`core.sync.apply` as an ``undo`` run. A
record changed since the run no longer holds what the run wrote: its row becomes a
``conflict`` and is reported, not reverted. Rows an earlier undo already reversed are left
out, so undoing twice writes nothing the second time.

Apollo pushes an email edit of a linked contact to Salesforce at once, so when a run wrote a
pair's Apollo contact, its Salesforce record is written back after it (the undo sends
Apollo first) and accepts the value the push just put there; that also restores a
Salesforce record the run never wrote but whose value the undo's Apollo write would have
replaced. Afterwards Apollo's own sync acts on the restored values as on any edit.
"""

from __future__ import annotations

from pathlib import Path

from core import emails
from core.model import UserMessage
from core.sync import journal
from core.sync.apply import ApplySummary, apply_plan, resume
from core.sync.plan import PlannedWrite, WritePlan

UNDO_RULE = "UNDO"


class UndoRefused(UserMessage):
    """A run that cannot be undone (unknown, not an apply run, nothing written)."""


def undo_plan(cache, run_id: int) -> tuple[WritePlan, list[int]]:
    """The writes that reverse ``run_id`` (newest first) and the rows each one reverses."""
    row = cache.conn.execute("SELECT kind, status FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    if row is None:
        raise UndoRefused("No such run", f"There is no run {run_id} in this workspace.")
    if row[0] != "apply":
        raise UndoRefused("Not a write-back run",
                          f"Run {run_id} is a {row[0]} run; only write-back runs can be undone.")
    done = journal.entries(cache, run_id, ("done",))
    already = journal.undone_entries(cache, [e.entry_id for e in done])
    by_link: dict[int, list] = {}
    for e in reversed(done):
        if e.entry_id not in already:
            by_link.setdefault(e.link_id, []).append(e)
    result, undoes = WritePlan(), []
    for link_id, entries in by_link.items():
        result.pairs += 1
        if any(unwritable(e.old_email) for e in entries):
            # An address Salesforce would refuse never leaves the machine, not even to undo.
            result.not_written["earlier value is not a valid address"] = \
                result.not_written.get("earlier value is not a valid address", 0) + 1
            result.refused.append((link_id, "its earlier value is not a valid address"))
            continue
        keys = {k for e in entries for k in (e.new_key, e.old_key, *e.partner_keys)}
        apollo = next((e for e in entries if e.system == "apollo"), None)
        sf = next((e for e in entries if e.system == "salesforce"), None)
        why = f"undo of run {run_id}"
        if apollo is not None:
            result.writes.append(_reverse(apollo, keys, why))
            undoes.append(apollo.entry_id)
        if sf is not None:
            pushed = (apollo.old_key,) if apollo is not None else ()
            result.writes.append(_reverse(sf, keys, why, also_old=pushed))
            undoes.append(sf.entry_id)
        elif apollo is not None and apollo.partner_object in ("Lead", "Contact"):
            # The run left Salesforce alone; the undo's Apollo write will push the old Apollo
            # value there, so Salesforce gets its own value back after it.
            result.writes.append(PlannedWrite(
                link_id, "salesforce", apollo.partner_object, apollo.partner_id,
                apollo.new_email, apollo.new_email, why, UNDO_RULE, "Contact", apollo.record_id,
                tuple(sorted(keys)), apollo.base_email, also_old=(apollo.old_key,)))
            undoes.append(None)
    return result, undoes


def unwritable(email: str | None) -> bool:
    if not emails.comparison_key(email):
        return False  # a blank value is restored as blank
    try:
        emails.validate(email)
    except emails.EmailError:
        return True
    return False


def _reverse(e, keys: set[str], why: str, also_old: tuple[str, ...] = ()) -> PlannedWrite:
    return PlannedWrite(e.link_id, e.system, e.object, e.record_id, e.new_email, e.old_email,
                        why, UNDO_RULE, e.partner_object, e.partner_id, tuple(sorted(keys)),
                        e.base_email, also_old=also_old)


def undo(cache, salesforce, apollo, run_id: int, *, out_dir: Path | None = None,
         progress=None, cancel=None) -> ApplySummary:
    """Reverse run ``run_id``'s writes on both systems (checked like any write). A run a
    crash left open is finished first, so the undo sees every write it made."""
    resume(cache, salesforce, apollo, out_dir=out_dir, progress=progress)
    the_plan, undoes = undo_plan(cache, run_id)
    if not the_plan.writes:
        raise UndoRefused("Nothing to undo", f"Run {run_id} wrote nothing that is not already "
                                             f"undone.")
    return apply_plan(cache, salesforce, apollo, the_plan, out_dir=out_dir, progress=progress,
                      cancel=cancel, kind="undo", undoes=undoes)


__all__ = ["UndoRefused", "undo", "undo_plan", "unwritable"]
