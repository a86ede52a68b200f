"""``concord sandbox serve``: run both API emulators until interrupted."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from core.cli.demo import add_generated_data_options, check_records
from core.cli.errors import UsageError
from core.defaults import SANDBOX_RECORDS, SANDBOX_SEED


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``sandbox`` (and ``sandbox serve``) to ``concord``'s subparsers."""
    sandbox = subparsers.add_parser("sandbox", help="the local emulators of both APIs",
                                    description="The local emulators of the Salesforce and "
                                                "Apollo APIs, with generated data.")
    sub = sandbox.add_subparsers(dest="sandbox_command", metavar="COMMAND")
    sandbox.set_defaults(func=None, help_parser=sandbox)
    p = sub.add_parser("serve", help="run both emulators until interrupted",
                       description="Run both emulators on 127.0.0.1 until Ctrl-C; write their "
                                   "addresses, CA certificate and credentials to --info-file "
                                   "(removed again when they stop).")
    add_generated_data_options(p, SANDBOX_RECORDS, SANDBOX_SEED)
    p.add_argument("--info-file", required=True, metavar="PATH",
                   help="where to write URLs and credentials (JSON, readable by you only)")
    p.add_argument("--apollo-limits", metavar="M/H/D",
                   help="Apollo limits per route as MINUTE/HOUR/DAY (e.g. 200/400/2000), or 'none'")
    p.set_defaults(func=run)
    return sandbox


def run(args) -> int:
    """Handle ``concord sandbox serve``."""
    from core.sandbox import standalone as serve

    check_records(args)
    try:
        limits = serve.parse_limits(args.apollo_limits)
    except ValueError as exc:
        raise UsageError(f"--apollo-limits: {exc}") from None
    info = Path(args.info_file)
    if info.is_dir():
        raise UsageError(f"--info-file {info} is a folder; name the file to write, e.g. "
                         f"{info / 'sandbox.json'}.")
    if info.parent.exists() and not info.parent.is_dir():
        raise UsageError(f"--info-file {info}: {info.parent} is a file, not a folder.")
    if info.exists() or info.is_symlink():
        _only_a_stale_info_file(info)
    # The emulators' TLS key lives only as long as they run, whatever ends them.
    with tempfile.TemporaryDirectory(prefix="concord-tls-") as tls_dir:
        return serve.main(args.records, args.seed, info, tls_dir=tls_dir, apollo_limits=limits)


def _only_a_stale_info_file(info: Path) -> None:
    """The info file is replaced, then removed when the sandbox stops: never do that to a
    file that is not a sandbox's (one left by a sandbox that was killed is fine)."""
    from core.sync.connections import SandboxInfoError, read_sandbox_info

    try:
        if info.is_symlink():
            raise SandboxInfoError("a link")
        read_sandbox_info(info)
    except SandboxInfoError:
        raise UsageError(f"--info-file {info} already exists and is not a sandbox info file; "
                         f"name a new file (it is removed again when the sandbox stops).") from None
