"""Run history (undo explained, not offered) and report export (explained, not offered).

Undo replays a run's writes backwards (DESIGN §5) and reports come from ``core.report``
(§6); neither is part of Concord yet, and no run has written anything, so both dialogs say
so plainly instead of offering buttons that would do nothing.
"""

from __future__ import annotations

import json

from PySide6.QtWidgets import (
    QCheckBox, QDialog, QDialogButtonBox, QHeaderView, QLabel, QPushButton, QTableWidget,
    QTableWidgetItem, QVBoxLayout,
)

from gui import theme

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

UNDO_NOTE = ("Undo arrives with write-back. So far no run has written to Apollo or Salesforce "
             "(reconciliation only reads and decides), so there is nothing to undo.")
EXPORT_NOTE = ("Conflict reports (CSV, XLSX and HTML, with the differing part highlighted and a "
               "delta against the previous report) arrive with Concord's report module, which "
               "is not part of this version. Nothing can be exported yet.")


def load_runs(cache, limit: int = 500) -> list[dict]:
    """The latest runs, newest first (plain data; runs on the reader)."""
    rows = cache.conn.execute(
        "SELECT run_id, kind, started_at, finished_at, status, summary FROM runs "
        "ORDER BY run_id DESC LIMIT ?", (limit,)).fetchall()
    out = []
    for run_id, kind, started, finished, status, summary in rows:
        try:
            data = json.loads(summary or "{}")
        except ValueError:
            data = {}
        out.append({"run_id": run_id, "kind": kind, "started_at": started,
                    "finished_at": finished, "status": status, "summary": describe_run(data)})
    return out


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


class ExportDialog(QDialog):
    """The export choices, disabled, with the reason."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("exportDialog")
        self.setWindowTitle("Export report")
        layout = QVBoxLayout(self)
        note = QLabel(EXPORT_NOTE)
        note.setWordWrap(True)
        layout.addWidget(note)
        for text in ("CSV", "Excel workbook (XLSX)", "HTML report"):
            box = QCheckBox(text)
            box.setEnabled(False)
            layout.addWidget(box)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.export_button = QPushButton("Export…")
        self.export_button.setEnabled(False)
        self.export_button.setToolTip(EXPORT_NOTE)
        buttons.addButton(self.export_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
