"""The confirmation before anything is written: how many writes go to which system, and why,
and every write (person, both addresses now, the new one), read by the view as it scrolls.

The counts come from :func:`core.sync.plan.plan`; :func:`breakdown` only groups its writes.
"""

from __future__ import annotations

from collections import Counter

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
)

from core.sync.plan import PlannedWrite, WritePlan

_SYSTEMS = {"salesforce": "Salesforce", "apollo": "Apollo"}
COLUMNS = (
    ("Person", lambda w: w.person or "(no name)"),
    ("Write to", lambda w: f"{_SYSTEMS[w.system]} {w.object} {w.record_id}"),
    ("Apollo holds", lambda w: w.apollo_email or "(blank)"),
    ("Salesforce holds", lambda w: w.sf_email or "(blank)"),
    ("Will be", lambda w: w.new_email),
    ("Why", lambda w: w.why),
)


class PlanModel(QAbstractTableModel):
    """The plan's writes as rows; the view asks only for the rows it shows."""

    def __init__(self, writes: list[PlannedWrite], parent=None):
        super().__init__(parent)
        self._writes = writes

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt's name)
        return 0 if parent.isValid() else len(self._writes)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section][0]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return COLUMNS[index.column()][1](self._writes[index.row()])
        return None


def breakdown(plan: WritePlan) -> list[str]:
    """Lines that break the plan down by system and object, by reason, and what is left out."""
    lines = []
    by_target = Counter((w.system, w.object) for w in plan.writes)
    for system, name in (("salesforce", "Salesforce"), ("apollo", "Apollo")):
        parts = [f"{n:,} {obj}{'s' if n != 1 else ''}" for (s, obj), n in sorted(by_target.items())
                 if s == system]
        total = plan.count(system)
        lines.append(f"To {name}: {total:,} write{'s' if total != 1 else ''}"
                     + (f" ({', '.join(parts)})" if parts else ""))
    why = Counter(w.why for w in plan.writes)
    if why:
        lines.append("Why: " + ", ".join(f"{n:,} {reason}" for reason, n in sorted(why.items())))
    if plan.not_written:
        lines.append("Not written: " + ", ".join(f"{n:,} {reason}" for reason, n
                                                 in sorted(plan.not_written.items())))
    return lines


class ConfirmWrites(QDialog):
    """Shows a plan; accepting means "write these" (the caller runs the write step)."""

    def __init__(self, plan: WritePlan, title: str, intro: str, parent=None):
        super().__init__(parent)
        self.plan = plan
        self.setObjectName("confirmWrites")
        self.setWindowTitle(title)
        self.resize(1000, 560)
        layout = QVBoxLayout(self)
        head = QLabel(f"<p>{intro}</p><p><b>{plan.summary()}</b></p>")
        head.setWordWrap(True)
        head.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(head)
        self.summary_label = head
        self.breakdown_label = QLabel("<br>".join(breakdown(plan)))
        self.breakdown_label.setTextFormat(Qt.TextFormat.RichText)
        self.breakdown_label.setWordWrap(True)
        layout.addWidget(self.breakdown_label)
        for link_id, why in plan.refused:
            refused = QLabel(f"<b>Not written:</b> pair {link_id}: {why}.")
            refused.setObjectName("refusedWrite")
            refused.setTextFormat(Qt.TextFormat.RichText)
            refused.setWordWrap(True)
            layout.addWidget(refused)
        if plan.writes:
            self.table = QTableView()
            self.table.setModel(PlanModel(plan.writes, self))
            self.table.verticalHeader().setVisible(False)
            # Fixed row heights: the view never measures the rows it does not show.
            self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
            self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
            self.table.setWordWrap(False)
            header = self.table.horizontalHeader()
            char = self.fontMetrics().averageCharWidth()
            for column, chars in enumerate((20, 28, 28, 28, 28)):
                header.resizeSection(column, chars * char)
            header.setStretchLastSection(True)
            self.table.setMinimumHeight(200)
            layout.addWidget(self.table, 1)
        buttons = QDialogButtonBox()
        n = len(plan.writes)
        if n:
            self.write_button = buttons.addButton(f"Write {n:,} change{'s' if n != 1 else ''}",
                                                  QDialogButtonBox.ButtonRole.AcceptRole)
            self.write_button.setObjectName("primary")
            buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        else:
            self.write_button = None
            layout.addWidget(QLabel("Nothing to write."))
            buttons.addButton(QDialogButtonBox.StandardButton.Close)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
