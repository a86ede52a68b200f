"""``concord report``: write a conflict report (or a run report) as CSV, XLSX or HTML.

    concord report --workspace NAME --out PATH [--format csv|xlsx|html] [--previous PATH]
                   [--status VIEW] [--rule RULE] [--strength STRENGTH] [--search TEXT] [--bom]
    concord report --sandbox-info PATH [--cache PATH] --out - ...   (CSV to standard output)
    concord report ... --runs [--run RUN_ID]                         (runs instead of pairs)

The pairs are those the window lists for the same filter. Reads the cache only; never talks
to Apollo or Salesforce. Exit codes: 0 written; 2 bad usage (unknown workspace, a previous
report Concord cannot read, a format that cannot go to standard output); 3 no cache.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.cli.errors import EXIT_OK, FileProblem, UsageError
from core.cli.target import add_target_options, connection_from_args
from core.report.export import FORMATS, SUFFIXES, export
from core.report.rows import ReportError, conflict_report
from core.report.runs import runs_report
from core.store.cache import Cache
from core.store.pairs import DIFFERING, RULES, STRENGTHS, VIEWS, PairQuery


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``report`` command to ``concord``'s subparsers."""
    parser = subparsers.add_parser(
        "report", help="write a conflict report (CSV, XLSX or HTML)",
        description="Write the pairs the window lists for a filter (or the runs) as CSV, an "
                    "Excel workbook or one self-contained HTML file.")
    add_target_options(parser, cache_alone=True)
    parser.add_argument("--out", required=True, metavar="PATH",
                        help="the file to write; - writes CSV to standard output")
    parser.add_argument("--format", choices=FORMATS,
                        help="csv, xlsx or html (default: from the --out suffix, else csv)")
    parser.add_argument("--previous", metavar="PATH",
                        help="an earlier report (any format): mark rows new, still open or "
                             "resolved since it")
    parser.add_argument("--status", choices=VIEWS, default=DIFFERING,
                        help=f"which pairs, as the window's status filter (default {DIFFERING})")
    parser.add_argument("--rule", choices=RULES, help="only pairs with this rule")
    parser.add_argument("--strength", choices=STRENGTHS, help="only pairs of this strength")
    parser.add_argument("--outcome", choices=("pending", "missed", "none"),
                        help="only pairs where Apollo's sync will act (pending), missed its "
                             "chance (missed), or has nothing to do (none)")
    parser.add_argument("--search", default="", metavar="TEXT",
                        help="only pairs whose name, company or an email contains TEXT")
    parser.add_argument("--bom", action="store_true",
                        help="CSV: start with a byte-order mark (Excel then reads UTF-8)")
    parser.add_argument("--runs", action="store_true", help="report the runs, not the pairs")
    parser.add_argument("--run", type=int, metavar="RUN_ID", help="with --runs: only this run")
    parser.set_defaults(func=run)
    return parser


def _format(args) -> str:
    if args.format:
        return args.format
    suffix = Path(args.out).suffix.lower()
    return next((f for f, s in SUFFIXES.items() if s == suffix), "csv")


def _progress(phase: str, done: int, total: int) -> None:
    """Rows written so far, on one line of a terminal's standard error."""
    sys.stderr.write(f"\rWriting {phase}: {done:,} of {total:,}\x1b[K" + ("\n" if done >= total else ""))
    sys.stderr.flush()


def run(args) -> int:
    """Handle ``concord report``; returns the exit code (failures raise, reported by main)."""
    fmt = _format(args)
    if args.out == "-" and fmt != "csv":
        raise UsageError("only CSV can be written to standard output (--out -)")
    if args.runs and args.previous:
        raise UsageError("--previous compares conflict reports; it cannot be used with --runs")
    if args.run is not None and not args.runs:
        raise UsageError("--run needs --runs")
    connection = connection_from_args(args)
    # Not read-only: the list's queries keep their working sets in temporary tables.
    with Cache(connection.cache_path, create=False) as cache:
        try:
            if args.runs:
                report = runs_report(cache, args.run)
            else:
                query = PairQuery(view=args.status, rule=args.rule, strength=args.strength,
                                  outcome=args.outcome, text=args.search)
                report = conflict_report(cache, query, instance_url=connection.instance_url,
                                         progress=_progress if sys.stderr.isatty() else None)
            done = export(report, fmt, args.out, bom=args.bom, previous=args.previous)
        except (ReportError, LookupError) as exc:
            raise UsageError(str(exc)) from None
        except OSError as exc:
            raise FileProblem(f"cannot write {args.out}: {exc.strerror or exc}") from None
    print(done.describe(), file=sys.stderr if args.out == "-" else sys.stdout)
    return EXIT_OK
