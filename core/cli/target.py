"""What a command works on: ``--workspace NAME``, ``--sandbox-info PATH`` or ``--cache PATH``,
and opening that cache for writing or for reading only."""

from __future__ import annotations

import argparse
import socket
from pathlib import Path
from urllib.parse import urlsplit

from core.cli.errors import RemoteProblem, UsageError
from core.store.cache import Cache
from core.sync.connections import Connection
from core.workspace import Workspace


def add_target_options(parser: argparse.ArgumentParser, *, cache_alone: bool = False) -> None:
    """``--workspace`` or ``--sandbox-info`` (one required), and ``--cache``; with
    ``cache_alone`` the cache file alone is enough (work on what it holds)."""
    target = parser.add_mutually_exclusive_group(required=not cache_alone)
    target.add_argument("--workspace", metavar="NAME",
                        help="a connected workspace (made in the window's Connect dialog)")
    target.add_argument("--sandbox-info", metavar="PATH",
                        help="the info file of a running sandbox (concord sandbox serve)")
    parser.add_argument("--cache", metavar="PATH",
                        help="the cache file (default: the workspace's, or <info>.cache.sqlite "
                             "next to the sandbox info file)")


def connection_from_args(args) -> Connection:
    """The connection the options name (raises core's typed errors when they name nothing)."""
    if args.workspace:
        if args.cache:
            raise UsageError("--cache goes with --sandbox-info or alone; a workspace keeps its "
                             "own cache.")
        return Connection.for_workspace(args.workspace)
    if args.sandbox_info:
        return Connection.for_sandbox(args.sandbox_info, args.cache)
    if getattr(args, "cache", None):
        return Connection(cache_path=Path(args.cache))
    raise UsageError("name what to work on: --workspace NAME, --sandbox-info PATH or "
                     "--cache PATH.")


def cache_path_from_args(args) -> Path:
    """The cache file ``--workspace NAME`` or ``--cache PATH`` names (for reading)."""
    if args.workspace:
        workspace = Workspace(args.workspace)
        workspace.load_profile()
        return workspace.cache_path
    return Path(args.cache)


def open_for_reading(path: Path) -> Cache:
    """An existing cache, opened without creating, migrating or changing anything."""
    return Cache(path, create=False, read_only=True)


def check_sandbox_running(args, connection: Connection) -> None:
    """A sandbox whose emulators no longer answer is said to be stopped, with how to start
    it (rather than as two connection errors)."""
    info = connection.sandbox_info
    if info is None:
        return
    for url in (info["salesforce"].get("instance_url"), info["apollo"].get("base_url")):
        parts = urlsplit(url or "")
        if not parts.hostname:
            continue
        try:
            socket.create_connection((parts.hostname, parts.port or 443), timeout=2).close()
        except OSError:
            raise RemoteProblem(
                f"The sandbox of {args.sandbox_info} is not running (nothing answers at "
                f"{parts.netloc}). Start it with `concord sandbox serve --info-file "
                f"{args.sandbox_info}`, or work on the cache alone with --cache PATH "
                f"--no-pull.") from None
