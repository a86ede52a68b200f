"""The ``concord`` command line: a thin layer over core (DESIGN §8).

Exit codes: 0 all done, 1 some pairs need review or failed, 2 bad usage or input,
3 could not run. Typed errors from core are translated here, once, into a message and a
code; nothing below prints tracebacks for problems a user can fix.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from core import __version__
from core.store.cache import Cache, CacheError, quarantine

EXIT_OK, EXIT_REVIEW, EXIT_USAGE, EXIT_FAILED = 0, 1, 2, 3


class UsageError(Exception):
    """Bad arguments or input (exit 2)."""


# -- decide ---------------------------------------------------------------------------------

def cmd_decide(args) -> int:
    """JSON Lines in, one decision per line out (DESIGN §3.3)."""
    from core.cli.decide import decide_line

    source = open(args.input, "rb") if args.input else sys.stdin.buffer
    bad = 0
    out = sys.stdout
    try:
        for number, line in enumerate(source, start=1):
            if not line.strip():
                continue
            result, ok = decide_line(line, number)
            bad += not ok
            out.write(json.dumps(result, ensure_ascii=False) + "\n")
    finally:
        if args.input:
            source.close()
    out.flush()
    return EXIT_USAGE if bad else EXIT_OK


# -- demo (text) ------------------------------------------------------------------------------

def cmd_demo_text(args) -> int:
    """Generate a sandbox dataset, reconcile it, and print a readable summary."""
    from core.cli.summary import print_summary
    from core.sandbox.dataset import Dataset, write_cache
    from core.sync.reconcile import reconcile

    dataset = Dataset(args.records, seed=args.seed)
    with tempfile.TemporaryDirectory(prefix="concord-demo-") as tmp:
        with Cache(Path(tmp) / "cache.sqlite") as cache:
            write_cache(cache, dataset)
            summary = reconcile(cache, now=dataset.now)
            print_summary(cache, summary, dataset, examples=args.examples)
    return EXIT_OK


# -- sandbox ------------------------------------------------------------------------------------

def cmd_sandbox_serve(args) -> int:
    """Run both emulators until interrupted."""
    from core.sandbox import standalone as serve

    try:
        limits = serve.parse_limits(args.apollo_limits)
    except ValueError as exc:
        raise UsageError(f"--apollo-limits: {exc}") from None
    return serve.main(args.records, args.seed, args.info_file, apollo_limits=limits)


# -- reconcile and runs -------------------------------------------------------------------------

def cmd_reconcile(args) -> int:
    """Pull both systems, then match and decide; print what Apollo will do and what to review."""
    from core.cli import pull as cli_pull
    from core.cli.summary import print_summary
    from core.model import DecisionStatus
    from core.sync.connections import SandboxInfoError
    from core.sync.reconcile import reconcile

    with cli_pull.redacted_logging():
        try:
            connection = cli_pull.connection_from_args(args)
            sources = None if args.no_pull else connection.sources()
            if sources is not None and sources.none:
                for problem in sources.problems:
                    print(f"concord: {problem}", file=sys.stderr)
                return EXIT_FAILED
            cache = connection.open_cache()
        except (cli_pull.UsageProblem, SandboxInfoError) as exc:
            raise UsageError(str(exc)) from None
        with cache:
            pull_code = EXIT_OK
            if sources is not None:
                pulled = cli_pull.pull_with_progress(cache, sources.salesforce, sources.apollo,
                                                     bar=not args.json, full=args.full)
                pull_code = cli_pull.exit_code(pulled, sources.problems)
                if not args.json:
                    print(cli_pull.describe(pulled, sources.problems) + "\n")
            summary = reconcile(cache, full=args.full or None)
            review = sum(n for status, n in summary.decide.by_status.items()
                         if DecisionStatus(status).needs_attention)
            if args.json:
                print(json.dumps({"reconcile": summary.as_dict(), "needs_review": review}, indent=2))
            else:
                print_summary(cache, summary, examples=args.examples)
                print(f"\n{review:,} pairs need attention; open the window (concord) to review them.")
    if pull_code == EXIT_FAILED:
        return EXIT_FAILED
    return EXIT_REVIEW if review or pull_code else EXIT_OK


def cmd_runs(args) -> int:
    """List runs with their counts and the API calls they spent."""
    from core.workspace import Workspace, WorkspaceError

    if args.workspace:
        try:
            workspace = Workspace(args.workspace)
            workspace.load_profile()
        except WorkspaceError as exc:
            raise UsageError(str(exc)) from None
        path = workspace.cache_path
    else:
        path = Path(args.cache)
    with Cache(path, create=False) as cache:
        rows = cache.conn.execute(
            "SELECT run_id, kind, started_at, finished_at, status, summary, api_calls "
            "FROM runs ORDER BY run_id DESC LIMIT ?", (args.limit,)).fetchall()
    if args.json:
        print(json.dumps([{"run_id": r[0], "kind": r[1], "started_at": r[2], "finished_at": r[3],
                           "status": r[4], "summary": json.loads(r[5] or "{}"),
                           "api_calls": json.loads(r[6] or "{}")} for r in rows], indent=2))
        return EXIT_OK
    for run_id, kind, started, finished, status, _summary, calls in rows:
        spent = ", ".join(f"{k} {v}" for k, v in json.loads(calls or "{}").items()) or "-"
        print(f"{run_id:>5}  {kind:<10} {status:<12} {started}  API calls: {spent}")
    if not rows:
        print("No runs yet.")
    return EXIT_OK


# -- cache ------------------------------------------------------------------------------------

def cmd_cache_quarantine(args) -> int:
    target = quarantine(args.path)
    print(f"Moved {args.path} to {target}. Pull again to rebuild the cache.")
    return EXIT_OK


def cmd_cache_check(args) -> int:
    with Cache(args.path, create=False) as cache:
        problems = cache.check_integrity()
    if problems:
        print(f"{args.path} is damaged: " + "; ".join(problems[:5]), file=sys.stderr)
        return EXIT_FAILED
    print(f"{args.path} is sound (schema version {Cache(args.path, create=False).version()}).")
    return EXIT_OK


# -- parser -------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="concord",
        description="See, predict and reconcile the emails Apollo and Salesforce overwrite.")
    parser.add_argument("--version", action="version", version=f"concord {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("decide", help="JSON Lines in, decisions out (no cache, no window)")
    p.add_argument("--input", help="read this file instead of standard input")
    p.set_defaults(func=cmd_decide)

    p = sub.add_parser("demo", help="a fresh sandbox with generated data")
    p.add_argument("--text", action="store_true",
                   help="print a summary instead of opening the window")
    p.add_argument("--records", type=int, default=2000, help="records per side (default 2000)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--examples", type=int, default=12, help="example pairs to print")
    p.set_defaults(func=cmd_demo_text)

    sandbox = sub.add_parser("sandbox", help="the local emulators of both APIs")
    sandbox_sub = sandbox.add_subparsers(dest="sandbox_command", metavar="COMMAND")
    p = sandbox_sub.add_parser("serve", help="run both emulators until interrupted")
    p.add_argument("--records", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--info-file", required=True, help="where to write URLs and credentials (JSON)")
    p.add_argument("--apollo-limits",
                   help="Apollo limits per route as MINUTE/HOUR/DAY (e.g. 200/400/2000), or 'none'")
    p.set_defaults(func=cmd_sandbox_serve)

    from core.cli import pull as cli_pull
    cli_pull.add_parser(sub)

    p = sub.add_parser("reconcile", help="pull, match and decide; print what needs review")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--workspace", metavar="NAME", help="a connected workspace")
    target.add_argument("--sandbox-info", metavar="PATH",
                        help="the info file of a running sandbox (concord sandbox serve)")
    p.add_argument("--cache", metavar="PATH", help="with --sandbox-info: the cache file")
    p.add_argument("--full", action="store_true", help="pull and decide everything again")
    p.add_argument("--no-pull", action="store_true", help="decide on what the cache holds")
    p.add_argument("--examples", type=int, default=6, help="example pairs to print")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=cmd_reconcile)

    p = sub.add_parser("runs", help="list runs with their counts and API calls")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--workspace", metavar="NAME")
    target.add_argument("--cache", metavar="PATH")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_runs)

    cache = sub.add_parser("cache", help="check or set aside a cache file")
    cache_sub = cache.add_subparsers(dest="cache_command", metavar="COMMAND")
    p = cache_sub.add_parser("check", help="check a cache file's integrity")
    p.add_argument("--path", required=True)
    p.set_defaults(func=cmd_cache_check)
    p = cache_sub.add_parser("quarantine", help="move a damaged cache aside (keeps it)")
    p.add_argument("--path", required=True)
    p.set_defaults(func=cmd_cache_quarantine)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return func(args)
    except UsageError as exc:
        print(f"concord: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CacheError as exc:
        print(f"concord: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_FAILED
    except BrokenPipeError:  # the reader went away (``concord ... | head``): not an error
        sys.stderr.close()
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
