"""The status bar's progress of the one long operation: its phase, a bar, and Cancel."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar, QToolButton

from gui.icons import icon


class JobProgress:
    """Shows a :class:`gui.tasks.Job`'s progress in ``status`` and cancels it on request."""

    def __init__(self, status: QStatusBar):
        self.job = None
        self.label = QLabel("")
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(220)
        self.bar.setTextVisible(False)
        self.cancel_button = QToolButton()
        self.cancel_button.setIcon(icon("cancel"))
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.cancel_button.clicked.connect(self.cancel)
        for widget in self._widgets():
            status.addPermanentWidget(widget)
            widget.setVisible(False)

    def _widgets(self):
        return (self.label, self.bar, self.cancel_button)

    def start(self, op) -> None:
        """Run ``op`` (a :class:`gui.tasks.CacheOp`), showing its job's progress."""
        self.job = op.job
        if op.job is not None:
            self.show(op.job.label, "starting", 0, 0)
        op.run_in_background()

    def show(self, label: str, phase: str, done: int, total: int) -> None:
        self.label.setText(f"{label}: {phase}" + (f" {done:,} / {total:,}" if total else ""))
        self.bar.setRange(0, total if total else 0)
        if total:
            self.bar.setValue(done)
        for widget in self._widgets():
            widget.setVisible(True)
        self.cancel_button.setEnabled(True)

    def hide(self) -> None:
        for widget in self._widgets():
            widget.setVisible(False)
        self.job = None

    def cancel(self) -> None:
        """Cancel the running operation; what it wrote so far stays consistent."""
        if self.job is not None:
            self.job.cancel.set()
            self.label.setText(f"{self.job.label}: cancelling…")
            self.cancel_button.setEnabled(False)
