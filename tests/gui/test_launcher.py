"""``concord``: window commands open the window; the rest is core's CLI; core has no Qt."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gui import launcher

ROOT = Path(__file__).resolve().parents[2]


def test_demo_text_stays_a_printed_summary(capsys):
    assert launcher.main(["demo", "--text", "--records", "60", "--examples", "0"]) == 0
    assert "What Apollo's sync will do" in capsys.readouterr().out


def test_demo_help_is_cores_one_parser_with_text(capsys):
    assert launcher.main(["demo", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--text" in out and "--screenshot" in out and "--records" in out


def test_demo_options_are_checked_before_any_window(capsys):
    assert launcher.main(["demo", "--records", "0"]) == 2
    assert launcher.main(["demo", "--screenshot", "window.jpg"]) == 2
    err = capsys.readouterr().err
    assert "--records must be at least 1" in err and "PNG" in err


def test_other_commands_go_to_core(capsys):
    assert launcher.main(["cache", "check", "--path", "/nonexistent/cache.sqlite"]) == 3


def test_demo_screenshot_saves_a_picture_of_the_window(tmp_path):
    target = tmp_path / "window.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CONCORD_HOME=str(tmp_path / "home"))
    done = subprocess.run([sys.executable, "-m", "gui.launcher", "demo", "--records", "300",
                           "--screenshot", str(target)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert target.exists() and target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PySide6.QtGui import QImage

    image = QImage(str(target))
    assert image.width() >= 700 and image.height() >= 500  # the window, fitted to the screen


def test_without_a_display_the_window_commands_say_what_to_do(monkeypatch, capsys):
    from gui import launcher

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    assert launcher.main(["demo"]) == 3
    assert launcher.main([]) == 3
    message = capsys.readouterr().err
    assert "no display" in message and "concord demo --text" in message
