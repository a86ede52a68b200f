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

from core.credentials import RedactingFilter
from core.model import PullStatus
from core.store.cache import Cache, CacheError
from core.sync.connections import SYSTEM_NAMES, Connection, SandboxInfoError
from core.sync.pull import pull_all
from core.sync.pull_state import PullProgress, PullSummary
from core.workspace import WorkspaceError

EXIT_OK, EXIT_ATTENTION, EXIT_USAGE, EXIT_FAILED = 0, 1, 2, 3
NAMES = SYSTEM_NAMES


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``pull`` command to ``concord``'s subparsers."""
    parser = subparsers.add_parser(
        "pull", help="pull both systems into the workspace cache",
        description="Pull Salesforce Leads/Contacts (with Email history) and Apollo contacts "
                    "into the cache; only changes unless --full.")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--workspace", metavar="NAME", help="a connected workspace")
    target.add_argument("--sandbox-info", metavar="PATH",
                        help="the info file of a running sandbox (concord sandbox serve)")
    parser.add_argument("--cache", metavar="PATH",
                        help="with --sandbox-info: the cache file (default: next to the info "
                             "file, named <info>.cache.sqlite)")
    parser.add_argument("--full", action="store_true",
                        help="read everything again, not only what changed")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(func=run)
    return parser


class UsageProblem(Exception):
    """Bad arguments or input (exit 2)."""


def connection_from_args(args) -> Connection:
    """The connection ``--workspace`` or ``--sandbox-info`` (with ``--cache``) names."""
    try:
        if args.workspace:
            return Connection.for_workspace(args.workspace)
        return Connection.for_sandbox(args.sandbox_info, args.cache)
    except (WorkspaceError, SandboxInfoError) as exc:
        raise UsageProblem(str(exc)) from None


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
        return EXIT_FAILED
    if all(s in (PullStatus.COMPLETE, PullStatus.SKIPPED) for s in statuses) and PullStatus.COMPLETE in statuses:
        return EXIT_OK
    return EXIT_ATTENTION


def describe(summary: PullSummary, problems: list[str]) -> str:
    """The summary as a few readable lines."""
    lines = [f"Pull {summary.run_id}: {summary.status}."]
    for result in summary.results:
        name = NAMES[result.system]
        if result.status == PullStatus.SKIPPED:
            continue
        lines.append(f"{name} ({result.mode or '-'}): {result.status}; {result.fetched:,} records "
                     f"received, {result.inserted:,} new, {result.updated:,} changed "
                     f"({result.email_changes:,} email changes)"
                     + (f", {result.history_rows:,} Email history rows" if result.history_rows else "")
                     + f"; {result.api_calls:,} API calls.")
        if result.message:
            lines.append(f"  {result.message}")
        for notice in result.notices:
            lines.append(f"  Notice: {notice}")
        for error in result.record_errors[:10]:
            lines.append(f"  Skipped {error['object']} {error['id']}: {error['error']}")
        if result.record_error_count > 10:
            lines.append(f"  ... and {result.record_error_count - 10} more skipped records.")
    lines.extend(f"Not pulled: {p}" for p in problems)
    return "\n".join(lines)


def run(args) -> int:
    """Handle ``concord pull``; returns the exit code."""
    with redacted_logging():
        try:
            connection = connection_from_args(args)
            sources = connection.sources()
            if sources.none:
                for problem in sources.problems:
                    print(f"concord pull: {problem}", file=sys.stderr)
                return EXIT_FAILED
            cache = connection.open_cache()
        except (UsageProblem, SandboxInfoError) as exc:
            print(f"concord pull: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except CacheError as exc:
            print(f"concord pull: {exc}", file=sys.stderr)
            return EXIT_FAILED
        with cache:
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
    cancel = threading.Event()
    progress = ProgressBar() if bar and sys.stderr.isatty() else None
    previous = _install_interrupt(cancel)
    try:
        return pull_all(cache, salesforce, apollo, progress=progress, cancel=cancel, full=full)
    finally:
        if progress is not None:
            progress.close()
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _install_interrupt(cancel: threading.Event):
    """First Ctrl-C: stop after the current batch; second: stop now."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def on_interrupt(signum, frame):
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()
        print("\nStopping after the current batch (Ctrl-C again to stop now)...",
              file=sys.stderr)

    return signal.signal(signal.SIGINT, on_interrupt)


def main(argv: list[str] | None = None) -> int:
    """Run ``pull`` on its own (``python -m core.cli.pull ...``)."""
    parser = argparse.ArgumentParser(prog="concord")
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["pull", *(argv if argv is not None else sys.argv[1:])])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
