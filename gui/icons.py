"""Icons and the style sheet from ``resources/``.

The icons are single-colour SVGs drawn with ``currentColor``; each is tinted with the
palette's text colour when loaded, so it reads in light and dark themes and stays sharp at
any device pixel ratio.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, QSize, Qt
from PySide6.QtGui import QGuiApplication, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

from gui import theme


def resources_dir() -> Path:
    """``resources/`` of the source tree, of a PyInstaller bundle, or ``CONCORD_RESOURCES``."""
    override = os.environ.get("CONCORD_RESOURCES")
    if override:
        return Path(override)
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def _text_colour() -> str:
    app = QGuiApplication.instance()
    palette = app.palette() if app is not None else QPalette()
    return palette.color(QPalette.ColorRole.WindowText).name()


@functools.lru_cache(maxsize=256)
def _icon(name: str, colour: str) -> QIcon:
    path = resources_dir() / "icons" / f"{name}.svg"
    try:
        svg = path.read_text(encoding="utf-8").replace("currentColor", colour)
    except OSError:
        return QIcon()
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    result = QIcon()
    for size in (16, 20, 24, 32, 48, 64):
        pixmap = QPixmap(QSize(size, size))
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter, QRectF(0, 0, size, size))
        painter.end()
        result.addPixmap(pixmap)
    return result


def icon(name: str) -> QIcon:
    """The named icon from ``resources/icons`` tinted for the current palette."""
    return _icon(name, _text_colour())


def app_icon() -> QIcon:
    """Concord's own (coloured) icon."""
    return _icon("concord", "#000000")


def style_sheet() -> str:
    """The application style sheet (palette-relative colours only)."""
    try:
        return (resources_dir() / "style.qss").read_text(encoding="utf-8")
    except OSError:
        return ""


def apply_style(app: QApplication) -> None:
    """The style sheet with its semantic colours filled in for the current palette."""
    sheet = style_sheet()
    for name in ("card_border", "muted", "danger", "banner_bg", "banner_text", "accent_bg",
                 "accent"):
        sheet = sheet.replace(f"@{name}@", theme.hex_colour(name, app.palette()))
    app.setStyleSheet(sheet)
