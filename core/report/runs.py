"""Run reports: the runs table (one row per pull, reconciliation or write-back run) as a
report, in the same formats as the conflict reports.

A second row source beside :func:`core.report.rows.conflict_report`. Each row is one run:
its kind, status, times, API calls and its summary flattened to ``key: value`` text.
"""

from __future__ import annotations

from core import __version__
from core.report.rows import Column, Report
from core.store import runs

RUN_COLUMNS = [
    Column("run_id", "Run", 6), Column("kind", "Kind", 10), Column("status", "Status", 12),
    Column("started_at", "Started", 20), Column("finished_at", "Finished", 20),
    Column("api_calls", "API calls", 24), Column("summary", "Summary", 80),
]


def flatten(value, prefix: str = "") -> list[str]:
    """A run's JSON summary as ``a.b: value`` lines."""
    if isinstance(value, dict):
        out: list[str] = []
        for key, item in value.items():
            out += flatten(item, f"{prefix}.{key}" if prefix else str(key))
        return out
    if isinstance(value, list):
        return [f"{prefix}: " + ", ".join(str(v) for v in value)]
    return [f"{prefix}: {value}"]


def runs_report(cache, run_id: int | None = None, limit: int = 1000) -> Report:
    """The latest runs (or the one ``run_id``) as a report, newest first."""
    if run_id is None:
        found = runs.latest(cache, limit)
    else:
        one = runs.get(cache, run_id)
        if one is None:
            raise LookupError(f"There is no run {run_id} in this cache.")
        found = [one]
    rows = [[str(r.run_id), r.kind, r.status, r.started_at or "", r.finished_at or "",
             "; ".join(flatten(r.api_calls)), "; ".join(flatten(r.summary))] for r in found]
    what = f"run {run_id}" if run_id is not None else f"the latest {len(rows):,} runs"
    return Report("runs", "Concord runs", list(RUN_COLUMNS), rows, len(rows),
                  about=[("Runs", what), ("Rows", f"{len(rows):,}"), ("Concord", __version__)])
