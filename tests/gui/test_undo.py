"""Choices can be undone and redone (Ctrl+Z, Ctrl+Shift+Z, the Edit menu), and a bulk key
asks before it replaces addresses the user typed."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from gui.confirm import ConfirmWrites
from tests.gui.steps import decision, highlight_also, press, row_where, select, two_sided

CTRL, SHIFT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier


def choice_of(cache_path, link_id):
    stored = decision(cache_path, link_id)
    return stored["choice"], stored["choice_email"], stored["status"]


def shortcut(qtbot, window, key, mods):
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    with qtbot.waitSignal(window.operation_finished, timeout=5_000,
                          check_params_cb=lambda w: w == "undo"):
        qtbot.keyClick(window.table, key, mods)


def type_address(qtbot, window, address):
    qtbot.keyClick(window.table, "e")
    window.panel.editor_input.setText(address)
    with qtbot.waitSignal(window.operation_finished, timeout=5_000):
        qtbot.keyClick(window.panel.editor_input, Qt.Key.Key_Return)


# (situation, what the user did first, the key whose effect is undone)
KEYS = [
    ("keep Apollo on a fresh pair", "", ">"),
    ("keep Salesforce over a kept Apollo", ">", "<"),
    ("skip", "", "/"),
    ("apply the recommendation over a skip", "/", "a"),
    ("back to the recommendation after keeping Salesforce", "<", "r"),
    ("keep Apollo over a typed address", "typed", ">"),
]


@pytest.mark.parametrize("situation, first, key", KEYS, ids=[k[0] for k in KEYS])
def test_ctrl_z_undoes_each_key_and_ctrl_shift_z_redoes_it(qtbot, window, cache_path,
                                                          situation, first, key):
    row = row_where(window, lambda r: two_sided(r) and r.status == "open"
                    and r.rec_winner in ("apollo", "salesforce"))
    link_id = select(qtbot, window, row)
    if first == "typed":
        type_address(qtbot, window, "jo.typed@example.org")
    elif first:
        press(qtbot, window, first)
    before = choice_of(cache_path, link_id)
    press(qtbot, window, key)
    if key == "a":  # Apply goes on to the write's confirmation; the user cancels that
        qtbot.waitUntil(lambda: any(isinstance(w, ConfirmWrites) and w.isVisible()
                                    for w in QApplication.topLevelWidgets()))
        for dialog in [w for w in QApplication.topLevelWidgets() if isinstance(w, ConfirmWrites)]:
            dialog.reject()
    after = choice_of(cache_path, link_id)
    assert after != before
    shortcut(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert choice_of(cache_path, link_id) == before
    qtbot.waitUntil(lambda: window.model.row_data(row).choice == before[0])
    shortcut(qtbot, window, Qt.Key.Key_Z, CTRL | SHIFT)
    assert choice_of(cache_path, link_id) == after
    assert window.table.hasFocus() and window.table.currentIndex().row() == row


def test_the_edit_menu_names_what_it_undoes(qtbot, window, cache_path):
    row = row_where(window, lambda r: two_sided(r) and r.status == "open")
    select(qtbot, window, row)
    undo = window.actions_by_name["undo"]
    assert not undo.isEnabled()
    press(qtbot, window, "/")
    assert undo.isEnabled() and "Skipped (1 pair)" in undo.text()
    edit_menu = [m for m in window.menuBar().actions() if m.text() == "&Edit"][0].menu()
    assert undo in edit_menu.actions() and window.actions_by_name["redo"] in edit_menu.actions()


def answer_next_question(qtbot, button):
    """Press ``button`` in the question box that is about to open, and keep its text."""
    seen = {}

    def answer():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer)
            return
        seen["text"] = box.text()
        box.button(button).click()
    QTimer.singleShot(0, answer)
    return seen


@pytest.mark.parametrize("answer, replaced", [(QMessageBox.StandardButton.Cancel, False),
                                              (QMessageBox.StandardButton.Yes, True)],
                         ids=["cancel keeps the typed address", "yes replaces it"])
def test_a_bulk_key_asks_before_replacing_a_typed_address(qtbot, window, cache_path,
                                                          answer, replaced):
    rows = [r for r in range(60) if two_sided(window.model.row_data(r))
            and window.model.row_data(r).status == "open"][:3]
    typed_link = select(qtbot, window, rows[0])
    type_address(qtbot, window, "kept.typed@example.org")
    highlight_also(window, rows[1:])
    seen = answer_next_question(qtbot, answer)
    press(qtbot, window, ">")
    assert "1 of the 3 highlighted pairs holds an address you typed" in seen["text"]
    stored = choice_of(cache_path, typed_link)
    if replaced:
        assert stored[0] == "apollo"
    else:
        assert stored[:2] == ("custom", "kept.typed@example.org")
        assert all(decision(cache_path, window.model.row_data(r).link_id)["choice"] is None
                   for r in rows[1:])
    # The list has the keyboard again once the window is active.
    qtbot.waitUntil(lambda: window.focusWidget() is window.table)


def test_a_change_too_big_to_undo_asks_first_and_is_not_kept(qtbot, window, cache_path):
    window.commands.undo_limit = 2  # as a million highlighted pairs would be
    rows = [r for r in range(60) if two_sided(window.model.row_data(r))
            and window.model.row_data(r).status == "open"][:3]
    select(qtbot, window, rows[0])
    highlight_also(window, rows[1:])
    seen = answer_next_question(qtbot, QMessageBox.StandardButton.Yes)
    press(qtbot, window, "<")
    assert "cannot be undone" in seen["text"]
    assert all(decision(cache_path, window.model.row_data(r).link_id)["choice"] == "salesforce"
               for r in rows)
    assert not window.actions_by_name["undo"].isEnabled()
