"""How fast Concord writes decisions back, and how many API calls it spends doing it.

The sandbox runs in a separate process (``python -m core.sandbox.standalone``, Apollo limits
off). A cache is pulled and reconciled, every pair with a recommended winner is accepted,
and the first ``--writes`` planned writes (whole pairs) are applied. Measured: seconds of
the apply run, API calls per system (the re-reads before, the writes, and the read-backs
after all count), and calls per 100 records written on each system.

Targets: at most 3 Salesforce calls per 200 records written and at most 3 Apollo calls per
100. Prints one JSON line. ``python bench/apply.py --writes 10000``
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.pull import sources, start_server  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=40_000, help="records per side")
    parser.add_argument("--writes", type=int, default=10_000, help="writes to apply")
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()

    from core.store.cache import Cache
    from core.sync import choices
    from core.sync.apply import apply_plan
    from core.sync.plan import WritePlan, plan
    from core.sync.pull import pull_all
    from core.sync.reconcile import reconcile

    with tempfile.TemporaryDirectory(prefix="concord-bench-apply-") as tmp:
        workdir = Path(tmp)
        with start_server(args.records, args.seed, workdir) as server:
            build = server.start_seconds
            sf, apollo = sources(server.info())
            with Cache(workdir / "cache.sqlite") as cache:
                started = time.monotonic()
                pull_all(cache, sf, apollo)
                reconcile(cache)
                prepared = time.monotonic() - started
                ids = [r[0] for r in cache.conn.execute(
                    "SELECT link_id FROM decisions WHERE rec_winner IN ('apollo', 'salesforce')")]
                choices.accept_recommendation(cache, ids)
                full = plan(cache, strengths=())
                chosen, links = WritePlan(pairs=0), set()
                for write in full.writes:
                    if len(chosen.writes) >= args.writes and write.link_id not in links:
                        break
                    chosen.writes.append(write)
                    links.add(write.link_id)
                chosen.pairs = len(links)
                sf_before, apollo_before = sf.api_calls, apollo.api_calls
                started = time.monotonic()
                summary = apply_plan(cache, sf, apollo, chosen, out_dir=workdir / "runs")
                seconds = time.monotonic() - started
                calls = {"salesforce": sf.api_calls - sf_before,
                         "apollo": apollo.api_calls - apollo_before}
    to_sf, to_apollo = chosen.count("salesforce"), chosen.count("apollo")
    print(json.dumps({
        "bench": "apply", "records": args.records, "writes": len(chosen.writes),
        "pairs": chosen.pairs, "writes_salesforce": to_sf, "writes_apollo": to_apollo,
        "done": summary.done, "conflict": summary.conflict, "failed": summary.failed,
        "seconds": round(seconds, 2), "writes_per_second": round(summary.done / seconds, 1),
        "api_calls": calls,
        "salesforce_calls_per_200_written": round(calls["salesforce"] / max(to_sf, 1) * 200, 2),
        "apollo_calls_per_100_written": round(calls["apollo"] / max(to_apollo, 1) * 100, 2),
        "calls_per_100_records_written": round(sum(calls.values()) / max(len(chosen.writes), 1)
                                               * 100, 2),
        "prepare_seconds": round(prepared, 1), "sandbox_build_seconds": round(build, 1)}))


if __name__ == "__main__":
    main()
