"""Before Qt aborts on a desktop that lacks a library of its X11 platform, Concord says which
package to install, in one command."""

from __future__ import annotations

import pytest

from gui import launcher, platform_check

DESKTOP = {"DISPLAY": ":0"}
LACKS_CURSOR = lambda soname: soname != "libxcb-cursor.so.0"  # noqa: E731
HAS_ALL = lambda soname: True  # noqa: E731

SITUATIONS = [
    ("an X11 desktop without libxcb-cursor0", DESKTOP, "linux", LACKS_CURSOR,
     "sudo apt-get install libxcb-cursor0\n"),
    ("an X11 desktop lacking two", DESKTOP, "linux",
     lambda s: s not in ("libxcb-cursor.so.0", "libxcb-shape.so.0"),
     "sudo apt-get install libxcb-cursor0 libxcb-shape0\n"),
    ("an X11 desktop with everything", DESKTOP, "linux", HAS_ALL, None),
    ("a Wayland desktop (Qt does not use xcb)", {"DISPLAY": ":0", "WAYLAND_DISPLAY": "w"}, "linux",
     LACKS_CURSOR, None),
    ("offscreen, for screenshots and tests", {"QT_QPA_PLATFORM": "offscreen"}, "linux",
     LACKS_CURSOR, None),
    ("xcb chosen explicitly", {"QT_QPA_PLATFORM": "xcb"}, "linux", LACKS_CURSOR,
     "sudo apt-get install libxcb-cursor0\n"),
    ("macOS", {}, "darwin", LACKS_CURSOR, None),
]


@pytest.mark.parametrize("situation, environ, platform, loads, command", SITUATIONS,
                         ids=[s[0] for s in SITUATIONS])
def test_the_one_install_command(situation, environ, platform, loads, command):
    text = platform_check.problem(environ, platform, loads)
    if command is None:
        assert text is None
    else:
        assert command in text and "the window cannot open" in text


def test_concord_says_it_instead_of_starting_qt(monkeypatch, capsys):
    monkeypatch.setenv("DISPLAY", ":0")
    for name in ("WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setattr(platform_check, "_loads", LACKS_CURSOR)
    assert launcher.main([]) == 3
    assert launcher.main(["demo"]) == 3
    assert "sudo apt-get install libxcb-cursor0" in capsys.readouterr().err
