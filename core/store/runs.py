"""The ``runs`` table: one row per pull, reconciliation or write-back run.

The only module that writes or reads it. A run starts ``running`` and finishes with a status
and a JSON summary; a run left ``running`` by a killed process is marked ``interrupted`` when
the next run of its kind starts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from core.store.cache import Cache, now_iso


@dataclass(frozen=True)
class Run:
    """One row of the ``runs`` table, its JSON columns decoded."""

    run_id: int
    kind: str  # pull | reconcile | apply | undo
    started_at: str
    finished_at: str | None
    status: str
    summary: dict = field(default_factory=dict)
    api_calls: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"run_id": self.run_id, "kind": self.kind, "started_at": self.started_at,
                "finished_at": self.finished_at, "status": self.status,
                "summary": self.summary, "api_calls": self.api_calls}


def start(cache: Cache, kind: str) -> tuple[int, str]:
    """Record a new ``running`` run of ``kind``; returns its id and start time. A run of the
    same kind still ``running`` was killed: it becomes ``interrupted``."""
    started = now_iso()
    with cache.transaction():
        cache.conn.execute("UPDATE runs SET status = 'interrupted' "
                           "WHERE kind = ? AND status = 'running'", (kind,))
        cursor = cache.conn.execute(
            "INSERT INTO runs (kind, started_at, status) VALUES (?, ?, 'running')", (kind, started))
    return cursor.lastrowid, started


def finish(cache: Cache, run_id: int, status: str, summary: dict,
           api_calls: dict | None = None, *, own_transaction: bool = True) -> str:
    """Record how a run ended; returns the finish time. ``own_transaction=False`` when the
    caller's transaction should commit it together with the run's last changes."""
    finished = now_iso()
    sql = ("UPDATE runs SET finished_at = ?, status = ?, summary = ?, "
           "api_calls = coalesce(?, api_calls) WHERE run_id = ?")
    params = (finished, status, json.dumps(summary),
              json.dumps(api_calls) if api_calls is not None else None, run_id)
    if own_transaction:
        with cache.transaction():
            cache.conn.execute(sql, params)
    else:
        cache.conn.execute(sql, params)
    return finished


def _decode(text: str | None) -> dict:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


_SELECT = "SELECT run_id, kind, started_at, finished_at, status, summary, api_calls FROM runs"


def _run(r) -> Run:
    return Run(r[0], r[1], r[2], r[3], r[4], _decode(r[5]), _decode(r[6]))


def latest(cache: Cache, limit: int = 20) -> list[Run]:
    """The newest runs first."""
    rows = cache.conn.execute(f"{_SELECT} ORDER BY run_id DESC LIMIT ?", (limit,)).fetchall()
    return [_run(r) for r in rows]


def get(cache: Cache, run_id: int) -> Run | None:
    """One run by its id."""
    row = cache.conn.execute(f"{_SELECT} WHERE run_id = ?", (run_id,)).fetchone()
    return _run(row) if row is not None else None
