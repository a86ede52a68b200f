"""One key table: the list's keys, the menus, the buttons and the keyboard help all come from
gui/keys.py, so a key cannot say one thing in the help and do another in the list."""

from __future__ import annotations

import pytest

from gui import keys
from gui.pair_table import PairTable


def test_every_list_key_belongs_to_one_command_and_the_help_shows_it():
    assert len(keys.LIST_KEYS) == sum(len(c.list_keys) for c in keys.PAIR_COMMANDS)
    help_keys = [k for k, _ in keys.help_rows()]
    for command in keys.PAIR_COMMANDS + keys.WINDOW_COMMANDS:
        if command.list_keys or command.shortcut:
            assert command.key_text in help_keys, command.name


@pytest.mark.parametrize("command", keys.PAIR_COMMANDS, ids=[c.name for c in keys.PAIR_COMMANDS])
def test_the_menu_the_button_and_the_list_say_the_same(window, command):
    pair_menu = [m for m in window.menuBar().actions() if m.text() == "&Pair"][0].menu()
    action = window.actions_by_name[command.name]
    assert action in pair_menu.actions() and action.text() == command.label
    button = window.panel.buttons[command.name]
    assert command.key_text in button.toolTip() and button.text() in (command.label, command.short)
    for key in command.list_keys:
        assert keys.LIST_KEYS[key] == command.name


def test_the_list_emits_the_command_of_each_key(qtbot):
    table = PairTable()
    qtbot.addWidget(table)
    seen = []
    table.command.connect(seen.append)
    for key in keys.LIST_KEYS:
        qtbot.keyClicks(table, key)
    assert seen == list(keys.LIST_KEYS.values())
