"""The write-back journal: one row per planned write, committed before anything is sent.

States (DESIGN §5): ``planned`` → ``sent`` (committed just before the request leaves) →
``done`` once a read shows the target holding the new value; or ``conflict`` (the target,
or the pair's other record, no longer holds what the plan saw: never overwritten),
``failed`` (the API refused it; the code and message are kept) or ``skipped``. A row left
``planned`` or ``sent`` by a killed process is finished by the next run, which re-reads the
target first and never resends blindly.

:func:`checkpoint` marks the named instants the crash tests kill the process at.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core import emails
from core.store.cache import Cache, chunked, now_iso
from core.sync.plan import PlannedWrite

OPEN_STATES = ("planned", "sent")
FINAL_STATES = ("done", "conflict", "failed", "skipped")
CRASH_ENV = "CONCORD_CRASH_AT"  # "<point>" or "<point>:<n>": killed at the n-th pass (tests)
_hits: dict[str, int] = {}

CRASH_POINTS = (
    "before_journal_commit",  # the planned rows are written but not committed
    "after_journal_commit",  # committed, nothing sent
    "after_mark_sent",  # rows committed `sent`, the request not yet sent
    "after_send",  # the request answered, the answer not yet recorded
    "mid_round",  # Salesforce written, Apollo not yet
    "during_readback",  # read back, the outcome not yet recorded
    "after_round_commit",  # a round recorded, the next not started
    "before_run_finish",  # every row final, the run not yet closed
    "undo_after_journal_commit",  # an undo's rows committed, nothing sent
)


def checkpoint(name: str) -> None:
    """A named instant of the protocol. When ``CONCORD_CRASH_AT`` names it, the process
    kills itself with SIGKILL there (no cleanup, no flush), as a crash would."""
    wanted = os.environ.get(CRASH_ENV)
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass
class Entry:
    """One journal row."""

    entry_id: int
    run_id: int
    link_id: int
    system: str
    object: str
    record_id: str
    old_email: str | None
    new_email: str | None
    partner_object: str
    partner_id: str
    partner_keys: tuple[str, ...]
    base_email: str | None
    rule: str
    why: str
    state: str
    sends: int
    seen_email: str | None
    error_code: str | None
    error: str | None
    undoes: int | None
    also_old: tuple[str, ...]

    def holds_old(self, key: str) -> bool:
        """Whether ``key`` is a value the target may hold for this write to go ahead."""
        return key == self.old_key or key in self.also_old

    @property
    def old_key(self) -> str:
        return emails.comparison_key(self.old_email)

    @property
    def new_key(self) -> str:
        return emails.comparison_key(self.new_email)


_COLUMNS = ("entry_id, run_id, link_id, system, object, record_id, old_email, new_email, "
            "partner_object, partner_id, partner_keys, base_email, rule, why, state, sends, "
            "seen_email, error_code, error, undoes, also_old")


def _entry(row) -> Entry:
    values = list(row)
    values[10] = tuple(json.loads(values[10]))
    values[20] = tuple(json.loads(values[20]))
    return Entry(*values)


def record(cache: Cache, run_id: int, writes: Sequence[PlannedWrite],
           undoes: Sequence[int | None] | None = None) -> int:
    """Write the plan's rows ``planned`` and commit them (before anything is sent)."""
    now = now_iso()
    rows = [(run_id, w.link_id, w.system, w.object, w.record_id, w.old_email, w.new_email,
             w.partner_object, w.partner_id, json.dumps(list(w.partner_keys)), w.base_email, w.rule,
             w.why, "planned", (undoes[i] if undoes else None), json.dumps(list(w.also_old)), now)
            for i, w in enumerate(writes)]
    with cache.transaction():
        cache.conn.executemany(
            "INSERT INTO journal (run_id, link_id, system, object, record_id, old_email, "
            "new_email, partner_object, partner_id, partner_keys, base_email, rule, why, state, "
            "undoes, also_old, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        checkpoint("before_journal_commit")
    return len(rows)


def entries(cache: Cache, run_id: int, states: Iterable[str] | None = None) -> list[Entry]:
    """A run's rows in plan order (only those in ``states`` when given)."""
    sql = f"SELECT {_COLUMNS} FROM journal WHERE run_id = ?"
    params: list = [run_id]
    if states is not None:
        states = list(states)
        sql += f" AND state IN ({','.join('?' * len(states))})"
        params += states
    return [_entry(r) for r in cache.conn.execute(sql + " ORDER BY entry_id", params)]


def entries_for_links(cache: Cache, run_id: int, link_ids: Sequence[int]) -> list[Entry]:
    """A run's rows for some pairs (at most ``ID_CHUNK`` link ids)."""
    return [_entry(r) for r in cache.conn.execute(
        f"SELECT {_COLUMNS} FROM journal WHERE run_id = ? AND link_id IN "
        f"({','.join('?' * len(link_ids))}) ORDER BY entry_id", (run_id, *link_ids))]


def unfinished_runs(cache: Cache) -> list[int]:
    """Runs with rows still ``planned`` or ``sent`` (a killed or cancelled run)."""
    return [r[0] for r in cache.conn.execute(
        "SELECT DISTINCT run_id FROM journal WHERE state IN ('planned', 'sent') ORDER BY run_id")]


def set_state(cache: Cache, entry_ids: Sequence[int], state: str, *, seen: str | None = None,
              code: str | None = None, error: str | None = None, sent: bool = False) -> None:
    """Move rows to ``state`` (call inside a transaction); ``sent`` counts one more send."""
    now = now_iso()
    for chunk in chunked(entry_ids):
        cache.conn.execute(
            f"UPDATE journal SET state = ?, seen_email = coalesce(?, seen_email), "
            f"error_code = ?, error = ?, sends = sends + ?, updated_at = ? "
            f"WHERE entry_id IN ({','.join('?' * len(chunk))})",
            (state, seen, code, error, 1 if sent else 0, now, *chunk))


def counts(cache: Cache, run_id: int) -> dict[str, int]:
    """``state -> rows`` of a run, every state present (zero when none)."""
    found = dict(cache.conn.execute(
        "SELECT state, count(*) FROM journal WHERE run_id = ? GROUP BY state", (run_id,)))
    return {state: found.get(state, 0) for state in (*OPEN_STATES, *FINAL_STATES)}


def undone_entries(cache: Cache, entry_ids: Sequence[int]) -> set[int]:
    """Which of ``entry_ids`` an undo has already reversed (or is reversing)."""
    found: set[int] = set()
    for chunk in chunked(entry_ids):
        found.update(r[0] for r in cache.conn.execute(
            f"SELECT undoes FROM journal WHERE undoes IN ({','.join('?' * len(chunk))}) "
            f"AND state IN ('planned', 'sent', 'done')", chunk))
    return found
