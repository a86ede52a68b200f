"""Each run's success and error CSVs (record, values, error code and message), beside the
cache. Every cell that a spreadsheet would take for a formula (``= + - @``, tab, CR at the
start, including valid addresses such as ``=x@y.com``) is written with a leading quote."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from pathlib import Path

COLUMNS = ("entry", "pair", "system", "object", "record_id", "old_email", "new_email", "state",
           "seen_email", "error_code", "error")
_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutral(value) -> str:
    """A cell's text, with a leading ``'`` when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_TRIGGERS) else text


def write_run_files(entries: Iterable, out_dir: Path, run_id: int) -> tuple[Path, Path]:
    """Write ``run-<id>-success.csv`` (rows done) and ``run-<id>-errors.csv`` (conflict,
    failed, skipped, and any still open); both always exist, created 0600."""
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    paths = out_dir / f"run-{run_id}-success.csv", out_dir / f"run-{run_id}-errors.csv"
    files = [open(os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", newline="",
                  encoding="utf-8") for p in paths]
    try:
        writers = [csv.writer(f) for f in files]
        for w in writers:
            w.writerow(COLUMNS)
        for e in entries:
            row = (e.entry_id, e.link_id, e.system, e.object, e.record_id, e.old_email,
                   e.new_email, e.state, e.seen_email, e.error_code, e.error)
            writers[0 if e.state == "done" else 1].writerow([neutral(v) for v in row])
    finally:
        for f in files:
            f.close()
    return paths
