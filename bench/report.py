"""Report benchmark: a CSV of --csv-rows rows and XLSX and HTML reports of --rows rows,
against a raw-SQLite/csv baseline in the same run.

    python bench/report.py [--csv-rows 1000000] [--rows 100000] [--seed 1] [--repeat 3]

Generates a reconciled workspace (or reuses bench/.data/report-<N>-<seed>.sqlite) and
reports every pair of it ("Every pair" view, so the row count is the pair count). Each
measurement runs in a child process of its own, so ``peak_rss_mb`` is that export's own
high-water mark. Seconds are medians of --repeat runs:
- ``csv``: ``concord report``'s path (the list's query, the facts, neutralised CSV);
- ``baseline``: the same pairs read with one plain join of links, both records and the
  decision, written with ``csv.writer`` untouched: the least a CSV export can do;
- ``xlsx`` and ``html`` of the first --rows pairs (a 100k-pair workspace);
- ``browser``: with Chromium installed, the HTML opened headless (offline), plain and
  sorted by name: ``ready_ms`` from opening the file to a usable table (measured by the
  page), ``sort_ms`` the sort's own time, and the wall seconds of the whole browser run
  (start-up and writing out the page's 50 MB DOM included).
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.report.export import export  # noqa: E402
from core.report.rows import conflict_report  # noqa: E402
from core.sandbox.dataset import Dataset, write_cache  # noqa: E402
from core.store.cache import Cache  # noqa: E402
from core.store.pairs import EVERYTHING, PairQuery  # noqa: E402
from core.sync.reconcile import reconcile  # noqa: E402

DATA = Path(__file__).resolve().parent / ".data"


def _generate(path: str, records: int, seed: int) -> None:
    tmp = path + ".part"
    if os.path.exists(tmp):
        os.remove(tmp)
    dataset = Dataset(records, seed=seed)
    with Cache(tmp) as cache:
        write_cache(cache, dataset)
        reconcile(cache, now=dataset.now)
        cache.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    os.replace(tmp, path)


def workspace(records: int, seed: int) -> Path:
    """A generated, reconciled workspace of ``records`` pairs (cached between runs)."""
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"report-{records}-{seed}.sqlite"
    if not path.exists():
        _child(_generate, str(path), records, seed)
    return path


def _child(fn, *args):
    """Run ``fn(*args)`` in a fresh process; returns what it put on the queue (or None)."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=_run_child, args=(queue, fn, args))
    process.start()
    result = queue.get() if fn is not _generate else None
    process.join()
    if process.exitcode != 0:
        raise SystemExit(f"{fn.__name__} failed (exit {process.exitcode})")
    return result


def _run_child(queue, fn, args) -> None:
    result = fn(*args)
    if result is not None:
        result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        queue.put(result)


def export_once(db: str, fmt: str, out: str) -> dict:
    with Cache(db, create=False) as cache:
        started = time.perf_counter()
        done = export(conflict_report(cache, PairQuery(view=EVERYTHING)), fmt, out)
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": done.rows, "bytes": os.path.getsize(out)}


def baseline_once(db: str, out: str) -> dict:
    conn = sqlite3.connect(db)
    started = time.perf_counter()
    rows = conn.execute(
        "SELECT l.link_id, l.apollo_id, l.sf_id, a.first_name, a.last_name, "
        "a.organization_name, a.email, a.email_status, s.object, s.email, s.bounced_at, "
        "s.bounce_reason, s.last_modified_at, a.updated_at, d.native_winner, d.native_rule, "
        "d.rec_winner, d.rec_email, d.rec_rule, d.strength, d.reason, d.choice, d.status, d.error "
        "FROM links l LEFT JOIN apollo_contacts a ON a.id = l.apollo_id "
        "LEFT JOIN sf_records s ON s.id = l.sf_id LEFT JOIN decisions d ON d.link_id = l.link_id "
        "ORDER BY l.link_id")
    with open(out, "w", encoding="utf-8", newline="", buffering=1 << 20) as fh:
        writer = csv.writer(fh)
        count = 0
        for row in rows:
            writer.writerow(row)
            count += 1
    seconds = time.perf_counter() - started
    conn.close()
    return {"seconds": seconds, "rows": count}


def browser(html: Path) -> dict | None:
    """Open the HTML headless and offline, then opened sorted by name (``#sort=0``)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return None
    out = {}
    with tempfile.TemporaryDirectory() as profile:
        for label, url in (("open", html.as_uri()), ("open_sorted", html.as_uri() + "#sort=0")):
            started = time.perf_counter()
            page = subprocess.run(
                [chromium, "--headless", "--no-sandbox", "--disable-gpu",
                 "--proxy-server=127.0.0.1:9", f"--user-data-dir={profile}", "--dump-dom", url],
                capture_output=True, text=True, timeout=600).stdout
            out[f"{label}_seconds"] = round(time.perf_counter() - started, 2)
            rendered = re.search(r'data-rendered="(\d+)"', page)
            out[f"{label}_rendered_rows"] = int(rendered.group(1)) if rendered else None
            ready = re.search(r'data-ready-ms="(\d+)"', page)
            out[f"{label}_ready_ms"] = int(ready.group(1)) if ready else None
            applied = re.search(r'data-apply-ms="(\d+)"', page)
            if applied:
                out["sort_ms"] = int(applied.group(1))
            out[f"{label}_table_rows"] = page.count("<tr") - 1
    return out


def _median(runs: list[dict], key: str) -> float:
    return round(statistics.median(r[key] for r in runs), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="runs to take the median of")
    args = parser.parse_args()
    big, small = workspace(args.csv_rows, args.seed), workspace(args.rows, args.seed)
    result: dict = {"csv_pairs": args.csv_rows, "pairs": args.rows, "repeat": args.repeat}
    with tempfile.TemporaryDirectory(prefix="concord-bench-report-") as tmp:
        out = Path(tmp)
        csv_runs, base_runs = [], []
        for _ in range(args.repeat):  # alternate, so both meet the same machine load
            base_runs.append(_child(baseline_once, str(big), str(out / "baseline.csv")))
            csv_runs.append(_child(export_once, str(big), "csv", str(out / "report.csv")))
        result["csv"] = {"rows": csv_runs[0]["rows"], "seconds": _median(csv_runs, "seconds"),
                         "rows_per_second": int(csv_runs[0]["rows"] / _median(csv_runs, "seconds")),
                         "peak_rss_mb": max(r["peak_rss_mb"] for r in csv_runs),
                         "all_seconds": [round(r["seconds"], 2) for r in csv_runs]}
        result["baseline"] = {"rows": base_runs[0]["rows"], "seconds": _median(base_runs, "seconds"),
                              "rows_per_second": int(base_runs[0]["rows"]
                                                     / _median(base_runs, "seconds"))}
        result["csv_vs_baseline"] = round(result["csv"]["seconds"] / result["baseline"]["seconds"], 2)
        for fmt in ("xlsx", "html"):
            runs = [_child(export_once, str(small), fmt, str(out / f"report.{fmt}"))
                    for _ in range(args.repeat)]
            result[fmt] = {"rows": runs[0]["rows"], "seconds": _median(runs, "seconds"),
                           "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
                           "megabytes": round(runs[0]["bytes"] / 1e6, 1)}
        result["browser"] = browser(out / "report.html")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
