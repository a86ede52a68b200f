"""Engine benchmark: full match + decide + persist, against a raw-SQLite baseline.

    python bench/engine.py --records 100000 [--mix typical|demo] [--seed 1] [--repeat 3]

Generates N records per side (or reuses bench/.data/engine-<mix>-<N>-<seed>.sqlite), copies
it, and in one process times (the median of --repeat runs, each on a fresh copy):
- ``seconds``: a full reconciliation (match, decide, persist) of the copy;
- ``baseline_seconds``: an indexed join on the normalised email over the same database plus
  a per-row Python comparison (the least a reconciler can do);
- ``incremental_seconds``: an incremental run after 1% of the records changed.
Prints one JSON line. The dataset is generated in a child process so ``peak_rss_mb`` is the
engine's own high-water mark (resident set, from getrusage). The "typical" mix is a workspace
whose sync mostly works (95% of pairs agree); "demo" is the conflict-rich sandbox (58%).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.sandbox.dataset import Dataset, write_cache  # noqa: E402
from core.store.cache import Cache  # noqa: E402
from core.store.ingest import upsert_apollo, upsert_salesforce  # noqa: E402
from core.sync.reconcile import reconcile  # noqa: E402

DATA = Path(__file__).resolve().parent / ".data"


def _generate(path: str, records: int, seed: int, mix: str) -> None:
    tmp = path + ".part"
    if os.path.exists(tmp):
        os.remove(tmp)
    with Cache(tmp) as cache:
        write_cache(cache, Dataset(records, seed=seed, mix=mix))
        cache.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    os.replace(tmp, path)


def dataset_file(records: int, seed: int, mix: str) -> Path:
    """The cached generated workspace (records, base, observations; nothing decided)."""
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"engine-{mix}-{records}-{seed}.sqlite"
    if not path.exists():
        child = multiprocessing.get_context("spawn").Process(
            target=_generate, args=(str(path), records, seed, mix))
        child.start()
        child.join()
        if child.exitcode != 0:
            raise SystemExit(f"generating the dataset failed (exit {child.exitcode})")
    return path


def baseline(path: Path) -> tuple[float, int]:
    """An indexed join on the normalised email plus a per-row Python comparison."""
    conn = sqlite3.connect(path)
    started = time.perf_counter()
    differing = 0
    for a_email, s_email in conn.execute(
            "SELECT a.email, s.email FROM apollo_contacts a "
            "JOIN sf_records s ON s.email_key = a.email_key WHERE a.email_key != ''"):
        if (a_email or "").strip().lower() != (s_email or "").strip().lower():
            differing += 1
    seconds = time.perf_counter() - started
    conn.close()
    return seconds, differing


def change_one_percent(cache: Cache, now_iso: str) -> int:
    """Change the email of 1% of the records (half on each side) through the pull's ingest."""
    count = max(1, cache.conn.execute("SELECT count(*) FROM apollo_contacts").fetchone()[0] // 200)
    apollo = [json.loads(raw) for (raw,) in cache.conn.execute(
        "SELECT raw FROM apollo_raw ORDER BY id LIMIT ?", (count,))]
    sf = [json.loads(raw) for (raw,) in cache.conn.execute(
        "SELECT r.raw FROM sf_raw r JOIN sf_records s USING (id) WHERE s.object = 'Contact' ORDER BY id LIMIT ?", (count,))]
    for contact in apollo:
        contact["email"] = f"changed.{contact['id'][-6:]}@example.org"
        contact["updated_at"] = now_iso
    for record in sf:
        record["Email"] = f"moved.{record['Id'][-6:]}@example.org"
        record["LastModifiedDate"] = record["SystemModstamp"] = now_iso
    with cache.transaction():
        upsert_apollo(cache, apollo, now_iso)
        upsert_salesforce(cache, sf, now_iso, object_name="Contact")
    return len(apollo) + len(sf)


def run_once(source: Path) -> dict:
    """One measurement on a fresh copy of the generated workspace."""
    workdir = Path(tempfile.mkdtemp(prefix="concord-bench-"))
    try:
        db = workdir / "cache.sqlite"
        shutil.copyfile(source, db)
        os.chmod(db, 0o600)
        baseline(db)  # warm the page cache the same way for both runs
        base_seconds, differing = baseline(db)
        with Cache(db) as cache:
            started = time.perf_counter()
            summary = reconcile(cache, full=True)
            seconds = time.perf_counter() - started
            changed = change_one_percent(cache, "2099-01-01T00:00:00.000Z")
            started = time.perf_counter()
            incremental = reconcile(cache, full=False)
            incremental_seconds = time.perf_counter() - started
        return {"seconds": seconds, "baseline_seconds": base_seconds,
                "match_seconds": summary.match_seconds, "incremental_seconds": incremental_seconds,
                "changed_records": changed, "pairs_decided": summary.decide.decided,
                "incremental_decided": incremental.decide.decided,
                "baseline_rows_differing": differing}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run(records: int, seed: int, mix: str, repeat: int = 3) -> dict:
    """Median of ``repeat`` measurements; the ratio is of the medians."""
    source = dataset_file(records, seed, mix)
    runs = [run_once(source) for _ in range(repeat)]
    med = {key: statistics.median(r[key] for r in runs)
           for key in ("seconds", "baseline_seconds", "match_seconds", "incremental_seconds")}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "records": records,
        "mix": mix,
        "seconds": round(med["seconds"], 3),
        "baseline_seconds": round(med["baseline_seconds"], 3),
        "ratio": round(med["seconds"] / med["baseline_seconds"], 2),
        "peak_rss_mb": round(peak, 1),
        "incremental_seconds": round(med["incremental_seconds"], 3),
        "incremental_share": round(med["incremental_seconds"] / med["seconds"], 3),
        "match_seconds": round(med["match_seconds"], 3),
        "repeat": repeat,
        "ratios": [round(r["seconds"] / r["baseline_seconds"], 2) for r in runs],
        "changed_records": runs[0]["changed_records"],
        "pairs_decided": runs[0]["pairs_decided"],
        "incremental_decided": runs[0]["incremental_decided"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mix", choices=("demo", "typical"), default="typical")
    parser.add_argument("--repeat", type=int, default=3, help="runs to take the median of")
    args = parser.parse_args()
    print(json.dumps(run(args.records, args.seed, args.mix, args.repeat)))


if __name__ == "__main__":
    main()
