"""The ``concord`` entry point: window commands open the window, everything else is core's CLI.

Keeping the launcher here (not in ``core``) keeps the engine free of any Qt or ``gui`` import.
"""

from __future__ import annotations

import sys

WINDOW_COMMANDS = ()  # filled in when the window lands: (no command) and "demo"


def main(argv: list[str] | None = None) -> int:
    from core import cli

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "demo" and "--text" not in argv and "demo" not in WINDOW_COMMANDS:
        argv.append("--text")  # no window yet: print the summary
    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
