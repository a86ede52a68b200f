"""The list view: fixed row heights, one key a direction, no work proportional to the list.

The current row, the highlighted rows and the panel are one thing: moving with Ctrl (which
in a plain ``QTableView`` moves the cursor away from the selection) selects the row it lands
on, and a Ctrl+click that unhighlights the current row moves the cursor to a highlighted one.
A key then acts on exactly the highlighted pairs.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QMenu, QTableView

from gui.keys import LIST_KEYS
from gui.pair_model import COLUMN_KEYS, COLUMNS, OPTIONAL_COLUMNS

_MOVES = (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown,
          Qt.Key.Key_Home, Qt.Key.Key_End, Qt.Key.Key_Left, Qt.Key.Key_Right)
_Flag = QItemSelectionModel.SelectionFlag
_Action = QAbstractItemView.CursorAction
# Columns of a fixed width (in average characters), and how the rest of the width is shared:
# the addresses first, since a cut address is the one thing the user cannot guess.
_FIXED = {"direction": 4, "sync": 6, "rule": 22, "strength": 9, "status": 9, "rule_code": 18}
_SHARES = {"name": 2, "company": 2, "apollo_email": 3, "sf_email": 3}


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
        model.modelReset.connect(self.fit_columns)
        header = self.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(COLUMN_KEYS.index("direction"), QHeaderView.ResizeMode.Fixed)
        header.sectionResized.connect(self._user_resized)
        header.viewport().installEventFilter(self)
        self._dragging = False  # the mouse is down on the header: a resize is the user's
        self._user_widths = False
        for key in OPTIONAL_COLUMNS:
            header.setSectionHidden(COLUMN_KEYS.index(key), True)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._column_menu)
        self.fit_columns()

    def column_menu(self) -> QMenu:
        """Show or hide the optional columns (such as the rule's code)."""
        header = self.horizontalHeader()
        menu = QMenu(self)
        for key in OPTIONAL_COLUMNS:
            column = COLUMN_KEYS.index(key)
            action = menu.addAction(f"Show the {dict(COLUMNS)[key].lower()} column")
            action.setCheckable(True)
            action.setChecked(not header.isSectionHidden(column))
            action.toggled.connect(lambda on, c=column: (header.setSectionHidden(c, not on),
                                                         self.fit_columns()))
        return menu

    def _column_menu(self, pos) -> None:
        menu = self.column_menu()
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self.horizontalHeader().mapToGlobal(pos))

    def _user_resized(self, *_):
        if self._dragging:
            self._user_widths = True  # the user's widths win until the next start

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.MouseButtonPress:
            self._dragging = True
        elif event.type() == QEvent.Type.MouseButtonRelease:
            self._dragging = False
        return super().eventFilter(watched, event)

    def fit_columns(self) -> None:
        """Fixed columns at their width, the rest of the width shared, addresses first (no
        horizontal scrolling down to a 1024-pixel screen)."""
        header = self.horizontalHeader()
        if self.model() is None or self._user_widths:
            return
        char = self.fontMetrics().averageCharWidth()
        fixed = {COLUMN_KEYS.index(k): w * char + 12 for k, w in _FIXED.items()
                 if not header.isSectionHidden(COLUMN_KEYS.index(k))}
        spare = max(self.viewport().width() - sum(fixed.values()), 0)
        total = sum(_SHARES.values())
        for i, key in enumerate(COLUMN_KEYS):
            if not header.isSectionHidden(i):
                header.resizeSection(i, fixed.get(i) or max(spare * _SHARES[key] // total,
                                                            8 * char))

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.fit_columns()

    def moveCursor(self, action, modifiers):  # noqa: N802 (Qt's name)
        """Home and End go to the first and last pair (not the first and last column)."""
        if action in (_Action.MoveHome, _Action.MoveEnd):
            modifiers |= Qt.KeyboardModifier.ControlModifier
        return super().moveCursor(action, modifiers)

    def selectionCommand(self, index, event=None):  # noqa: N802
        """Moving without Shift highlights the row the cursor lands on, Ctrl or not."""
        if (event is not None and event.type() == QEvent.Type.KeyPress
                and event.key() in _MOVES
                and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier):
            return _Flag.ClearAndSelect | _Flag.Rows
        return super().selectionCommand(index, event)

    def selectionChanged(self, selected, deselected) -> None:  # noqa: N802
        super().selectionChanged(selected, deselected)
        self._keep_cursor_in_selection()

    def _keep_cursor_in_selection(self) -> None:
        """The cursor (whose pair the panel shows) is always on a highlighted row."""
        model, selection = self.model(), self.selectionModel()
        current = self.currentIndex()
        if model is None or selection is None or not current.isValid():
            return
        if selection.isRowSelected(current.row()):
            return
        ranges = selection.selection()
        if ranges.isEmpty():
            selection.select(current, _Flag.Select | _Flag.Rows)
            return
        here = current.row()
        row = min((min(max(here, r.top()), r.bottom()) for r in ranges),
                  key=lambda candidate: abs(candidate - here))
        selection.setCurrentIndex(model.index(row, current.column()), _Flag.NoUpdate)

    def keyboardSearch(self, search: str) -> None:  # noqa: N802
        """Disabled: typing letters runs commands here, and a search would walk the list."""

    @staticmethod
    def _command_for(event: QKeyEvent) -> str | None:
        mods = event.modifiers() & ~(Qt.KeyboardModifier.ShiftModifier
                                     | Qt.KeyboardModifier.KeypadModifier)
        if mods:
            return None
        return LIST_KEYS.get(event.text())

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
