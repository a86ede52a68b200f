"""The Qt binding must count its references to None and True (PySide6 6.12.0 on CPython 3.11
does not, and the process aborts after enough calls): pyproject pins a version that does."""

import subprocess
import sys

SCRIPT = """
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication([])
widget = QWidget()
for _ in range(300_000):
    widget.setMinimumWidth(5)          # a method returning nothing
class Emitter(QObject):
    fired = Signal()
emitter = Emitter()
for _ in range(300_000):
    emitter.fired.emit()               # emit() returns True
print("survived")
"""


def test_a_long_session_of_qt_calls_does_not_abort_the_process():
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=120, env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr[-400:]
    assert "survived" in proc.stdout
