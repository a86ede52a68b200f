"""Run both emulators as one sandbox until interrupted (``concord sandbox serve``).

The servers live in this process; everything another process needs to use them (base URLs,
the CA certificate, credentials, the admin token and the admin routes such as Apollo's
``POST /__sandbox/pull_tick``) is written to an info file readable by the owner only.
The file is removed again when the sandbox stops.

    python -m core.sandbox.standalone --records 10000 --seed 1 --info-file /tmp/sandbox.json

:class:`~core.sandbox.child.ChildSandbox` runs it from another process
(``spawn(..., in_child=True)``).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

from core.defaults import SANDBOX_RECORDS, SANDBOX_SEED

from .apollo.api import UNLIMITED
from .running import RunningSandbox, spawn


def write_info(path: str | os.PathLike, info: dict) -> Path:
    """Write ``info`` as JSON to ``path`` with mode 0600, atomically (never half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(info, fh, indent=2)
            fh.write("\n")
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)  # it holds the sandbox's credentials
        raise
    return path


def parse_limits(text: str | None) -> dict | None:
    """``"200/400/2000"`` → per-minute/hour/day limits; ``"none"`` → unlimited; None → default."""
    if text is None:
        return None
    if text.strip().lower() in ("none", "unlimited", "off"):
        return dict(UNLIMITED)
    parts = text.split("/")
    if len(parts) != 3:
        raise ValueError(f"limits are MINUTE/HOUR/DAY (e.g. 200/400/2000) or 'none', not {text!r}")
    return {window: (int(part) if part.strip().lower() not in ("", "none") else None)
            for window, part in zip(("minute", "hour", "day"), parts)}


def main(records: int, seed: int, info_file: str | os.PathLike, *, tls_dir=None,
         settings=None, apollo_limits: dict | None = None, stop_event: threading.Event | None = None,
         announce=print) -> int:
    """Serve a sandbox of ``records`` pairs from ``seed`` until SIGINT/SIGTERM (or
    ``stop_event``); write the info file first. Returns the process exit code."""
    stop = stop_event or threading.Event()
    sandbox: RunningSandbox = spawn(records=records, seed=seed, tls_dir=tls_dir,
                                    settings=settings, apollo_limits=apollo_limits)
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, lambda *_: stop.set())
    path = Path(info_file)
    try:
        write_info(path, {**sandbox.info(), "pid": os.getpid()})
        announce(f"Sandbox ready ({records} records, seed {seed}): Apollo {sandbox.apollo_url}, "
                 f"Salesforce {sandbox.salesforce_url}; details in {path}. Stop with Ctrl-C.",
                 file=sys.stderr, flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        sandbox.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        try:
            path.unlink()
        except FileNotFoundError:
            pass
    return 0


def _arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m core.sandbox.standalone",
                                     description="Run the Apollo and Salesforce emulators.")
    parser.add_argument("--records", type=int, default=SANDBOX_RECORDS, help="pairs to generate")
    parser.add_argument("--seed", type=int, default=SANDBOX_SEED)
    parser.add_argument("--info-file", required=True, help="where to write the JSON details")
    parser.add_argument("--tls-dir", default=None, help="where to put the generated CA")
    parser.add_argument("--apollo-limits", default=None,
                        help="Apollo limits per route as MINUTE/HOUR/DAY, or 'none'")
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = _arguments()
    try:
        limits = parse_limits(args.apollo_limits)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(args.records, args.seed, args.info_file, tls_dir=args.tls_dir,
                  apollo_limits=limits))
