"""The list view: fixed row heights, one key a direction, no work proportional to the list."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from gui.pair_model import COLUMN_KEYS

# Single keys of the list (one key a direction), by the text they type.
KEYS = {
    ">": "apollo", ".": "apollo",
    "<": "salesforce", ",": "salesforce",
    "/": "skip",
    "a": "accept",
    "r": "revert",
    "e": "edit",
    "g": "go",
}
_WIDTHS = {"name": 170, "company": 170, "apollo_email": 250, "direction": 44, "sf_email": 250,
           "rule": 130, "strength": 80, "status": 80}


class PairTable(QTableView):
    """A ``QTableView`` for :class:`gui.pair_model.PairTableModel`; emits :attr:`command` for
    the list's single-key commands."""

    command = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("pairTable")
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerItem)
        self.setTabKeyNavigation(False)
        vertical = self.verticalHeader()
        vertical.setVisible(False)
        # Fixed heights: the view never measures a million rows.
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.fontMetrics().height() + 10)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionsMovable(True)
        header.setStretchLastSection(True)
        header.setSortIndicatorShown(True)
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.setSortingEnabled(True)
        self.setAccessibleName("Pairs")

    def setModel(self, model) -> None:  # noqa: N802 (Qt's name)
        super().setModel(model)
        header = self.horizontalHeader()
        for i, key in enumerate(COLUMN_KEYS):
            header.resizeSection(i, _WIDTHS.get(key, 120))
        header.setSectionResizeMode(COLUMN_KEYS.index("direction"), QHeaderView.ResizeMode.Fixed)

    def keyboardSearch(self, search: str) -> None:  # noqa: N802
        """Disabled: typing letters runs commands here, and a search would walk the list."""

    @staticmethod
    def _command_for(event: QKeyEvent) -> str | None:
        mods = event.modifiers() & ~(Qt.KeyboardModifier.ShiftModifier
                                     | Qt.KeyboardModifier.KeypadModifier)
        if mods:
            return None
        return KEYS.get(event.text())

    def event(self, event) -> bool:
        # Claim the list's keys before any window shortcut can take them.
        if event.type() == QEvent.Type.ShortcutOverride and self._command_for(event):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        command = self._command_for(event)
        if command is not None:
            self.command.emit(command)
            event.accept()
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.command.emit("edit_focus")
            event.accept()
            return
        super().keyPressEvent(event)
