"""The filters over the list: the text box (debounced) and the status, rule and strength
filters. It builds the query; the window runs it."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLineEdit, QWidget

from core.labels import rule_words
from core.store import pairs as pair_query
from gui.icons import icon

FILTER_DELAY_MS = 100  # short enough that a keystroke shows results within 200 ms


class FilterBar(QWidget):
    """Emits :attr:`changed` when the filters change (typing: after a short pause) and
    :attr:`to_list` when Esc or Down in the text box hands the keyboard back to the list."""

    changed = Signal()
    to_list = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        bar = QHBoxLayout(self)
        bar.setContentsMargins(10, 8, 10, 6)
        self.text = QLineEdit()
        self.text.setObjectName("filterBox")
        self.text.setPlaceholderText("Filter by name, company or email  (Ctrl+F)")
        self.text.setClearButtonEnabled(True)
        self.text.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.text.setAccessibleName("Filter")
        self.text.textChanged.connect(lambda _text: self._timer.start())
        self.text.installEventFilter(self)
        bar.addWidget(self.text, 3)
        self.view = QComboBox()
        self.view.setAccessibleName("Status filter")
        for view in pair_query.VIEWS:
            self.view.addItem(pair_query.VIEW_LABELS[view], view)
        self.rule = QComboBox()
        self.rule.setAccessibleName("Rule filter")
        self.rule.addItem("Any rule", None)
        for rule in pair_query.RULES:
            self.rule.addItem(rule_words(rule), rule)
            self.rule.setItemData(self.rule.count() - 1, f"Rule {rule}",
                                  Qt.ItemDataRole.ToolTipRole)
        self.strength = QComboBox()
        self.strength.setAccessibleName("Strength filter")
        self.strength.addItem("Any strength", None)
        for strength in pair_query.STRENGTHS:
            self.strength.addItem(strength.capitalize(), strength)
        for combo in (self.view, self.rule, self.strength):
            combo.currentIndexChanged.connect(self.changed)
            bar.addWidget(combo)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(FILTER_DELAY_MS)
        self._timer.timeout.connect(self.changed)

    def query(self, previous: pair_query.PairQuery) -> pair_query.PairQuery:
        """The filters as a query, keeping ``previous``'s sort."""
        self._timer.stop()
        return pair_query.PairQuery(
            view=self.view.currentData(), rule=self.rule.currentData(),
            strength=self.strength.currentData(), text=self.text.text(),
            sort=previous.sort, descending=previous.descending)

    def focus_text(self) -> None:
        self.text.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.text.selectAll()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        if (watched is self.text and event.type() == QEvent.Type.KeyPress
                and event.key() in (Qt.Key.Key_Escape, Qt.Key.Key_Down)):
            if event.key() == Qt.Key.Key_Escape and self.text.text():
                self.text.clear()
            self.to_list.emit()
            return True
        return super().eventFilter(watched, event)
