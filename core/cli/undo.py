"""``concord undo RUN_ID``: reverse a write-back run's writes on both systems, checked like
any write (records changed since are reported, not reverted). Exit codes as ``apply``."""

from __future__ import annotations

import sys

from core.cli import pull as cli_pull
from core.cli.apply import (EXIT_FAILED, EXIT_USAGE, add_targets, exit_code, need_both,
                            open_target, print_result)
from core.sources.errors import SourceError
from core.sync.apply import resume
from core.sync.undo import UndoRefused, undo


def add_parser(subparsers) -> None:
    """Add ``undo`` to ``concord``'s subparsers."""
    p = subparsers.add_parser("undo", help="reverse a run's writes (checked like any write)")
    add_targets(p)
    p.add_argument("run_id", type=int, metavar="RUN_ID")
    p.set_defaults(func=run_undo)


def run_undo(args) -> int:
    with cli_pull.redacted_logging():
        sources, cache, code = open_target(args)
        if code is not None:
            return code
        with cache:
            if not need_both(sources, "undo"):
                return EXIT_FAILED
            try:
                resume(cache, sources.salesforce, sources.apollo,
                       out_dir=cache.path.parent / "runs")
                summary = undo(cache, sources.salesforce, sources.apollo, args.run_id,
                               out_dir=cache.path.parent / "runs")
            except UndoRefused as exc:
                print(f"concord undo: {exc.text}", file=sys.stderr)
                return EXIT_USAGE
            except SourceError as exc:
                print(f"concord undo: {exc} Run undo again to finish.", file=sys.stderr)
                return EXIT_FAILED
    print_result(args, summary)
    return exit_code(summary)
