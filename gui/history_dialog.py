"""Run history, with Undo of a write-back run.

Undo replays a run's writes backwards with the same checks as any write (DESIGN §5).
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
from gui import theme

UNDO_NOTE = ("Undo puts back the values a write-back run replaced, on both systems. A record "
             "changed since the run is reported as a conflict and left as it is.")
# A run's outcome in words, and the colour that says whether it needs a look.
OUTCOMES = {
    "done": ("Done", None),
    "complete": ("Complete", None),
    "incomplete": ("Incomplete: some records could not be read", "warning"),
    "stopped": ("Stopped: an API budget ran out (continues next time)", "warning"),
    "cancelled": ("Cancelled by you (continues next time)", "muted"),
    "failed": ("Failed", "danger"),
    "interrupted": ("Interrupted: Concord stopped during it", "danger"),
    "skipped": ("Skipped", "muted"),
    "running": ("Running", None),
}



def load_runs(cache, limit: int = 500) -> list[dict]:
    """The latest runs, newest first (plain data; runs on the reader)."""
    return [{"run_id": run.run_id, "kind": run.kind, "started_at": run.started_at,
             "finished_at": run.finished_at, "status": run.status,
             "summary": describe_run(run.summary)} for run in runs.latest(cache, limit)]


def describe_run(summary: dict) -> str:
    """One line about a run's summary JSON."""
    if "error" in summary:
        return summary["error"]
    if "planned" in summary and "done" in summary:  # a write-back or undo run
        return (f"{summary['planned']:,} planned: {summary['done']:,} done, "
                f"{summary.get('conflict', 0):,} conflict, {summary.get('failed', 0):,} failed, "
                f"{summary.get('skipped', 0):,} skipped")
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
    """Lists runs; Undo is enabled on a finished write-back run and calls ``on_undo(run_id)``."""

    def __init__(self, runs: list[dict], parent=None, on_undo=None):
        super().__init__(parent)
        self.setObjectName("runHistory")
        self.setWindowTitle("Run history")
        self.resize(820, 420)
        layout = QVBoxLayout(self)
        self.table = QTableWidget(len(runs), 6)
        self.table.setHorizontalHeaderLabels(["Run", "Kind", "Started", "Finished", "Outcome",
                                              "Summary"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        for row, run in enumerate(runs):
            for col, key in enumerate(("run_id", "kind", "started_at", "finished_at", "status",
                                       "summary")):
                value = run.get(key)
                text = value[:19].replace("T", " ") if key.endswith("_at") and value else str(value or "")
                item = QTableWidgetItem(text)
                if key == "status":
                    words, colour = OUTCOMES.get(value or "", (text, None))
                    item.setText(words)
                    item.setToolTip(text)
                    if colour:
                        item.setForeground(theme.colour(colour))
                self.table.setItem(row, col, item)
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
        self.runs = runs
        self.on_undo = on_undo
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.undo.clicked.connect(self._undo)

    def _selected_run(self) -> dict | None:
        rows = {index.row() for index in self.table.selectionModel().selectedRows()}
        return self.runs[rows.pop()] if len(rows) == 1 else None

    def _selection_changed(self) -> None:
        run = self._selected_run()
        self.undo.setEnabled(bool(run and self.on_undo and run["kind"] == "apply"
                                  and run["status"] != "running"))

    def _undo(self) -> None:
        run = self._selected_run()
        if run and self.on_undo:
            self.accept()
            self.on_undo(run["run_id"])
