"""A key acts on exactly the highlighted pairs: the cursor, the highlight and the panel are
one thing, however the user moved; a typed address is for one pair only."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

from tests.gui.steps import decision, press, row_where, select, two_sided

CTRL, SHIFT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier


def key(qtbot, window, k, mods=Qt.KeyboardModifier.NoModifier, times=1):
    for _ in range(times):
        qtbot.keyClick(window.table, k, mods)


def click(qtbot, window, row, mods=Qt.KeyboardModifier.NoModifier):
    index = window.model.index(row, 1)
    window.table.scrollTo(index)
    qtbot.mouseClick(window.table.viewport(), Qt.MouseButton.LeftButton, mods,
                     window.table.visualRect(index).center() + QPoint(0, 0))


def highlighted(window) -> list[int]:
    return sorted({i.row() for i in window.table.selectionModel().selectedRows()})


# (situation, what the user does from the start row, rows highlighted after: by offset from
# the start row, or "last")
MOVES = [
    ("End", lambda q, w, s: key(q, w, Qt.Key.Key_End), ["last"]),
    ("Ctrl+End", lambda q, w, s: key(q, w, Qt.Key.Key_End, CTRL), ["last"]),
    ("Home after moving down", lambda q, w, s: (key(q, w, Qt.Key.Key_Down, times=3),
                                                key(q, w, Qt.Key.Key_Home)), ["first"]),
    ("Ctrl+Down twice", lambda q, w, s: key(q, w, Qt.Key.Key_Down, CTRL, 2), [2]),
    ("PageDown", lambda q, w, s: key(q, w, Qt.Key.Key_PageDown), ["page"]),
    ("click", lambda q, w, s: click(q, w, s + 3), [3]),
    ("Shift-click", lambda q, w, s: click(q, w, s + 2, SHIFT), [0, 1, 2]),
    ("Shift+Down three times", lambda q, w, s: key(q, w, Qt.Key.Key_Down, SHIFT, 3), [0, 1, 2, 3]),
    ("Ctrl+click that unhighlights the row under the cursor",
     lambda q, w, s: (click(q, w, s + 1, SHIFT), click(q, w, s + 1, CTRL)), [0]),
]


@pytest.mark.parametrize("situation, move, expected", MOVES, ids=[m[0] for m in MOVES])
def test_the_cursor_the_highlight_and_the_panel_are_one(qtbot, window, situation, move, expected):
    start = row_where(window, lambda r: two_sided(r) and r.status == "open")
    select(qtbot, window, start)
    move(qtbot, window, start)
    last, current = window.model.rowCount() - 1, window.table.currentIndex().row()
    rows = highlighted(window)
    assert window.table.selectionModel().isRowSelected(current), "the cursor left the highlight"
    if expected == ["last"]:
        assert rows == [last]
    elif expected == ["first"]:
        assert rows == [0]
    elif expected == ["page"]:
        assert rows == [current] and current > start + 1
    else:
        assert rows == [start + offset for offset in expected]
    # The panel shows the pair under the cursor, and says how many a key acts on.
    link_id = window.model.row_data(current).link_id
    qtbot.waitUntil(lambda: window.panel.details is not None
                    and window.panel.details.link_id == link_id, timeout=5_000)
    note = window.panel.selection_note
    assert note.isVisibleTo(window.panel) is (len(rows) > 1)
    if len(rows) > 1:
        assert f"{len(rows)} pairs highlighted" in note.text()


def test_a_key_after_ctrl_end_acts_on_the_last_pair_not_the_one_scrolled_away(
        qtbot, window, cache_path):
    start = row_where(window, lambda r: two_sided(r) and r.status == "open")
    start_link = select(qtbot, window, start)
    key(qtbot, window, Qt.Key.Key_Down, CTRL, 2)
    target = window.model.row_data(start + 2)
    press(qtbot, window, "/")
    assert decision(cache_path, start_link)["choice"] is None
    if two_sided(target) and target.status != "in_sync":
        assert decision(cache_path, target.link_id)["choice"] == "skip"


def test_typing_an_address_is_refused_on_several_pairs(qtbot, window, cache_path):
    start = row_where(window, lambda r: two_sided(r) and r.status == "open")
    select(qtbot, window, start)
    key(qtbot, window, Qt.Key.Key_Down, SHIFT, 3)
    ids = [window.model.row_data(start + i).link_id for i in range(4)]
    qtbot.waitUntil(lambda: window.panel.selection_note.isVisibleTo(window.panel))
    # The button is off, and the key says why instead of opening the editor.
    assert not window.panel.buttons["edit"].isEnabled()
    press(qtbot, window, "e", "refused")
    assert not window.panel.editor.isVisible()
    assert "one pair at a time" in window.statusBar().currentMessage()
    assert all(decision(cache_path, i)["choice"] is None for i in ids)


def test_moving_to_another_pair_closes_the_address_typed_for_the_first(qtbot, window, cache_path):
    start = row_where(window, lambda r: two_sided(r) and r.status == "open")
    first = select(qtbot, window, start)
    qtbot.keyClick(window.table, "e")
    window.panel.editor_input.setText("for.the.first@example.org")
    click(qtbot, window, start + 1)
    assert not window.panel.editor.isVisible()
    second = window.model.row_data(start + 1).link_id
    assert decision(cache_path, first)["choice"] is None
    assert decision(cache_path, second)["choice"] is None
