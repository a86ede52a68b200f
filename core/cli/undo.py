"""``concord undo RUN_ID``: reverse a write-back run's writes on both systems, checked like
any write (records changed since are reported, not reverted). Exit codes as ``apply``."""

from __future__ import annotations

from core.cli.apply import add_targets, both_sources, exit_code, print_result
from core.cli.errors import RemoteProblem, UsageError
from core.cli.pull import redacted_logging
from core.cli.target import connection_from_args
from core.sources.errors import SourceError
from core.sync.undo import UndoRefused, undo


def add_parser(subparsers) -> None:
    """Add ``undo`` to ``concord``'s subparsers."""
    p = subparsers.add_parser("undo", help="reverse a run's writes (checked like any write)",
                              description="Reverse a write-back run: each record gets back the "
                                          "value the run replaced, unless it changed since.")
    add_targets(p)
    p.add_argument("run_id", type=int, metavar="RUN_ID",
                   help="the write-back run to reverse (concord runs lists them)")
    p.set_defaults(func=run_undo)


def run_undo(args) -> int:
    """Handle ``concord undo``."""
    with redacted_logging():
        connection = connection_from_args(args)
        sources = both_sources(args, connection, "undo")
        with connection.open_cache() as cache:
            try:
                summary = undo(cache, sources.salesforce, sources.apollo, args.run_id,
                               out_dir=cache.path.parent / "runs")
            except UndoRefused as exc:
                raise UsageError(exc.text) from None
            except SourceError as exc:
                raise RemoteProblem(f"{exc} Run undo again to finish.") from None
    print_result(args, summary)
    return exit_code(summary)
