"""The keyboard never gets lost: after a dialog or the address editor the list has it again on
the same row, and Tab / Shift+Tab visit every control once, each showing focus."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QWidget

from gui.confirm import ConfirmWrites
from gui.settings_dialog import SettingsDialog
from tests.gui.steps import open_dialogs, press, row_where, select, two_sided


def active(qtbot, window):
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)


def back_on_the_list(qtbot, window, row):
    qtbot.waitUntil(lambda: window.focusWidget() is window.table)
    assert window.table.currentIndex().row() == row


def test_after_typing_an_address_the_list_has_the_keyboard_and_g_goes(qtbot, window):
    row = row_where(window, lambda r: two_sided(r) and r.status == "open")
    select(qtbot, window, row)
    active(qtbot, window)
    qtbot.keyClick(window.table, "e")
    window.panel.editor_input.setText("jo.new@example.org")
    with qtbot.waitSignal(window.operation_finished, timeout=5_000):
        qtbot.keyClick(window.panel.editor_input, Qt.Key.Key_Return)
    back_on_the_list(qtbot, window, row)
    # g now reaches the list (not the filter box), and the confirmation gives the keyboard back
    press(qtbot, window, "g", "confirm")
    dialog = open_dialogs(ConfirmWrites)[0]
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    back_on_the_list(qtbot, window, row)


def test_after_cancelling_the_editor_the_list_has_the_keyboard(qtbot, window):
    row = row_where(window, lambda r: two_sided(r) and r.status == "open")
    select(qtbot, window, row)
    active(qtbot, window)
    qtbot.keyClick(window.table, "e")
    qtbot.mouseClick(window.panel.editor_cancel, Qt.MouseButton.LeftButton)
    back_on_the_list(qtbot, window, row)


@pytest.mark.parametrize("dialog, kind", [("settings", SettingsDialog), ("keys", QDialog),
                                          ("about", QDialog)])
def test_after_a_dialog_the_list_has_the_keyboard_on_the_same_row(qtbot, window, dialog, kind):
    row = row_where(window, lambda r: two_sided(r))
    select(qtbot, window, row)
    active(qtbot, window)
    window.actions_by_name[dialog].trigger()
    qtbot.waitUntil(lambda: any(isinstance(w, kind) and w is not window
                                for w in [QApplication.activeModalWidget()]), timeout=5_000)
    qtbot.keyClick(QApplication.activeModalWidget(), Qt.Key.Key_Escape)
    back_on_the_list(qtbot, window, row)


def focusable(window) -> set[QWidget]:
    return {w for w in window.findChildren(QWidget)
            if w.isVisible() and w.isEnabled() and w.focusPolicy() & Qt.FocusPolicy.TabFocus
            and w.window() is window}


@pytest.mark.parametrize("key", [Qt.Key.Key_Tab, Qt.Key.Key_Backtab], ids=["Tab", "Shift+Tab"])
def test_tab_visits_every_control_once_and_comes_back(qtbot, window, key):
    row = row_where(window, lambda r: two_sided(r) and r.status == "open")
    select(qtbot, window, row)
    active(qtbot, window)
    window.table.setFocus()
    expected = focusable(window)
    visited = []
    for _ in range(len(expected) + 2):
        qtbot.keyClick(QApplication.focusWidget(), key)
        widget = QApplication.focusWidget()
        if widget is window.table:
            break
        visited.append(widget)
    names = [w.objectName() or w.accessibleName() or type(w).__name__ for w in visited]
    assert len(visited) == len(set(visited)), f"a control was visited twice: {names}"
    assert set(visited) | {window.table} == expected, names


def test_enter_goes_to_the_pair_buttons_and_esc_comes_back(qtbot, window):
    row = row_where(window, lambda r: two_sided(r) and r.status == "open")
    select(qtbot, window, row)
    active(qtbot, window)
    qtbot.keyClick(window.table, Qt.Key.Key_Return)
    focused = QApplication.focusWidget()
    assert focused in window.panel.buttons.values() and focused.isEnabled()
    qtbot.keyClick(focused, Qt.Key.Key_Escape)
    back_on_the_list(qtbot, window, row)
