"""The one place errors are shown to the user.

Typed errors from core become a plain message with what to do; a user's cancel is silent;
anything unexpected is shown with its details (secrets redacted) and logged. Dialogs are
opened window-modal and non-blocking, so no nested event loop ever runs on top of a worker's
callback.
"""

from __future__ import annotations

import logging
import sqlite3
import traceback

from PySide6.QtWidgets import QMessageBox, QWidget

from core.credentials import CredentialError, redact
from core.emails import EmailError
from core.model import UserMessage
from core.store.cache import CacheError
from core.sync.choices import ChoiceError
from core.sync.reconcile import Cancelled
from core.workspace import WorkspaceError

log = logging.getLogger(__name__)

_open_boxes: list[QMessageBox] = []  # keep non-blocking boxes alive until closed


def is_cancel(exc: BaseException) -> bool:
    """Whether an error only says that the user (or a newer request) cancelled the work."""
    if isinstance(exc, Cancelled):
        return True
    return isinstance(exc, sqlite3.OperationalError) and "interrupted" in str(exc)


def describe(exc: BaseException) -> tuple[str, str, QMessageBox.Icon]:
    """Title, text and icon for an error (plain data, for the presenter and for tests)."""
    if isinstance(exc, UserMessage):
        return exc.title, exc.text, QMessageBox.Icon.Information
    if isinstance(exc, (ChoiceError, EmailError)):
        return "Cannot store that choice", str(exc), QMessageBox.Icon.Warning
    if isinstance(exc, CredentialError):
        return "Keyring", redact(str(exc)), QMessageBox.Icon.Warning
    if isinstance(exc, WorkspaceError):
        return "Workspace", str(exc), QMessageBox.Icon.Warning
    if isinstance(exc, CacheError):
        return "The cache cannot be used", str(exc), QMessageBox.Icon.Critical
    if isinstance(exc, (ConnectionError, TimeoutError, OSError)):
        return "Connection problem", redact(str(exc)) or type(exc).__name__, QMessageBox.Icon.Warning
    return ("Something went wrong",
            f"{type(exc).__name__}: {redact(str(exc))}\n\nNothing was written to Apollo or "
            f"Salesforce. The details below help when reporting the problem.",
            QMessageBox.Icon.Critical)


def show_exception(parent: QWidget | None, exc: BaseException) -> QMessageBox | None:
    """Show an error to the user; silent when the user cancelled."""
    if is_cancel(exc):
        return None
    title, text, icon = describe(exc)
    known = isinstance(exc, (UserMessage, ChoiceError, EmailError, CredentialError,
                             WorkspaceError, CacheError))
    if not known:
        log.error("unexpected error: %s", redact("".join(
            traceback.format_exception(type(exc), exc, exc.__traceback__))))
    box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("errorBox")
    if isinstance(exc, UserMessage) and exc.details:
        box.setInformativeText(exc.details)
    elif not known:
        box.setDetailedText(redact("".join(
            traceback.format_exception(type(exc), exc, exc.__traceback__))))
    box.setWindowModality(box.windowModality().WindowModal if parent else
                          box.windowModality().ApplicationModal)
    _open_boxes.append(box)
    box.finished.connect(lambda _=None, b=box: _open_boxes.remove(b) if b in _open_boxes else None)
    box.open()
    return box


def show_info(parent: QWidget | None, title: str, text: str, details: str = "") -> QMessageBox:
    """Show a plain message (non-blocking)."""
    return show_exception(parent, UserMessage(title, text, details))
