"""Opening the window inside the screen it is on, at any scale factor."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize
from PySide6.QtWidgets import QWidget

PREFERRED = QSize(1360, 860)  # logical pixels, when the screen has room
MARGIN = 0.04  # of the screen, left free around a window that would fill it


def fitted(preferred: QSize, available: QRect) -> QRect:
    """The largest rectangle up to ``preferred`` inside ``available``, centred."""
    width = min(preferred.width(), int(available.width() * (1 - MARGIN)))
    height = min(preferred.height(), int(available.height() * (1 - MARGIN)))
    rect = QRect(0, 0, width, height)
    rect.moveCenter(available.center())
    return rect


def place(window: QWidget, saved_geometry: bytes | None) -> None:
    """The saved geometry when its size fits the screen (moved inside it if need be), else
    the preferred size fitted to the screen."""
    available = window.screen().availableGeometry()
    if saved_geometry and window.restoreGeometry(saved_geometry):
        frame = window.frameGeometry()
        if frame.width() <= available.width() and frame.height() <= available.height():
            x = min(max(frame.x(), available.x()), available.right() - frame.width() + 1)
            y = min(max(frame.y(), available.y()), available.bottom() - frame.height() + 1)
            window.move(x, y)  # a top-level widget's position is its frame's
            return
    window.setGeometry(fitted(PREFERRED, available))
