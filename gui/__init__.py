"""Concord's window (PySide6): views, the table model, background operations, dialogs.

Importing ``gui`` first works around a reference-counting bug of the Qt binding on CPython
3.11 (see :mod:`gui.qt_compat`); nothing else happens at import time.
"""

from .qt_compat import immortalize_singletons

immortalize_singletons()
