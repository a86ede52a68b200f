"""``concord pull``: pull both systems into a workspace's cache (or a sandbox's).

    concord pull --workspace NAME [--full] [--json]
    concord pull --sandbox-info PATH [--cache PATH] [--full] [--json]

A progress bar goes to standard error on a terminal; the summary goes to standard output
(JSON with ``--json``). Ctrl-C once stops after the current batch (everything pulled is
kept and the next pull continues); twice stops at once.

Exit codes: 0 everything pulled; 1 needs attention (incomplete snapshot, an API limit
reached, cancelled); 2 bad usage (unknown workspace, unreadable info file); 3 could not
run (no secure keyring, sign-in refused, system unreachable, cache unusable).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import shutil
import signal
import sys
import threading

from core.cli.errors import EXIT_COULD_NOT_RUN, EXIT_OK, EXIT_REVIEW, CouldNotRun
from core.cli.target import add_target_options, check_sandbox_running, connection_from_args
from core.cli.words import count
from core.credentials import RedactingFilter
from core.model import PullStatus
from core.store.cache import Cache
from core.sync.connections import SYSTEM_NAMES, Sources
from core.sync.pull import pull_all
from core.sync.pull_state import PullProgress, PullSummary

NAMES = SYSTEM_NAMES


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``pull`` command to ``concord``'s subparsers."""
    parser = subparsers.add_parser(
        "pull", help="pull both systems into the workspace cache",
        description="Pull Salesforce Leads/Contacts (with Email history) and Apollo contacts "
                    "into the cache; only changes unless --full.")
    add_target_options(parser)
    parser.add_argument("--full", action="store_true",
                        help="read everything again, not only what changed")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(func=run)
    return parser


def reachable_sources(args, connection) -> Sources:
    """Both sources, or an error saying why neither can be used (a stopped sandbox, no
    credentials)."""
    check_sandbox_running(args, connection)
    sources = connection.sources()
    if sources.none:
        raise CouldNotRun(" ".join(sources.problems) or "Neither system can be reached.")
    return sources


class ProgressBar:
    """One line on standard error, redrawn in place."""

    def __init__(self, stream=sys.stderr):
        self.stream = stream
        self.width = max(20, min(40, shutil.get_terminal_size((80, 20)).columns - 60))
        self.shown = False

    def __call__(self, p: PullProgress) -> None:
        calls = ", ".join(f"{NAMES.get(k, k)} {v}" for k, v in p.api_calls.items())
        label = f"{NAMES.get(p.system, p.system)} {p.phase}"
        if p.message:
            text = f"{label}: {p.message}"
        elif p.total:
            share = min(1.0, p.done / p.total)
            filled = int(share * self.width)
            text = (f"{label:<28} [{'#' * filled}{'.' * (self.width - filled)}] "
                    f"{p.done:,}/{p.total:,}")
        else:
            text = f"{label:<28} {p.done:,} records"
        self.stream.write(f"\r{text}  (API calls: {calls})\x1b[K")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        """End the progress line."""
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


def exit_code(summary: PullSummary, problems: list[str]) -> int:
    """0 all complete; 3 when a system could not run; 1 for anything else to look at."""
    statuses = [r.status for r in summary.results]
    if PullStatus.FAILED in statuses or problems:
        return EXIT_COULD_NOT_RUN
    if all(s in (PullStatus.COMPLETE, PullStatus.SKIPPED) for s in statuses) \
            and PullStatus.COMPLETE in statuses:
        return EXIT_OK
    return EXIT_REVIEW


def describe(summary: PullSummary, problems: list[str]) -> str:
    """The summary as a few readable lines."""
    lines = [f"Pull (run {summary.run_id}): {summary.status}."]
    for result in summary.results:
        name = NAMES[result.system]
        if result.status == PullStatus.SKIPPED:
            continue
        # Apollo's search can return a contact on more than one page; a full pull knows how
        # many distinct contacts it reached.
        distinct = (result.details.get("apollo_full") or {}).get("reached") or (
            result.inserted + result.updated + result.unchanged)
        repeats = result.fetched - distinct
        lines.append(f"{name} ({result.mode or '-'}): {result.status}; "
                     f"{count(result.fetched, 'record')} received"
                     + (f" ({distinct:,} distinct: {repeats:,} came twice or more and "
                        f"count once)" if repeats > 0 else "")
                     + f", {result.inserted:,} new, {result.updated:,} changed "
                     f"({count(result.email_changes, 'email change')})"
                     + (f", {count(result.history_rows, 'Email history row')}"
                        if result.history_rows else "")
                     + f"; {count(result.api_calls, 'API call')}.")
        if result.message:
            lines.append(f"  {result.message}")
        for notice in result.notices:
            lines.append(f"  Notice: {notice}")
        for error in result.record_errors[:10]:
            lines.append(f"  Skipped {error['object']} {error['id']}: {error['error']}")
        if result.record_error_count > 10:
            lines.append(f"  ... and {count(result.record_error_count - 10, 'more skipped record')}.")
    lines.extend(f"Not pulled: {p}" for p in problems)
    return "\n".join(lines)


def run(args) -> int:
    """Handle ``concord pull``; returns the exit code."""
    with redacted_logging():
        connection = connection_from_args(args)
        sources = reachable_sources(args, connection)
        with connection.open_cache() as cache:
            summary = pull_with_progress(cache, sources.salesforce, sources.apollo,
                                         bar=not args.json, full=args.full)
        code = exit_code(summary, sources.problems)
        if args.json:
            print(json.dumps({**summary.as_dict(), "not_pulled": sources.problems,
                              "exit_code": code}, indent=2))
        else:
            print(describe(summary, sources.problems))
        return code


@contextlib.contextmanager
def redacted_logging():
    """Log warnings to standard error with secrets masked, for the length of a command."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    logging.getLogger().addHandler(handler)
    try:
        yield
    finally:
        logging.getLogger().removeHandler(handler)


def pull_with_progress(cache: Cache, salesforce, apollo, *, bar: bool, full: bool) -> PullSummary:
    """:func:`pull_all` with a progress bar on a terminal and Ctrl-C as a clean cancel."""
    progress = ProgressBar() if bar and sys.stderr.isatty() else None
    try:
        with cancel_on_interrupt() as cancel:
            return pull_all(cache, salesforce, apollo, progress=progress, cancel=cancel,
                            full=full)
    finally:
        if progress is not None:
            progress.close()


@contextlib.contextmanager
def cancel_on_interrupt():
    """An Event set by the first Ctrl-C (stop after the current batch); the second stops
    at once (KeyboardInterrupt)."""
    cancel = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield cancel
        return

    def on_interrupt(signum, frame):
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()
        print("\nStopping after the current batch (Ctrl-C again to stop now)...",
              file=sys.stderr)

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield cancel
    finally:
        signal.signal(signal.SIGINT, previous)
