"""Run history (undo explained, not offered).

Undo replays a run's writes backwards (DESIGN §5); it is not part of Concord yet, and no
run has written anything, so the dialog says so plainly instead of offering a button that
would do nothing.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from core.store import runs

UNDO_NOTE = ("Undo arrives with write-back. So far no run has written to Apollo or Salesforce "
             "(reconciliation only reads and decides), so there is nothing to undo.")


def load_runs(cache, limit: int = 500) -> list[dict]:
    """The latest runs, newest first (plain data; runs on the reader)."""
    return [{"run_id": run.run_id, "kind": run.kind, "started_at": run.started_at,
             "finished_at": run.finished_at, "status": run.status,
             "summary": describe_run(run.summary)} for run in runs.latest(cache, limit)]


def describe_run(summary: dict) -> str:
    """One line about a run's summary JSON."""
    if "error" in summary:
        return summary["error"]
    decide = summary.get("decide") or {}
    match = summary.get("match") or {}
    if decide or match:
        status = decide.get("by_status") or {}
        parts = [f"{decide.get('decided', 0):,} pairs decided"]
        if status:
            parts.append(", ".join(f"{n:,} {s.replace('_', ' ')}" for s, n in sorted(status.items())))
        if summary.get("seconds") is not None:
            parts.append(f"{summary['seconds']:.1f} s")
        return "; ".join(parts)
    return ""


class RunHistoryDialog(QDialog):
    """Lists runs; Undo is shown disabled with the reason."""

    def __init__(self, runs: list[dict], parent=None):
        super().__init__(parent)
        self.setObjectName("runHistory")
        self.setWindowTitle("Run history")
        self.resize(820, 420)
        layout = QVBoxLayout(self)
        self.table = QTableWidget(len(runs), 6)
        self.table.setHorizontalHeaderLabels(["Run", "Kind", "Started", "Finished", "Status",
                                              "Summary"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        for row, run in enumerate(runs):
            for col, key in enumerate(("run_id", "kind", "started_at", "finished_at", "status",
                                       "summary")):
                value = run.get(key)
                text = value[:19].replace("T", " ") if key.endswith("_at") and value else str(value or "")
                self.table.setItem(row, col, QTableWidgetItem(text))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        layout.addWidget(self.table)
        if not runs:
            layout.addWidget(QLabel("No runs yet."))
        note = QLabel(UNDO_NOTE)
        note.setWordWrap(True)
        layout.addWidget(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.undo = QPushButton("Undo run")
        self.undo.setEnabled(False)
        self.undo.setToolTip(UNDO_NOTE)
        buttons.addButton(self.undo, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
