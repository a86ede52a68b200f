"""How fast Concord pulls both systems into a cache, what it spends, and how fast it ingests.

The sandbox runs in a separate process (``python -m core.sandbox.standalone``, Apollo limits
off) so the servers and the client never share one interpreter lock. Measured here, in the
client process:

- **first pull** of each system on its own (Salesforce: COUNT, Bulk API 2.0 jobs above the
  threshold, then REST; Apollo: the full plan split by stage): records/s, API calls;
- **repeated pull** with nothing changed: API calls per system (targets: at most 2
  Salesforce calls per object, at most 1 Apollo call) and seconds;
- **incremental pull** after ``--changes`` edits on each side (made through the APIs);
- **ingest only**: pages already in memory as JSON bytes, parsed and upserted in
  transactions as the pull does, no network (target 50,000 records/s);
- **peak memory**: the client's peak RSS after the pulls (they run first).

Prints one JSON line. ``python bench/pull.py --records 100000``
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def peak_rss_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def start_server(records: int, seed: int, workdir: Path):
    """The sandbox in a child process (Apollo limits off), ready."""
    from core.sandbox import spawn
    from core.sandbox.apollo.api import UNLIMITED

    return spawn(records=records, seed=seed, tls_dir=workdir / "tls", apollo_limits=UNLIMITED,
                 in_child=True)


def sources(info: dict):
    from core.sources.apollo import ApolloSource
    from core.sources.salesforce import SalesforceSource

    return SalesforceSource.from_sandbox_info(info), ApolloSource.from_sandbox_info(info)


def timed_pull(cache, salesforce=None, apollo=None) -> dict:
    from core.sync.pull import pull_all

    started = time.perf_counter()
    summary = pull_all(cache, salesforce, apollo)
    seconds = time.perf_counter() - started
    result = summary.salesforce if salesforce is not None else summary.apollo
    return {"status": result.status, "mode": result.mode, "records": result.fetched,
            "history_rows": result.history_rows, "api_calls": result.api_calls,
            "seconds": round(seconds, 2),
            "records_per_s": round(result.fetched / seconds) if seconds else None,
            **({"message": result.message} if result.message else {})}


def make_changes(info: dict, changes: int) -> None:
    """Edit ``changes`` records on each side through the APIs (as users would)."""
    from core.sources.apollo import ApolloSource
    from core.sources.salesforce import SalesforceSource

    sf = SalesforceSource.from_sandbox_info(info)
    ids = [r["Id"] for r in sf.query(f"SELECT Id FROM Contact ORDER BY Id LIMIT {changes}")["records"]]
    client = sf.connect()
    for record_id in ids:
        client.Contact.update(record_id, {"FirstName": "Changed"})
    apollo = ApolloSource.from_sandbox_info(info)
    contacts = apollo.search(per_page=100, sort_by="contact_created_at", ascending=True)["contacts"]
    for contact in contacts[:changes]:
        apollo.request("PATCH", f"/contacts/{contact['id']}", {"title": "Changed by the benchmark"},
                       route="api/v1/contacts/update")


def bench_pull(records: int, seed: int, changes: int) -> dict:
    from core.store.cache import Cache

    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="concord-bench-pull-") as tmp:
        with start_server(records, seed, Path(tmp)) as server:
            info = server.info()
            out["serve_start_seconds"] = round(server.start_seconds, 1)
            with Cache(Path(tmp) / "cache.sqlite") as cache:
                sf, apollo = sources(info)
                out["salesforce_first"] = timed_pull(cache, salesforce=sf)
                out["apollo_first"] = timed_pull(cache, apollo=apollo)
                sf, apollo = sources(info)
                out["salesforce_repeat"] = timed_pull(cache, salesforce=sf)
                out["apollo_repeat"] = timed_pull(cache, apollo=apollo)
                if changes:
                    make_changes(info, changes)
                    sf, apollo = sources(info)
                    out["salesforce_incremental"] = timed_pull(cache, salesforce=sf)
                    out["apollo_incremental"] = timed_pull(cache, apollo=apollo)
                out["cache_mb"] = round(sum(p.stat().st_size for p in Path(tmp).glob("cache.sqlite*"))
                                        / 2**20)
    repeat_sf = out["salesforce_repeat"]["api_calls"]
    out["targets"] = {"salesforce_repeat_calls_per_object": repeat_sf / 2,
                      "salesforce_repeat_ok": repeat_sf <= 2 * 2,
                      "apollo_repeat_calls": out["apollo_repeat"]["api_calls"],
                      "apollo_repeat_ok": out["apollo_repeat"]["api_calls"] <= 1}
    return out


def _pages(records, key: str, size: int):
    """API-shaped JSON pages of ``size`` records, generated one at a time."""
    import orjson

    batch: list = []
    for record in records:
        batch.append(record)
        if len(batch) == size:
            yield orjson.dumps({key: batch})
            batch = []
    if batch:
        yield orjson.dumps({key: batch})


def bench_ingest(records: int, seed: int, page: int = 2000) -> dict:
    """Parse + upsert, no network: API-shaped JSON pages into a fresh cache, timed page by
    page (generating the pages is not counted)."""
    import orjson

    from core.sandbox.dataset import Dataset
    from core.store.cache import Cache, now_iso
    from core.store.ingest import upsert_apollo, upsert_salesforce
    from core.sync.pull_salesforce import _canonical
    from core.sync.pull_state import pull_checkpoint_pages

    dataset = Dataset(records, seed)
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="concord-bench-ingest-") as tmp:
        with Cache(Path(tmp) / "cache.sqlite") as cache:
            # As a pull does it: orjson decodes, one transaction per page, the pull's WAL
            # checkpoint interval.
            cache.conn.execute(f"PRAGMA wal_autocheckpoint = {pull_checkpoint_pages(cache)}")
            figures = {}
            for side, pages, key, upsert in (
                    ("salesforce", _pages(dataset.salesforce_records(), "records", page), "records",
                     lambda rows: upsert_salesforce(cache, [_canonical(r) for r in rows], now_iso())),
                    ("apollo", _pages(dataset.apollo_contacts(), "contacts", page), "contacts",
                     lambda rows: upsert_apollo(cache, rows, now_iso()))):
                count = wall = cpu = 0.0
                for body in pages:
                    started, cpu_started = time.perf_counter(), time.process_time()
                    rows = orjson.loads(body)[key]
                    with cache.transaction():
                        upsert(rows)
                    wall += time.perf_counter() - started
                    cpu += time.process_time() - cpu_started
                    count += len(rows)
                figures[side] = (count, wall, cpu)
                out[f"{side}_ingest_records_per_s"] = round(count / wall)
            count = sum(f[0] for f in figures.values())
            out["ingest_records"] = int(count)
            out["ingest_records_per_s"] = round(count / sum(f[1] for f in figures.values()))
            out["ingest_records_per_cpu_s"] = round(count / sum(f[2] for f in figures.values()))
    out["ingest_target_ok"] = out["ingest_records_per_s"] >= 50_000
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000, help="pairs served per side")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--changes", type=int, default=50, help="edits per side before the "
                                                                "incremental pull (0: skip)")
    parser.add_argument("--skip-pull", action="store_true")
    parser.add_argument("--skip-ingest", action="store_true")
    args = parser.parse_args(argv)
    result: dict = {"records": args.records, "seed": args.seed}
    if not args.skip_pull:
        result.update(bench_pull(args.records, args.seed, args.changes))
        result["pull_peak_rss_mb"] = peak_rss_mb()  # the pulls ran first: this is theirs
    if not args.skip_ingest:
        result.update(bench_ingest(args.records, args.seed))
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
