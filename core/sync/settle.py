"""What a round's outcome means for its pairs, recorded in the round's own transaction.

A pair whose writes are all ``done`` and whose two records were both seen holding the new
value has arrived: its cache rows take that value and its base is cleared (agreeing pairs
keep no base), so the next pull sees no change and does not take Concord's own write for a
user's edit; its decision becomes ``applied``. An undone pair gets its earlier values and
base back, and its decision becomes ``skipped``. Otherwise the decision says ``conflict`` or
``failed`` with the reason (the values on both sides, or the API's code and message).
"""

from __future__ import annotations

from core import emails
from core.model import DecisionStatus
from core.store.cache import Cache, chunked, now_iso
from core.sync import journal
from core.sync.journal import Entry


def id18(record_id: str) -> str:
    """The 18-character form of a Salesforce id (queries answer 18; the cache may hold 15)."""
    if len(record_id) != 15:
        return record_id
    suffix = ""
    for start in (0, 5, 10):
        bits = sum(1 << i for i, ch in enumerate(record_id[start:start + 5]) if ch.isupper())
        suffix += "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"[bits]
    return record_id + suffix


def settle(cache: Cache, run_id: int, link_ids: set[int], sf_now: dict, apollo_email) -> None:
    """Advance the base of pairs whose writes are all done and seen on both sides; record
    every settled pair's outcome on its decision. Call inside the round's transaction."""
    for chunk in chunked(sorted(link_ids)):
        rows = journal.entries_for_links(cache, run_id, chunk)
        by_link: dict[int, list[Entry]] = {}
        for e in rows:
            by_link.setdefault(e.link_id, []).append(e)
        for link_id, entries in by_link.items():
            states = {e.state for e in entries}
            if states & set(journal.OPEN_STATES):
                continue
            undo = entries[0].undoes is not None
            if states == {"done"}:
                _settle_done(cache, link_id, entries, sf_now, apollo_email, undo)
            elif "conflict" in states:
                worst = next(e for e in entries if e.state == "conflict")
                _decide(cache, link_id, DecisionStatus.CONFLICT,
                        f"{_system_name(worst.system)} changed since the pull: {worst.error} "
                        f"(Concord would have written {worst.new_email or 'a blank'}); "
                        f"not overwritten")
            elif "failed" in states or any(e.state == "skipped" and e.error_code != "CANCELLED"
                                           for e in entries):
                worst = next(e for e in entries if e.state in ("failed", "skipped")
                             and e.error_code != "CANCELLED")
                _decide(cache, link_id, DecisionStatus.FAILED,
                        f"{_system_name(worst.system)}: {worst.error_code}: {worst.error}")


def _settle_done(cache: Cache, link_id: int, entries: list[Entry], sf_now: dict, apollo_email,
                 undo: bool) -> None:
    written = {(e.system, e.record_id): e.new_email for e in entries}
    link = cache.conn.execute("SELECT apollo_id, sf_id FROM links WHERE link_id = ?",
                              (link_id,)).fetchone()
    if link is None:
        return
    for e in entries:
        table = "sf_records" if e.system == "salesforce" else "apollo_contacts"
        cache.conn.execute(f"UPDATE {table} SET email = ?, email_key = ? WHERE id = ?",
                           (e.new_email, emails.comparison_key(e.new_email), e.record_id))
    if undo:
        base = entries[0].base_email
        if base is None:
            cache.conn.execute("DELETE FROM base WHERE apollo_id = ? AND sf_id = ?", link)
        else:
            cache.conn.execute(
                "INSERT INTO base (apollo_id, sf_id, email, email_key, synced_at) "
                "VALUES (?,?,?,?,?) ON CONFLICT (apollo_id, sf_id) DO UPDATE SET "
                "email = excluded.email, email_key = excluded.email_key",
                (*link, base, emails.comparison_key(base), now_iso()))
        cache.conn.execute(
            "UPDATE decisions SET status = ?, choice = 'skip', choice_email = NULL, error = ?, "
            "decided_at = ? WHERE link_id = ?",
            (DecisionStatus.SKIPPED, "undone: the earlier values are back", now_iso(), link_id))
        return
    new = entries[0].new_email
    key = emails.comparison_key(new)
    e = entries[0]
    # Both records of the pair must be seen holding the value before the base moves.
    sf_record = e.record_id if e.system == "salesforce" else e.partner_id
    apollo_id = e.record_id if e.system == "apollo" else e.partner_id
    sf_seen = sf_now.get(id18(sf_record))
    sf_key = emails.comparison_key(sf_seen.get("Email")) if sf_seen else \
        emails.comparison_key(written.get(("salesforce", sf_record)))
    apollo_key = emails.comparison_key(apollo_email(apollo_id)[1])
    if sf_key != key or apollo_key != key:
        _decide(cache, link_id, DecisionStatus.CONFLICT,
                "written, but the pair's other record changed at the same time; review it")
        return
    cache.conn.execute("DELETE FROM base WHERE apollo_id = ? AND sf_id = ?", link)
    cache.conn.execute(
        "UPDATE decisions SET status = ?, apollo_email = ?, sf_email = ?, conflict = 0, "
        "error = NULL, decided_at = ? WHERE link_id = ?",
        (DecisionStatus.APPLIED, new, new, now_iso(), link_id))


def _decide(cache: Cache, link_id: int, status: DecisionStatus, error: str) -> None:
    cache.conn.execute("UPDATE decisions SET status = ?, error = ?, decided_at = ? "
                       "WHERE link_id = ?", (status, error[:500], now_iso(), link_id))


def _system_name(system: str) -> str:
    return {"salesforce": "Salesforce", "apollo": "Apollo"}.get(system, system)
