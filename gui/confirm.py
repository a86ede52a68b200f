"""The confirmation before anything is written: how many writes go to which system, and why.

The counts come from :func:`core.sync.plan.plan`; :func:`breakdown` only groups its writes.
"""

from __future__ import annotations

from collections import Counter

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from core.sync.plan import WritePlan

SAMPLE = 200  # writes listed in the dialog


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
        self.setMinimumWidth(860)
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
            table = QTableWidget(min(len(plan.writes), SAMPLE), 5)
            table.setHorizontalHeaderLabels(["System", "Record", "Now", "Will be", "Why"])
            table.verticalHeader().setVisible(False)
            table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
            table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
            table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            for row, write in enumerate(plan.writes[:SAMPLE]):
                system = "Salesforce" if write.system == "salesforce" else "Apollo"
                for col, text in enumerate((system, f"{write.object} {write.record_id}",
                                            write.old_email or "(blank)", write.new_email,
                                            write.why)):
                    table.setItem(row, col, QTableWidgetItem(text))
            table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            table.horizontalHeader().setStretchLastSection(True)
            table.setMinimumHeight(180)
            layout.addWidget(table)
            if len(plan.writes) > SAMPLE:
                layout.addWidget(QLabel(f"… and {len(plan.writes) - SAMPLE:,} more."))
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
