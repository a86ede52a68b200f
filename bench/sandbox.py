"""How fast the sandbox serves the real clients, and how long a big sandbox takes to build.

The servers run in a separate process (``python -m core.sandbox.standalone``) so the client's
work and the servers' never share one interpreter lock. Measured:

- Salesforce: records per second through query pages (``query_all_iter`` of
  simple-salesforce over HTTPS), Contacts then Leads;
- Apollo: records per second through ``POST /contacts/search`` at ``per_page`` 100, walking
  every stage's slice (each stays under the 50,000 display cap, as a real client must);
- build: seconds to generate and load ``--build`` records per side into both stores (in
  its own process, so its peak memory is its own).

Prints one JSON line. ``python bench/sandbox.py --records 100000 --build 1000000``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SF_FIELDS = {
    "Contact": "Id, FirstName, LastName, Email, AccountId, EmailBouncedDate, CreatedDate, "
               "LastModifiedDate, SystemModstamp",
    "Lead": "Id, FirstName, LastName, Company, Email, IsConverted, ConvertedContactId, "
            "EmailBouncedDate, CreatedDate, LastModifiedDate, SystemModstamp",
}


def _session(ca_path: str):
    import requests

    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE would override verify
    session.verify = ca_path
    return session


def start_server(records: int, seed: int, workdir: Path):
    """The sandbox in a child process (Apollo limits off), ready."""
    from core.sandbox import spawn
    from core.sandbox.apollo.api import UNLIMITED

    return spawn(records=records, seed=seed, tls_dir=workdir / "tls", apollo_limits=UNLIMITED,
                 in_child=True)


def bench_salesforce(info: dict, repeat: int = 1) -> dict:
    """Every Contact and Lead through query pages with simple-salesforce, ``repeat`` times
    (the figures are the median run's; each run's rate is listed too)."""
    from simple_salesforce import Salesforce

    sf_info = info["salesforce"]
    sf = Salesforce(instance_url=sf_info["instance_url"], session_id=sf_info["access_token"],
                    version=sf_info.get("api_version", "59.0"), session=_session(info["ca_path"]))
    runs = []
    for _ in range(repeat):
        count = 0
        started, cpu = time.perf_counter(), time.process_time()
        for obj, fields in SF_FIELDS.items():
            for _record in sf.query_all_iter(f"SELECT {fields} FROM {obj}"):
                count += 1
        runs.append((time.perf_counter() - started, time.process_time() - cpu, count))
    seconds, cpu_seconds, count = sorted(runs)[len(runs) // 2]
    return {"salesforce_records": count, "salesforce_seconds": round(seconds, 3),
            "salesforce_records_per_s": round(count / seconds),
            "salesforce_runs_records_per_s": [round(c / s) for s, _, c in runs],
            "salesforce_client_cpu_seconds": round(cpu_seconds, 3)}


def bench_apollo(info: dict) -> dict:
    """Every contact through search pages of 100, one stage slice at a time."""
    apollo = info["apollo"]
    session = _session(info["ca_path"])
    session.headers.update({"x-api-key": apollo["api_key"], "Content-Type": "application/json",
                            "Cache-Control": "no-cache"})
    url = apollo["api_url"]
    count = pages = 0
    capped = []
    started, cpu = time.perf_counter(), time.process_time()
    stages = session.get(url + "/contact_stages").json()["contact_stages"]
    for stage in stages:
        page = 1
        while True:
            response = session.post(url + "/contacts/search", json={
                "contact_stage_ids": [stage["id"]], "page": page, "per_page": 100,
                "sort_by_field": "contact_updated_at", "sort_ascending": True})
            response.raise_for_status()
            answer = response.json()
            pages += 1
            count += len(answer["contacts"])
            pagination = answer["pagination"]
            if page >= int(pagination["total_pages"]):
                if pagination["total_entries"] > 50_000:
                    capped.append(stage["name"])
                break
            page += 1
    seconds = time.perf_counter() - started
    result = {"apollo_records": count, "apollo_pages": pages, "apollo_seconds": round(seconds, 3),
              "apollo_records_per_s": round(count / seconds),
              "apollo_client_cpu_seconds": round(time.process_time() - cpu, 3)}
    if capped:
        result["apollo_stages_over_cap"] = capped
    return result


def build_only(records: int, seed: int) -> dict:
    """Generate and load ``records`` per side into fresh stores (this process only)."""
    from core.sandbox.apollo.store import ApolloStore
    from core.sandbox.dataset import Dataset
    from core.sandbox.salesforce.store import SalesforceStore
    from core.sandbox.running import load_dataset

    started = time.perf_counter()
    sf_store, apollo_store = SalesforceStore(), ApolloStore()
    try:
        loaded = load_dataset(sf_store, apollo_store, Dataset(records, seed))
        seconds = time.perf_counter() - started
    finally:
        sf_store.close()
        apollo_store.close()
    return {"build_records": records, "build_seconds": round(seconds, 1),
            "build_loaded": loaded,
            "build_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def bench_build(records: int, seed: int) -> dict:
    output = subprocess.run([sys.executable, __file__, "--build-only", str(records),
                             "--seed", str(seed)], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000, help="pairs served (0: skip)")
    parser.add_argument("--build", type=int, default=1_000_000, help="pairs built (0: skip)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="Salesforce query runs (median)")
    parser.add_argument("--build-only", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.build_only is not None:
        print(json.dumps(build_only(args.build_only, args.seed)))
        return 0
    result: dict = {"records": args.records, "seed": args.seed}
    if args.records:
        with tempfile.TemporaryDirectory(prefix="concord-bench-") as tmp:
            with start_server(args.records, args.seed, Path(tmp)) as server:
                info = server.info()
                result["serve_start_seconds"] = round(server.start_seconds, 1)
                result.update(bench_salesforce(info, args.repeat))
                result.update(bench_apollo(info))
    if args.build:
        result.update(bench_build(args.build, args.seed))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
