"""``concord reconcile``: pull both systems, then match and decide; say what needs review.

    concord reconcile --workspace NAME | --sandbox-info PATH [--cache PATH] [--full] [--json]
    concord reconcile --cache PATH --no-pull        (what the cache holds; no system needed)

A pull that fails stops here: nothing is reconciled and the message (or the JSON's
``pull``) says why. A pull cut short by an API limit still reconciles what arrived.
"""

from __future__ import annotations

import argparse
import json

from core.cli.apply import reconcile_apply
from core.cli.errors import (
    EXIT_COULD_NOT_RUN,
    EXIT_OK,
    EXIT_REVIEW,
    CutShort,
    RemoteProblem,
    UsageError,
)
from core.cli.pull import (
    cancel_on_interrupt,
    describe,
    exit_code,
    pull_with_progress,
    reachable_sources,
    redacted_logging,
)
from core.cli.summary import print_summary
from core.cli.target import add_target_options, connection_from_args
from core.cli.words import count
from core.defaults import RECONCILE_EXAMPLES
from core.model import DecisionStatus, PullStatus
from core.sync.connections import SYSTEM_NAMES
from core.sync.reconcile import Cancelled, reconcile


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``reconcile`` to ``concord``'s subparsers."""
    p = subparsers.add_parser(
        "reconcile", help="pull, match and decide; print what needs review",
        description="Pull both systems, link the records and decide every differing email; "
                    "print what Apollo's sync will do and what needs review. With --no-pull "
                    "and --cache alone it works on what the cache holds.")
    add_target_options(p, cache_alone=True)
    p.add_argument("--full", action="store_true", help="pull and decide everything again")
    p.add_argument("--no-pull", action="store_true", help="decide on what the cache holds")
    p.add_argument("--examples", type=int, default=RECONCILE_EXAMPLES,
                   help=f"example pairs to print (default {RECONCILE_EXAMPLES})")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--apply", choices=("strong", "medium"),
                   help="also write back the pairs this strong or stronger, and your own "
                        "choices (journaled and checked; see concord apply)")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    """Handle ``concord reconcile``; returns the exit code."""
    if not args.no_pull and not (args.workspace or args.sandbox_info):
        raise UsageError("--cache alone has nothing to pull from: add --no-pull to reconcile "
                         "what it holds, or name --workspace or --sandbox-info.")
    if args.examples < 0:
        raise UsageError(f"--examples must be 0 or more, got {args.examples}.")
    with redacted_logging():
        connection = connection_from_args(args)
        sources = None if args.no_pull else reachable_sources(args, connection)
        with connection.open_cache(create=not args.no_pull) as cache:
            pulled, pull_code = None, EXIT_OK
            if sources is not None:
                pulled = pull_with_progress(cache, sources.salesforce, sources.apollo,
                                            bar=not args.json, full=args.full)
                pull_code = exit_code(pulled, sources.problems)
                _stop_unless_pulled(pulled, sources.problems, pull_code)
                if not args.json:
                    print(describe(pulled, sources.problems) + "\n")
            try:
                with cancel_on_interrupt() as cancel:
                    summary = reconcile(cache, full=args.full or None, cancel=cancel)
            except (Cancelled, KeyboardInterrupt):
                raise CutShort("Reconciliation cancelled; the run is recorded as cancelled and "
                               "the next reconcile picks up what changed.") from None
            written = reconcile_apply(cache, sources, args)
            if written:  # after the write: what still needs attention
                review = sum(n for status, n in cache.conn.execute(
                    "SELECT status, count(*) FROM decisions GROUP BY status")
                    if DecisionStatus(status).needs_attention)
            else:
                review = sum(n for status, n in summary.decide.by_status.items()
                             if DecisionStatus(status).needs_attention)
            code = max(EXIT_REVIEW if review or pull_code else EXIT_OK,
                       written[1] if written else EXIT_OK)
            if args.json:
                print(json.dumps({"pull": pulled.as_dict() if pulled else None,
                                  "not_pulled": sources.problems if sources else [],
                                  "reconcile": summary.as_dict(), "needs_review": review,
                                  **({"apply": written[0]} if written else {}),
                                  "exit_code": code}, indent=2))
            else:
                print_summary(cache, summary, examples=args.examples)
                if written:
                    print("\n" + written[2])
                print(("\n" if args.examples else "") + f"{count(review, 'pair')} in the cache "
                      f"{'needs' if review == 1 else 'need'} attention"
                      + ("; open the window (concord) to review them." if review else "."))
    return code


def _stop_unless_pulled(pulled, problems: list[str], pull_code: int) -> None:
    """A failed or cancelled pull ends the command, saying why (the JSON carries the pull)."""
    details = {"pull": pulled.as_dict(), "not_pulled": problems}
    if pulled.status == PullStatus.CANCELLED:
        raise CutShort("Pull cancelled; nothing was reconciled. What was pulled is kept and "
                       "the next pull continues.", details=details)
    if pull_code == EXIT_COULD_NOT_RUN:
        why = [f"{SYSTEM_NAMES[r.system]}: {r.message}" for r in pulled.results
               if r.status == PullStatus.FAILED] + problems
        raise RemoteProblem("The pull failed, so nothing was reconciled: " + " ".join(why)
                            + " Fix that and run again, or reconcile what the cache holds with "
                              "--cache PATH --no-pull.", details=details)
