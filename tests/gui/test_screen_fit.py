"""The window fits the screen: it opens inside it, every command stays reachable on a laptop
(1024×700, or 1600×1000 at scale 1.5), and the splitter stays where the user put it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect, QSize
from PySide6.QtWidgets import QToolBar

from gui.main_window import MainWindow
from gui.screen_fit import PREFERRED, fitted
from tests.gui.steps import row_where, select, two_sided

SCREENS = [
    ("a large desktop: the preferred size, centred", QRect(0, 0, 2560, 1440), QSize(1360, 860)),
    ("1600×1000 at scale 1.5 (1066×666 logical)", QRect(0, 0, 1066, 666), QSize(1023, 639)),
    ("1024×700 with a panel on top", QRect(0, 30, 1024, 670), QSize(983, 643)),
]


@pytest.mark.parametrize("situation, available, size", SCREENS, ids=[s[0] for s in SCREENS])
def test_the_window_opens_inside_the_available_screen(situation, available, size):
    rect = fitted(PREFERRED, available)
    assert rect.size() == size and available.contains(rect)
    assert rect.center() == available.center() or abs(
        (rect.center() - available.center()).manhattanLength()) <= 1


def inside(widget, window) -> bool:
    top_left = widget.mapTo(window, QPoint(0, 0))
    return window.rect().contains(QRect(top_left, widget.size()))


@pytest.mark.parametrize("width, height", [(1024, 700), (1066, 640)],
                         ids=["1024x700", "1600x1000 at scale 1.5"])
def test_every_command_is_reachable_on_a_laptop_screen(qtbot, window, width, height):
    window.resize(width, height)
    row = row_where(window, lambda r: two_sided(r) and r.status == "open")
    select(qtbot, window, row)
    qtbot.wait(50)  # the layout settles in the event loop
    assert window.width() <= width and window.height() <= height  # nothing holds it wider
    # Every button of the panel is on screen without scrolling the panel
    for name, button in window.panel.buttons.items():
        assert button.isVisible() and inside(button, window), name
    # The toolbar hides nothing behind its overflow arrow
    toolbar = window.findChild(QToolBar)
    for action in toolbar.actions():
        if action.isSeparator():
            continue
        assert toolbar.widgetForAction(action).isVisible(), action.text()
    # The list fills its width and needs no sideways scrolling; the filters are all on screen
    header = window.table.horizontalHeader()
    shown = sum(header.sectionSize(i) for i in range(header.count()) if not header.isSectionHidden(i))
    assert window.table.viewport().width() - 8 <= shown <= window.table.viewport().width()
    assert not window.table.horizontalScrollBar().isVisible()
    for widget in (window.filter_box, window.view_combo, window.rule_combo, window.strength_combo):
        assert inside(widget, window)


@pytest.mark.parametrize("closed_at, reopens_at", [
    (QSize(760, 700), None),  # None: as it was closed (the content may widen it a little)
    (QSize(1400, 1000), fitted(PREFERRED, QRect(0, 0, 800, 800)).size()),
], ids=["fits the screen: restored", "larger than the screen: fitted instead"])
def test_the_splitter_and_geometry_are_remembered_when_they_fit(qtbot, window, closed_at,
                                                                reopens_at):
    row = row_where(window, two_sided)
    select(qtbot, window, row)
    window.resize(closed_at)
    qtbot.wait(50)
    window.splitter.setSizes([200, 300])
    panel = window.splitter.sizes()[1]
    reopens_at = reopens_at or window.size()
    window.close()
    again = MainWindow()
    qtbot.addWidget(again)
    again.show()
    assert again.splitter.sizes()[1] == panel  # the list takes whatever the window has left
    assert again.size() == reopens_at
    assert again.screen().availableGeometry().contains(again.frameGeometry())
