"""The ``concord`` command line: a thin layer over core (DESIGN §8).

One parser assembled here from one module per subcommand (each has ``add_parser`` and a
``run`` that returns an exit code or raises); :func:`main` turns every failure into one
message and one exit code through :mod:`core.cli.errors`. The window's commands are
dispatched by ``gui/launcher.py`` before this runs.
"""

from __future__ import annotations

import argparse
import sys

from core import __version__
from core.cli import apply, cache, decide, demo, pull, reconcile, report, runs, sandbox, undo
from core.cli.errors import EXIT_OK, EXIT_USAGE, CutShort, UsageError, as_command_error
from core.cli.errors import report as report_error

SUBCOMMANDS = (decide, demo, sandbox, pull, reconcile, apply, undo, report, runs, cache)


class Parser(argparse.ArgumentParser):
    """An argument parser whose mistakes are :class:`UsageError` (reported like any other)."""

    def error(self, message: str):
        raise UsageError(f"{message}. See `{self.prog} --help`.")


def build_parser() -> argparse.ArgumentParser:
    """The whole ``concord`` command line."""
    parser = Parser(prog="concord",
                    description="See, predict and reconcile the emails Apollo and Salesforce "
                                "overwrite.")
    parser.add_argument("--version", action="version", version=f"concord {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.add_parser(sub)
    parser.set_defaults(func=None, help_parser=parser)
    return parser


def _command(argv: list[str], args: argparse.Namespace | None) -> str:
    """The subcommand's words, for messages (``sandbox serve``)."""
    if args is not None:
        words = [getattr(args, n, None) for n in ("command", "sandbox_command", "cache_command")]
        return " ".join(w for w in words if w)
    names = {m.__name__.rsplit(".", 1)[1] for m in SUBCOMMANDS}
    return argv[0] if argv and argv[0] in names else ""


def main(argv: list[str] | None = None, *, demo_window=None) -> int:
    """Run ``concord`` with ``argv``; return the exit code (never raises for a user's mistake).

    ``demo_window(args) -> int`` opens the demo's window (given by the launcher, which may
    import Qt); without it ``concord demo`` needs ``--text``.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in argv
    args = None
    try:
        parser = build_parser()
        parser.set_defaults(demo_window=demo_window)
        args = parser.parse_args(argv)
        if args.func is None:  # a command group without its command (``concord cache``)
            args.help_parser.print_help(sys.stderr)
            return EXIT_USAGE
        return args.func(args)
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except KeyboardInterrupt:
        return report_error(CutShort("Stopped (Ctrl-C). What was saved before is kept; run the "
                               "command again to continue."),
                      command=_command(argv, args), as_json=as_json)
    except BrokenPipeError:  # the reader went away (``concord ... | head``): not an error
        sys.stderr.close()
        return EXIT_OK
    except Exception as exc:
        error = as_command_error(exc)
        if error is None:
            raise
        return report_error(error, command=_command(argv, args), as_json=as_json)


if __name__ == "__main__":
    sys.exit(main())
