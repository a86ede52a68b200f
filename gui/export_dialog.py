"""The Export report dialog: a format, where to write, and optionally an earlier report to
compare with. It only asks; the main window runs the export in the background."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
)

from core.report.export import SUFFIXES

FORMAT_NAMES = {"csv": "CSV (opens in Excel and Google Sheets)", "xlsx": "Excel workbook (XLSX)",
                "html": "HTML report (one file, opens in any browser, prints well)"}
FILTERS = {"csv": "CSV (*.csv)", "xlsx": "Excel workbook (*.xlsx)", "html": "HTML (*.html)"}
REPORT_FILES = "Reports (*.csv *.xlsx *.html)"


class ExportDialog(QDialog):
    """Asks how to export the list's current pairs; emits ``export_requested(format, path,
    bom, previous)`` with ``previous`` empty when there is nothing to compare with."""

    export_requested = Signal(str, str, bool, str)

    def __init__(self, filter_text: str, rows: int | None, parent=None):
        super().__init__(parent)
        self.setObjectName("exportDialog")
        self.setWindowTitle("Export report")
        layout = QVBoxLayout(self)
        count = f"{rows:,} pairs" if rows is not None else "the pairs"
        self.intro = intro = QLabel(f"Exports {count} the list shows now ({filter_text}), with both emails, "
                       f"the prediction, the recommendation and your choices. Cells a "
                       f"spreadsheet would run as a formula are written as text.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.formats = QButtonGroup(self)
        self.buttons: dict[str, QRadioButton] = {}
        for fmt, text in FORMAT_NAMES.items():
            button = QRadioButton(text)
            self.formats.addButton(button)
            self.buttons[fmt] = button
            layout.addWidget(button)
        self.buttons["xlsx"].setChecked(True)
        self.bom = QCheckBox("CSV for Excel (start with a byte-order mark)")
        self.bom.setChecked(True)
        layout.addWidget(self.bom)
        self.formats.buttonToggled.connect(lambda *_: self.bom.setEnabled(self.format == "csv"))
        self.bom.setEnabled(False)
        layout.addWidget(QLabel("Compare with an earlier report (optional): rows are marked "
                                "new, still open or resolved."))
        row = QHBoxLayout()
        self.previous = QLineEdit()
        self.previous.setPlaceholderText("No earlier report")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._choose_previous)
        row.addWidget(self.previous)
        row.addWidget(browse)
        layout.addLayout(row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = QPushButton("Export…")
        self.export_button.setDefault(True)
        self.export_button.setEnabled(rows != 0)
        buttons.addButton(self.export_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.clicked.connect(self._choose_target)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    @property
    def format(self) -> str:
        return next(fmt for fmt, button in self.buttons.items() if button.isChecked())

    def _choose_previous(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Earlier report", "", REPORT_FILES)
        if path:
            self.previous.setText(path)

    def _choose_target(self) -> None:
        fmt = self.format
        path, _ = QFileDialog.getSaveFileName(self, "Export report",
                                              f"concord-conflicts{SUFFIXES[fmt]}", FILTERS[fmt])
        if path:
            self.request(path)

    def request(self, path: str) -> None:
        """Ask for the export to ``path`` (the suffix is added when missing) and close."""
        fmt = self.format
        if Path(path).suffix.lower() != SUFFIXES[fmt]:
            path += SUFFIXES[fmt]
        self.export_requested.emit(fmt, path, fmt == "csv" and self.bom.isChecked(),
                                   self.previous.text().strip())
        self.accept()
