"""The window writes to the sandbox: Apply on a selection writes and the rows show the
outcome; Cancel stops after the current batch and leaves a final journal; run history
undoes a run."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from core.store.cache import Cache
from core.sync import apply as apply_module
from core.sync.connections import Connection
from core.sync.undo import unwritable
from gui.confirm import ConfirmWrites
from gui.history_dialog import RunHistoryDialog
from tests.harness import sandbox
from tests.sync.writeback import pulled, remote_email


@pytest.fixture
def org(tls_dir, tmp_path):
    running = sandbox(300, 13, tls_dir=tls_dir)
    path = tmp_path / "work" / "cache.sqlite"
    path.parent.mkdir(mode=0o700)
    pulled(running, path).close()
    yield running, path
    running.stop()


@pytest.fixture
def window(app, qtbot, org):
    from gui.main_window import MainWindow

    running, path = org
    win = MainWindow()
    qtbot.addWidget(win)
    win.open_cache(path, Connection(sandbox_info=running.info(), cache_path=path))
    win.show()
    qtbot.waitUntil(lambda: win.model.total is not None and bool(win.counts), timeout=10_000)
    yield win
    win.close_cache()


def dialogs(kind):
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()]


def writable_rows(window, path, count):
    """Rows whose recommendation has a winner (so Apply has something to write)."""
    with Cache(path) as cache:
        ids = {r[0] for r in cache.conn.execute(
            "SELECT link_id FROM decisions WHERE rec_winner IN ('apollo', 'salesforce') "
            "AND strength IN ('strong', 'medium')")}
    rows = [r for r in range(window.model.rowCount()) if window.model.row_data(r)
            and window.model.row_data(r).link_id in ids]
    return rows[:count]


def select_rows(window, rows):
    window.select_row(rows[0])
    model = window.table.selectionModel()
    for row in rows[1:]:
        model.select(window.model.index(row, 0), model.SelectionFlag.Select | model.SelectionFlag.Rows)
    window.table.setFocus()


def test_apply_on_a_selection_writes_and_the_rows_show_the_outcome(qtbot, window, org):
    running, path = org
    rows = writable_rows(window, path, 3)
    assert len(rows) == 3
    ids = [window.model.row_data(r).link_id for r in rows]
    select_rows(window, rows)
    with qtbot.waitSignal(window.operation_finished, timeout=10_000,
                          check_params_cb=lambda w: w == "confirm"):
        qtbot.keyClick(window.table, "a")
    dialog = dialogs(ConfirmWrites)[0]
    planned = list(dialog.plan.writes)
    assert {w.link_id for w in planned} == set(ids)
    # Someone edits one target while the confirmation is open.
    moved = next(w for w in planned if w.system == "salesforce") if any(
        w.system == "salesforce" for w in planned) else planned[0]
    if moved.system == "salesforce":
        obj = "Lead" if moved.record_id.startswith("00Q") else "Contact"
        running.sf_store.external_edit(obj, moved.record_id, {"Email": "meanwhile@example.org"})
    else:
        running.sync.contact_changed(running.apollo_store.update(
            moved.record_id, {"email": "meanwhile@example.org"}))
    with qtbot.waitSignal(window.operation_finished, timeout=20_000,
                          check_params_cb=lambda w: w == "written"):
        dialog.write_button.click()
    assert "1 conflict" in window.statusBar().currentMessage()
    written = [w for w in planned if w.link_id != moved.link_id]
    for w in written:
        assert remote_email(running, w.system, w.record_id).lower() == w.new_email.lower()
    assert remote_email(running, moved.system, moved.record_id) == "meanwhile@example.org"
    with Cache(path) as cache:
        statuses = dict(cache.conn.execute(
            f"SELECT link_id, status FROM decisions WHERE link_id IN ({','.join('?' * len(ids))})",
            ids))
    assert statuses == {i: "conflict" if i == moved.link_id else "applied" for i in ids}

    def shown():
        return {window.model.row_data(r).link_id: window.model.row_data(r)
                for r in range(window.model.rowCount())
                if window.model.row_data(r) and window.model.row_data(r).link_id in ids}
    # The list reloads: applied pairs leave the working list, the conflict stays with both
    # values in its message.
    qtbot.waitUntil(lambda: set(shown()) == {moved.link_id}, timeout=5_000)
    row = shown()[moved.link_id]
    assert row.status == "conflict" and "meanwhile@example.org" in row.error \
        and moved.new_email in row.error
    # Run history offers Undo for that run, and undoing puts the values back.
    window.open_history()
    qtbot.waitUntil(lambda: bool(dialogs(RunHistoryDialog)), timeout=5_000)
    history = dialogs(RunHistoryDialog)[0]
    history.table.selectRow(0)
    assert history.undo.isEnabled()
    with qtbot.waitSignal(window.operation_finished, timeout=20_000,
                          check_params_cb=lambda w: w == "written"):
        qtbot.mouseClick(history.undo, Qt.MouseButton.LeftButton)
    for w in written:  # (an earlier address Salesforce would refuse is never written back)
        if not unwritable(w.old_email):
            assert (remote_email(running, w.system, w.record_id) or "").lower() == \
                (w.old_email or "").lower()


def test_cancel_stops_after_the_current_batch_and_leaves_a_final_journal(qtbot, window, org,
                                                                          monkeypatch):
    running, path = org
    monkeypatch.setattr(apply_module, "ROUND", 1)
    real_round = apply_module.Writer._round

    def slow_round(self, entries):
        real_round(self, entries)
        time.sleep(0.2)  # time to press Cancel between batches
    monkeypatch.setattr(apply_module.Writer, "_round", slow_round)
    rows = writable_rows(window, path, 8)
    select_rows(window, rows)
    with qtbot.waitSignal(window.operation_finished, timeout=10_000,
                          check_params_cb=lambda w: w == "confirm"):
        qtbot.keyClick(window.table, "g")
    dialog = dialogs(ConfirmWrites)[0]
    dialog.write_button.click()
    qtbot.waitUntil(lambda: window.cancel_button.isVisible() and "Writing" in
                    window.progress_label.text() and "/" in window.progress_label.text(),
                    timeout=10_000)
    with qtbot.waitSignal(window.operation_finished, timeout=20_000,
                          check_params_cb=lambda w: w == "written"):
        qtbot.mouseClick(window.cancel_button, Qt.MouseButton.LeftButton)
    with Cache(path) as cache:
        states = dict(cache.conn.execute("SELECT state, count(*) FROM journal GROUP BY state"))
        assert set(states) <= {"done", "skipped"} and states.get("skipped", 0) > 0
        assert states.get("done", 0) > 0
        assert cache.check_integrity() == []
        for system, record_id, new, state in cache.conn.execute(
                "SELECT system, record_id, new_email, state FROM journal"):
            held = (remote_email(running, system, record_id) or "").lower()
            assert (held == new.lower()) == (state == "done")
    assert "cancelled" in window.statusBar().currentMessage()
