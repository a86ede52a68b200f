"""Bulk upserts of pulled records into the cache, with observations of email values.

A batch of records is written in one transaction together with whatever the caller needs
committed alongside it (a pull's watermark), so a killed pull never leaves half a batch.
Rows whose content did not change (same hash of the API's answer) are not rewritten and
keep their change number, so the next incremental reconciliation only looks at what
really changed. When a linked record's email moves away from the value its pair agreed
on, that value is kept as the pair's base first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from core.store.cache import Cache, chunked
from core.store.rows import APOLLO_COLUMNS, SF_COLUMNS, apollo_row, history_row, sf_row


@dataclass
class IngestCounts:
    """What one batch did to the cache."""

    received: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    email_changes: int = 0

@dataclass(frozen=True)
class _Table:
    name: str
    raw: str
    side: str
    columns: tuple[str, ...]

    @property
    def upsert(self) -> str:
        cols = self.columns + ("raw_hash", "pulled_at", "seq")
        updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c != "id")
        return (f"INSERT INTO {self.name} ({', '.join(cols)}) "
                f"VALUES ({', '.join('?' * len(cols))}) ON CONFLICT(id) DO UPDATE SET {updates}")


_APOLLO = _Table("apollo_contacts", "apollo_raw", "apollo", APOLLO_COLUMNS)
_SALESFORCE = _Table("sf_records", "sf_raw", "salesforce", SF_COLUMNS)
_KEY_AT = {t.name: t.columns.index("email_key") for t in (_APOLLO, _SALESFORCE)}
_EMAIL_AT = {t.name: t.columns.index("email") for t in (_APOLLO, _SALESFORCE)}


def content_hash(raw: str) -> int:
    """A 64-bit fingerprint of a record's JSON, to tell changed records from unchanged."""
    return int.from_bytes(hashlib.blake2b(raw.encode(), digest_size=8).digest(), "big",
                          signed=True)


def _existing(cache: Cache, table: str, ids: list[str]) -> dict[str, tuple]:
    """``id -> (email_key, raw_hash, email)`` of the rows already cached."""
    found: dict[str, tuple] = {}
    for chunk in chunked(ids):
        marks = ",".join("?" * len(chunk))
        for row in cache.conn.execute(
                f"SELECT id, email_key, raw_hash, email FROM {table} WHERE id IN ({marks})", chunk):
            found[row[0]] = row[1:]
    return found


_PARTNERS = {
    "apollo": ("SELECT l.apollo_id, l.sf_id, s.email_key FROM links l "
               "JOIN sf_records s ON s.id = l.sf_id WHERE l.apollo_id IN ({marks})"),
    "salesforce": ("SELECT l.apollo_id, l.sf_id, a.email_key FROM links l "
                   "JOIN apollo_contacts a ON a.id = l.apollo_id WHERE l.sf_id IN ({marks})"),
}


def _keep_base(cache: Cache, side: str, moved: dict[str, tuple[str, str]], when: str) -> None:
    """Before a record's email changes, store the value its linked pair agreed on.

    Agreeing pairs keep no base row (their base is the value they share); the moment one
    side moves, that shared value becomes the base the next decision compares against.
    """
    rows = []
    for chunk in chunked(moved):
        sql = _PARTNERS[side].format(marks=",".join("?" * len(chunk)))
        for apollo_id, sf_id, partner_key in cache.conn.execute(sql, chunk):
            old_key, old_email = moved[apollo_id if side == "apollo" else sf_id]
            if partner_key == old_key:
                rows.append((apollo_id, sf_id, old_email or "", old_key, when))
    # Both sides held the old value just now: that is the latest agreement, newer than any
    # base a run has not yet settled.
    cache.conn.executemany(
        "INSERT INTO base (apollo_id, sf_id, email, email_key, synced_at) VALUES (?,?,?,?,?) "
        "ON CONFLICT (apollo_id, sf_id) DO UPDATE SET email = excluded.email, "
        "email_key = excluded.email_key, synced_at = excluded.synced_at", rows)


def _write(cache: Cache, table: _Table, rows: list[tuple], pulled_at: str, observe: bool,
           prior_seen: str | None) -> IngestCounts:
    counts = IngestCounts(received=len(rows))
    existing = _existing(cache, table.name, [r[0] for r in rows])
    key_at, email_at = _KEY_AT[table.name], _EMAIL_AT[table.name]
    seq = cache.next_seq()
    writes, raws, observations = [], [], []
    moved: dict[str, tuple[str, str]] = {}
    for row in rows:
        raw = row[-1]
        digest = content_hash(raw)
        old = existing.get(row[0])
        if old is not None and old[1] == digest:
            counts.unchanged += 1
            continue
        if old is None:
            # A record's first value is dated by its own timestamps (an observation with no
            # earlier value would bound nothing more), so only changes are observed.
            counts.inserted += 1
        else:
            counts.updated += 1
            if old[0] != row[key_at]:
                counts.email_changes += 1
                moved[row[0]] = (old[0], old[2])
                if observe:
                    observations.append((table.side, row[0], row[key_at], row[email_at],
                                         pulled_at, prior_seen))
        writes.append(row[:-1] + (digest, pulled_at, seq))
        raws.append((row[0], raw))
    if moved:
        _keep_base(cache, table.side, moved, prior_seen or pulled_at)
        if table.side == "salesforce":
            cache.conn.executemany("INSERT INTO vacated_emails (seq, email_key) VALUES (?, ?)",
                                   [(seq, old_key) for old_key, _ in moved.values() if old_key])
    cache.conn.executemany(table.upsert, writes)
    cache.conn.executemany(f"INSERT OR REPLACE INTO {table.raw} (id, raw) VALUES (?, ?)", raws)
    if observations:
        cache.conn.executemany(
            "INSERT OR REPLACE INTO observations "
            "(side, record_id, email_key, email, first_seen_at, prior_seen_at) VALUES (?,?,?,?,?,?)",
            observations)
    return counts


def upsert_apollo(cache: Cache, contacts: Iterable[dict], pulled_at: str, *,
                  observe: bool = True, prior_seen: str | None = None) -> IngestCounts:
    """Write Apollo contacts (API shape) to the cache. Call inside ``cache.transaction()``.

    ``prior_seen`` is when the previous complete pull ran: a changed email was set after it.
    """
    rows = [apollo_row(c) for c in contacts]
    if not rows:
        return IngestCounts()
    return _write(cache, _APOLLO, rows, pulled_at, observe, prior_seen)


def upsert_salesforce(cache: Cache, records: Iterable[dict], pulled_at: str, *,
                      object_name: str | None = None, observe: bool = True,
                      prior_seen: str | None = None) -> IngestCounts:
    """Write Salesforce Leads/Contacts (query shape) to the cache. Call inside a transaction."""
    rows = [sf_row(r, object_name) for r in records]
    if not rows:
        return IngestCounts()
    return _write(cache, _SALESFORCE, rows, pulled_at, observe, prior_seen)


def add_history(cache: Cache, rows: Iterable[dict]) -> int:
    """Store ContactHistory/LeadHistory rows about Email; return how many were about Email."""
    parsed = [r for r in (history_row(row) for row in rows) if r is not None]
    cache.conn.executemany(
        "INSERT OR IGNORE INTO sf_email_history "
        "(id, record_id, old_value, new_value, new_key, changed_at, changed_by) "
        "VALUES (?,?,?,?,?,?,?)", parsed)
    return len(parsed)
