"""Colours that mean something (danger, accent, diff), chosen for the current palette.

Everything else follows the palette, so the window reads in light and dark themes alike.
"""

from __future__ import annotations

import functools

from PySide6.QtGui import QColor, QGuiApplication, QPalette


def is_dark(palette: QPalette | None = None) -> bool:
    """Whether the palette's window colour is dark."""
    palette = palette or QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


_LIGHT = {
    "accent": "#1f5fbf",
    "accent_bg": "#e3edfb",
    "danger": "#b3261e",
    "warning": "#8a5a00",
    "success": "#1e7a3c",
    "muted": "#6b6f76",
    "diff_apollo_bg": "#ffd9d6",  # the part only the Apollo address has
    "diff_sf_bg": "#cdeccf",  # the part only the Salesforce address has
    "diff_text": "#1b1b1b",
    "banner_bg": "#fff1c2",
    "banner_text": "#4d3800",
    "card_bg": "#ffffff",
    "card_border": "#d5d8dd",
}
_DARK = {
    "accent": "#8ab4f8",
    "accent_bg": "#23324a",
    "danger": "#ff8a80",
    "warning": "#f2c46d",
    "success": "#81c995",
    "muted": "#a0a4ab",
    "diff_apollo_bg": "#6e2b27",
    "diff_sf_bg": "#24553a",
    "diff_text": "#f1f1f1",
    "banner_bg": "#5a4500",
    "banner_text": "#fff3cd",
    "card_bg": "#2a2c30",
    "card_border": "#474a50",
}


def colour(name: str, palette: QPalette | None = None) -> QColor:
    """A semantic colour for the current (or given) palette."""
    return _colour(name, is_dark(palette))


@functools.lru_cache(maxsize=64)
def _colour(name: str, dark: bool) -> QColor:
    return QColor((_DARK if dark else _LIGHT)[name])


def hex_colour(name: str, palette: QPalette | None = None) -> str:
    return (_DARK if is_dark(palette) else _LIGHT)[name]


# -- the user's theme: Light, Dark, or what the system says ------------------------------------

THEMES = {"system": "Follow the system", "light": "Light", "dark": "Dark"}
_system: dict = {}  # the palette and style the application started with


def _dark_palette() -> QPalette:
    palette = QPalette()
    roles = QPalette.ColorRole
    for role, value in ((roles.Window, "#2b2d31"), (roles.WindowText, "#e8e8e8"),
                        (roles.Base, "#1f2023"), (roles.AlternateBase, "#27292d"),
                        (roles.Text, "#e8e8e8"), (roles.Button, "#34363b"),
                        (roles.ButtonText, "#e8e8e8"), (roles.Highlight, "#3d6fb6"),
                        (roles.HighlightedText, "#ffffff"), (roles.ToolTipBase, "#34363b"),
                        (roles.ToolTipText, "#e8e8e8"), (roles.PlaceholderText, "#9a9da3"),
                        (roles.Link, "#8ab4f8"), (roles.Mid, "#45474c"), (roles.Dark, "#1a1b1e"),
                        (roles.Light, "#45474c"), (roles.Midlight, "#3a3c41"),
                        (roles.Shadow, "#101113"), (roles.BrightText, "#ffffff")):
        palette.setColor(role, QColor(value))
    for role in (roles.Text, roles.WindowText, roles.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7b7e84"))
    return palette


def apply_theme(app, choice: str) -> None:
    """Give ``app`` the chosen theme: ``light``, ``dark`` or ``system`` (its first palette)."""
    from PySide6.QtWidgets import QStyleFactory

    if choice == "system":
        if _system:  # back from a chosen theme; until then the system's is untouched
            app.setStyle(QStyleFactory.create(_system["style"]))
            app.setPalette(_system["palette"])
        return
    if not _system:
        _system.update(palette=QPalette(app.palette()), style=app.style().name())
    app.setStyle(QStyleFactory.create("Fusion"))  # the one style that follows any palette
    app.setPalette(_dark_palette() if choice == "dark" else app.style().standardPalette())
