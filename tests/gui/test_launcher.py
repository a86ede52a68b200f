"""``concord``: window commands open the window; the rest is core's CLI; core has no Qt."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from gui import launcher

ROOT = Path(__file__).resolve().parents[2]


def test_core_never_imports_qt_or_gui():
    pattern = re.compile(r"^\s*(from|import)\s+(PySide6|PyQt\d|shiboken6|gui)\b", re.M)
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "core").rglob("*.py")
                 if pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_demo_text_stays_a_printed_summary(capsys):
    assert launcher.main(["demo", "--text", "--records", "60", "--examples", "0"]) == 0
    assert "What Apollo's sync will do" in capsys.readouterr().out


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
