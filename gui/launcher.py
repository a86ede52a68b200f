"""The ``concord`` entry point: window commands open the window, everything else is core's CLI.

- ``concord`` (no command), or ``concord --workspace NAME``: the window on the last (or the
  named) workspace.
- ``concord demo [--records N] [--seed S] [--screenshot PATH]``: the window on a fresh
  sandbox; with ``--screenshot`` it saves a PNG of the window with a conflict selected and
  exits. ``concord demo --text`` prints the summary instead. The demo's options are core's
  (one parser, :mod:`core.cli.demo`); only opening the window happens here.

Keeping the launcher here (not in ``core``) keeps the engine free of any Qt or ``gui`` import;
Qt is imported only when a window command runs.
"""

from __future__ import annotations

import argparse
import sys

from core.cli.errors import EXIT_COULD_NOT_RUN

NO_DISPLAY = ("concord: there is no display to open the window on. Run it from a desktop "
              "session, or use `concord demo --text` (a summary in the terminal) or "
              "`concord demo --screenshot PATH` (a picture of the window).")


def _no_display() -> bool:
    """No display, or a display Qt cannot use: say so in plain words (Qt would abort)."""
    from gui.app import headless
    from gui.platform_check import problem

    if headless():
        print(NO_DISPLAY, file=sys.stderr)
        return True
    text = problem()
    if text:
        print(text, file=sys.stderr)
        return True
    return False


def _window_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="concord", description="Open the window.")
    parser.add_argument("--workspace", help="the workspace to open (default: the last one)")
    return parser


def open_demo_window(args) -> int:
    """``concord demo`` without ``--text``: the window on a fresh sandbox (options checked by
    core's parser)."""
    from gui.app import offscreen_if_headless

    offscreen_if_headless(bool(args.screenshot))
    if not args.screenshot and _no_display():
        return EXIT_COULD_NOT_RUN
    from gui.app import run_demo

    return run_demo(args.records, args.seed, args.screenshot)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] == "--workspace" or argv[0].startswith("--workspace="):
        args = _window_parser().parse_args(argv)
        if _no_display():
            return EXIT_COULD_NOT_RUN
        from gui.app import run_window

        return run_window(args.workspace)
    from core import cli

    return cli.main(argv, demo_window=open_demo_window)


if __name__ == "__main__":
    sys.exit(main())
