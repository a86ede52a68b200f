"""``concord demo``: a fresh sandbox with generated data, in the window or as a summary.

The window itself is opened by ``concord`` (gui/launcher.py), which reads the same options
through this parser; here, ``--text`` prints the reconciliation in the terminal.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from core.cli.errors import EXIT_OK, UsageError
from core.defaults import DEMO_EXAMPLES, DEMO_RECORDS, DEMO_SEED


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``demo`` to ``concord``'s subparsers."""
    p = subparsers.add_parser(
        "demo", help="a fresh sandbox with generated data (the window, or --text)",
        description="Generate a sandbox workspace in which every situation of the rule table "
                    "occurs, and open the window on it (or print a summary with --text).")
    p.add_argument("--text", action="store_true",
                   help="print a summary in the terminal instead of opening the window")
    add_generated_data_options(p, DEMO_RECORDS, DEMO_SEED)
    p.add_argument("--examples", type=int, default=DEMO_EXAMPLES,
                   help=f"with --text: example pairs to print (default {DEMO_EXAMPLES})")
    p.add_argument("--screenshot", metavar="PATH",
                   help="save a PNG of the window once the data is shown, then exit")
    p.set_defaults(func=run)
    return p


def add_generated_data_options(parser: argparse.ArgumentParser, records: int, seed: int) -> None:
    """``--records`` and ``--seed`` of a generated sandbox (the demo's, ``sandbox serve``'s)."""
    parser.add_argument("--records", type=int, default=records,
                        help=f"pairs to generate (default {records:,})")
    parser.add_argument("--seed", type=int, default=seed,
                        help=f"the data's seed: the same seed gives the same data "
                             f"(default {seed})")


def check_records(args) -> None:
    """A generated sandbox needs at least one pair."""
    if args.records < 1:
        raise UsageError(f"--records must be at least 1, got {args.records}.")


def check(args) -> None:
    """The checks both the window and the summary make on the options."""
    check_records(args)
    if args.examples < 0:
        raise UsageError(f"--examples must be 0 or more, got {args.examples}.")
    if args.screenshot and Path(args.screenshot).suffix.lower() != ".png":
        raise UsageError(f"--screenshot saves a PNG picture; name a .png file, not "
                         f"{args.screenshot}.")
    if args.screenshot and args.text:
        raise UsageError("--screenshot is a picture of the window; leave out --text.")


def run(args) -> int:
    """``concord demo``: the window (through the launcher's ``demo_window``), or with
    ``--text`` generate, reconcile and print a summary."""
    from core.cli.summary import print_summary
    from core.sandbox.dataset import Dataset, write_cache
    from core.store.cache import Cache
    from core.sync.reconcile import reconcile

    check(args)
    if not args.text:
        if args.demo_window is None:
            raise UsageError("this command line has no window: add --text for a summary, or "
                             "run `concord demo` to open the window.")
        return args.demo_window(args)
    dataset = Dataset(args.records, seed=args.seed)
    with tempfile.TemporaryDirectory(prefix="concord-demo-") as tmp:
        with Cache(Path(tmp) / "cache.sqlite") as cache:
            write_cache(cache, dataset)
            summary = reconcile(cache, now=dataset.now)
            print_summary(cache, summary, dataset, examples=args.examples)
    return EXIT_OK
