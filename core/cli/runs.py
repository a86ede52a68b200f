"""``concord runs``: the pulls and reconciliations a cache has seen, newest first."""

from __future__ import annotations

import argparse
import json

from core.cli.apply import describe_counts
from core.cli.errors import EXIT_OK, FileProblem, UsageError
from core.cli.target import cache_path_from_args, open_for_reading
from core.cli.words import count, local_time
from core.defaults import RUNS_LIMIT
from core.store import runs as store_runs
from core.sync.connections import SYSTEM_NAMES

RUNS_SCHEMA = 2  # the cache schema version that added the runs table


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``runs`` to ``concord``'s subparsers."""
    p = subparsers.add_parser("runs", help="list runs with their counts and API calls",
                              description="List the pulls and reconciliations of a workspace's "
                                          "cache with their counts and the API calls they spent "
                                          "(the cache is only read).")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--workspace", metavar="NAME", help="a connected workspace")
    target.add_argument("--cache", metavar="PATH", help="a cache file")
    p.add_argument("--limit", type=int, default=RUNS_LIMIT,
                   help=f"how many runs to list (default {RUNS_LIMIT})")
    p.add_argument("--json", action="store_true", help="print the runs as JSON")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    """Handle ``concord runs``."""
    if args.limit < 1:
        raise UsageError(f"--limit must be at least 1, got {args.limit}.")
    path = cache_path_from_args(args)
    with open_for_reading(path) as cache:
        if cache.version() < RUNS_SCHEMA:
            raise FileProblem(f"{path} was written by an older Concord and keeps no run history "
                              f"yet; the next pull upgrades it.")
        runs = [run.as_dict() for run in store_runs.latest(cache, args.limit)]
    if args.json:
        print(json.dumps(runs, indent=2))
        return EXIT_OK
    if not runs:
        print("No runs yet: pull or reconcile first.")
    for r in runs:
        calls = ", ".join(f"{SYSTEM_NAMES.get(k, k)} {v:,}" for k, v in r["api_calls"].items())
        print(f"{r['run_id']:>5}  {r['kind']:<10} {r['status']:<12} "
              f"{local_time(r['started_at'])}  {_counts(r['kind'], r['summary'])}"
              f"  API calls: {calls or '-'}")
    return EXIT_OK


def _counts(kind: str, summary: dict) -> str:
    """What a run did, in a few words."""
    if kind == "pull":
        parts = [f"{SYSTEM_NAMES[s]} {count(summary[s].get('fetched', 0), 'record')} received"
                 for s in SYSTEM_NAMES if isinstance(summary.get(s), dict)
                 and summary[s].get("status") != "skipped"]
        return "; ".join(parts) or "nothing pulled"
    if kind in ("apply", "undo"):
        return describe_counts(summary).strip()
    decide = summary.get("decide")
    if isinstance(decide, dict):
        return f"{count(decide.get('decided', 0), 'pair')} decided"
    return summary.get("error", "")
