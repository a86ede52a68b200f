"""``concord cache check`` / ``concord cache quarantine``: look at a cache file, or move a
damaged one aside (kept, since it holds the user's choices and run history)."""

from __future__ import annotations

import argparse

from core.cli.errors import EXIT_OK, FileProblem
from core.cli.target import open_for_reading
from core.store.cache import quarantine


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``cache check`` and ``cache quarantine`` to ``concord``'s subparsers."""
    cache = subparsers.add_parser("cache", help="check or set aside a cache file",
                                  description="Check a cache file, or move a damaged one aside.")
    cache.set_defaults(func=None, help_parser=cache)
    sub = cache.add_subparsers(dest="cache_command", metavar="COMMAND")
    p = sub.add_parser("check", help="check a cache file's integrity (changes nothing)",
                       description="Check a cache file's integrity. The file is only read: "
                                   "never created, upgraded or changed.")
    p.add_argument("--path", required=True, help="the cache file")
    p.set_defaults(func=run_check)
    p = sub.add_parser("quarantine", help="move a damaged cache aside (keeps it)",
                       description="Rename a damaged cache (with its -wal and -shm files) to "
                                   "<name>.damaged-<time>, so the next pull builds a new one. "
                                   "A sound cache is left alone unless --force.")
    p.add_argument("--path", required=True, help="the cache file")
    p.add_argument("--force", action="store_true", help="move the file even if it is sound")
    p.set_defaults(func=run_quarantine)
    return cache


def run_check(args) -> int:
    """0 sound; 3 damaged or not a cache (the message says what to do)."""
    with open_for_reading(args.path) as cache:
        problems, version = cache.check_integrity(), cache.version()
    if problems:
        raise FileProblem(f"{args.path} is damaged: {'; '.join(problems[:5])}. Nothing was "
                          f"changed; run `concord cache quarantine --path \"{args.path}\"` and "
                          f"pull again.")
    print(f"{args.path} is sound (schema version {version}).")
    return EXIT_OK


def run_quarantine(args) -> int:
    """Move the cache aside; say where it went and what to do next."""
    target = quarantine(args.path, force=args.force)
    print(f"Moved {args.path} to {target}. Keep that file (it holds your choices and run "
          f"history); pull again to build a new cache.")
    return EXIT_OK
