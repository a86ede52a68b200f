"""The ``concord`` entry point: window commands open the window, everything else is core's CLI.

- ``concord`` (no command), or ``concord --workspace NAME``: the window on the last (or the
  named) workspace.
- ``concord demo [--records N] [--seed S] [--screenshot PATH]``: the window on a fresh
  sandbox; with ``--screenshot`` it saves a PNG of the window with a conflict selected and
  exits. ``concord demo --text`` prints the summary instead (core's CLI).

Keeping the launcher here (not in ``core``) keeps the engine free of any Qt or ``gui`` import;
Qt is imported only when a window command runs.
"""

from __future__ import annotations

import argparse
import sys

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


def _demo_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="concord demo",
                                     description="The window on a fresh sandbox with generated data.")
    parser.add_argument("--records", type=int, default=2000, help="pairs to generate (default 2000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--screenshot", metavar="PATH",
                        help="save a PNG of the window once the data is shown, then exit")
    return parser


def _window_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="concord", description="Open the window.")
    parser.add_argument("--workspace", help="the workspace to open (default: the last one)")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] == "--workspace" or argv[0].startswith("--workspace="):
        args = _window_parser().parse_args(argv)
        if _no_display():
            return 3
        from gui.app import run_window

        return run_window(args.workspace)
    if argv[0] == "demo" and "--text" not in argv:
        args = _demo_parser().parse_args(argv[1:])
        if args.records < 1:
            print("concord demo: --records must be at least 1", file=sys.stderr)
            return 2
        from gui.app import offscreen_if_headless

        offscreen_if_headless(bool(args.screenshot))
        if not args.screenshot and _no_display():
            return 3
        from gui.app import run_demo

        return run_demo(args.records, args.seed, args.screenshot)
    from core import cli

    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
