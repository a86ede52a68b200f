"""Whether Qt can open a window on this desktop, checked before Qt tries (it aborts the process
with a message few people can act on when a library of its X11 platform is missing).

Run as ``python -m gui.platform_check`` (``make demo`` does): prints the one install command and
exits 1 when something is missing.
"""

from __future__ import annotations

import ctypes
import os
import sys

# The libraries Qt's X11 (xcb) platform loads, by the Debian/Ubuntu package that has each.
XCB_LIBRARIES = {
    "libxcb-cursor0": "libxcb-cursor.so.0",
    "libxcb-icccm4": "libxcb-icccm.so.4",
    "libxcb-image0": "libxcb-image.so.0",
    "libxcb-keysyms1": "libxcb-keysyms.so.1",
    "libxcb-render-util0": "libxcb-render-util.so.0",
    "libxcb-shape0": "libxcb-shape.so.0",
    "libxcb-xkb1": "libxcb-xkb.so.1",
    "libxkbcommon-x11-0": "libxkbcommon-x11.so.0",
}


def _loads(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def uses_xcb(environ, platform: str) -> bool:
    """Whether Qt will use its X11 platform here."""
    chosen = environ.get("QT_QPA_PLATFORM", "")
    if chosen:
        return chosen.split(":")[0] == "xcb"
    return platform.startswith("linux") and bool(environ.get("DISPLAY")) and not (
        environ.get("WAYLAND_DISPLAY"))


def missing_packages(loads) -> list[str]:
    """The packages whose library Qt's X11 platform cannot load."""
    return [package for package, soname in XCB_LIBRARIES.items() if not loads(soname)]


def problem(environ=None, platform: str | None = None, loads=None) -> str | None:
    """A plain sentence with the one install command, or None when the window can open
    (by default for this process's environment, platform and loader)."""
    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    loads = loads or _loads
    if not uses_xcb(environ, platform):
        return None
    missing = missing_packages(loads)
    if not missing:
        return None
    return (f"concord: the window cannot open: Qt needs {', '.join(missing)}, which this "
            f"desktop lacks. Install {'it' if len(missing) == 1 else 'them'} with:\n\n"
            f"    sudo apt-get install {' '.join(missing)}\n\n"
            f"(on Fedora: sudo dnf install xcb-util-cursor xcb-util-wm xcb-util-image "
            f"xcb-util-keysyms xcb-util-renderutil libxkbcommon-x11)")


def main() -> int:
    text = problem()
    if text:
        print(text, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
