"""Steps the window tests share: read a stored decision, find and select a row, press a key."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from core.store.cache import Cache


def decision(cache_path, link_id: int) -> dict:
    with Cache(cache_path) as cache:
        cur = cache.conn.execute("SELECT * FROM decisions WHERE link_id = ?", (link_id,))
        return dict(zip([d[0] for d in cur.description], cur.fetchone()))


def row_where(window, predicate) -> int:
    row = window.row_of(predicate)
    assert row is not None, "no loaded row matches"
    return row


def two_sided(row) -> bool:
    return bool(row.apollo_email and row.sf_email and not row.one_sided)


def select(qtbot, window, row: int) -> int:
    link_id = window.model.row_data(row).link_id
    with qtbot.waitSignal(window.details_shown, timeout=5_000,
                          check_params_cb=lambda shown: shown == link_id):
        window.select_row(row)
    window.table.setFocus()
    return link_id


def press(qtbot, window, key: str, what: str | None = None):
    with qtbot.waitSignal(window.operation_finished, timeout=5_000,
                          check_params_cb=(lambda w: w == what) if what else None):
        qtbot.keyClick(window.table, key)


def open_dialogs(kind):
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()]


def highlight_also(window, rows) -> None:
    """Add ``rows`` to the highlight (as Ctrl+click would) and give the list the keyboard."""
    selection = window.table.selectionModel()
    for row in rows:
        selection.select(window.model.index(row, 0), selection.SelectionFlag.Select
                         | selection.SelectionFlag.Rows)
    window.table.setFocus()
