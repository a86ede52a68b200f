"""Light, Dark or the system's theme, chosen in Settings, used at once and remembered."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from gui import theme, window_state
from gui.settings_dialog import SettingsDialog
from tests.gui.steps import decision, open_dialogs, row_where, two_sided


@pytest.fixture
def restore_theme(app):
    yield
    theme.apply_theme(app, "system")


def choose_theme(qtbot, window, choice):
    window.actions_by_name["settings"].trigger()
    qtbot.waitUntil(lambda: bool(open_dialogs(SettingsDialog)), timeout=5_000)
    dialog = open_dialogs(SettingsDialog)[0]
    dialog.theme_combo.setFocus()
    dialog.theme_combo.setCurrentIndex(dialog.theme_combo.findData(choice))
    with qtbot.waitSignal(window.operation_finished, timeout=5_000,
                          check_params_cb=lambda w: w == "settings"):
        qtbot.keyClick(dialog, Qt.Key.Key_Return)


@pytest.mark.parametrize("choice, dark", [("dark", True), ("light", False)])
def test_a_theme_chosen_in_settings_is_used_at_once_and_remembered(
        qtbot, window, cache_path, restore_theme, choice, dark):
    row = row_where(window, two_sided)
    link_id = window.model.row_data(row).link_id
    before = decision(cache_path, link_id)
    choose_theme(qtbot, window, choice)
    assert theme.is_dark(QApplication.instance().palette()) is dark
    qtbot.waitUntil(lambda: window_state.theme() == choice, timeout=5_000)
    # Only the theme changed: nothing was decided again
    assert decision(cache_path, link_id) == before
    assert "Settings saved." == window.statusBar().currentMessage()


def test_system_brings_back_the_starting_palette(qtbot, window, restore_theme):
    start = QApplication.instance().palette().color(QApplication.instance().palette().ColorRole.Window)
    choose_theme(qtbot, window, "dark")
    choose_theme(qtbot, window, "system")
    palette = QApplication.instance().palette()
    assert palette.color(palette.ColorRole.Window) == start
