"""The window: the panel, the keys, Go, Reconcile all, cancel, and a UI that keeps running."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QMessageBox

from core import emails, labels
from core.store.cache import Cache
from core.sync import connections as sync_steps
from core.sync import plan as write_plan
from core.sync.reconcile import Cancelled
from gui.confirm import ConfirmWrites
from gui.pair_model import DIRECTION_COLUMN
from tests.gui.steps import (
    decision,
    highlight_also,
    open_dialogs,
    press,
    row_where,
    select,
    two_sided,
)

ATTENTION = "status IN ('open', 'chosen', 'failed', 'conflict')"


def test_selecting_a_row_fills_the_panel_with_the_difference(qtbot, window):
    # Given a pair whose two addresses differ
    row = row_where(window, two_sided)
    data = window.model.row_data(row)
    # When it is selected
    select(qtbot, window, row)
    panel = window.panel
    # Then both cards show their record and the differing characters are highlighted
    assert panel.content.isVisible()
    segments = emails.diff(data.apollo_email, data.sf_email)
    only_apollo = "".join(s.a for s in segments if s.op != "equal")
    only_sf = "".join(s.b for s in segments if s.op != "equal")
    apollo_html, sf_html = panel.apollo_card.email.text(), panel.sf_card.email.text()
    assert ("background-color" in apollo_html) == bool(only_apollo)
    assert ("background-color" in sf_html) == bool(only_sf)
    for seg in segments:
        if seg.op != "equal" and seg.a:
            assert f"font-weight:600;\">{seg.a}</span>" in apollo_html.replace("&amp;", "&")
        if seg.op != "equal" and seg.b:
            assert f"font-weight:600;\">{seg.b}</span>" in sf_html.replace("&amp;", "&")
    assert only_apollo or only_sf
    assert data.name.split()[0] in panel.apollo_card.person.text()
    # Rules in plain words, their codes in a tooltip
    assert labels.rule_words(data.rec_rule) in panel.recommendation.text()
    assert data.rec_rule not in panel.recommendation.text()
    assert data.rec_rule in panel.recommendation.toolTip()
    assert labels.rule_words(data.native_rule) in panel.native.text()
    assert panel.reason.text()
    assert panel.apollo_card.link.toolTip().startswith("https://app.apollo.io/#/contacts/")
    assert "Email set" in panel.apollo_card.edit_time.text()


@pytest.mark.parametrize("key, choice, glyph", [(">", "apollo", "→"), (".", "apollo", "→"),
                                                ("<", "salesforce", "←"), (",", "salesforce", "←"),
                                                ("/", "skip", "⊘")])
def test_each_key_sets_its_direction_and_stores_it(qtbot, window, cache_path, key, choice, glyph):
    row = row_where(window, lambda r: two_sided(r) and r.status == "open")
    link_id = select(qtbot, window, row)
    press(qtbot, window, key)
    stored = decision(cache_path, link_id)
    assert stored["choice"] == choice
    assert stored["status"] == ("skipped" if choice == "skip" else "chosen")
    # The recommendation stays beside the choice
    assert stored["rec_winner"] in ("apollo", "salesforce", "none")
    qtbot.waitUntil(lambda: window.model.row_data(row).choice == choice)
    assert window.model.data(window.model.index(row, DIRECTION_COLUMN)) == glyph
    assert window.model.data(window.model.index(row, DIRECTION_COLUMN),
                             Qt.ItemDataRole.FontRole).bold()


def test_revert_and_accept_keys(qtbot, window, cache_path):
    row = row_where(window, lambda r: two_sided(r) and r.rec_winner in ("apollo", "salesforce"))
    link_id = select(qtbot, window, row)
    rec = decision(cache_path, link_id)["rec_winner"]
    other = "salesforce" if rec == "apollo" else "apollo"
    press(qtbot, window, ">" if other == "apollo" else "<")
    assert decision(cache_path, link_id)["choice"] == other
    press(qtbot, window, "r")
    stored = decision(cache_path, link_id)
    assert stored["choice"] is None and stored["status"] == "open"
    press(qtbot, window, "a")
    assert decision(cache_path, link_id)["choice"] == rec


def test_a_multi_selection_takes_one_key(qtbot, window, cache_path):
    rows = [r for r in range(40) if two_sided(window.model.row_data(r))][:5]
    ids = [window.model.row_data(r).link_id for r in rows]
    window.select_row(rows[0])
    highlight_also(window, rows[1:])
    press(qtbot, window, "<")
    assert all(decision(cache_path, i)["choice"] == "salesforce" for i in ids)


def test_typed_value_is_validated_inline_then_stored(qtbot, window, cache_path):
    row = row_where(window, lambda r: two_sided(r) and r.status == "open")
    link_id = select(qtbot, window, row)
    qtbot.keyClick(window.table, "e")
    panel = window.panel
    assert panel.editor.isVisible()
    panel.editor_input.setText("not an address")
    assert panel.editor_error.isVisible() and "Salesforce would reject" in panel.editor_error.text()
    assert not panel.editor_ok.isEnabled()
    assert decision(cache_path, link_id)["choice"] is None
    panel.editor_input.setText("Jo.New@Example.org")
    assert not panel.editor_error.isVisible() and panel.editor_ok.isEnabled()
    with qtbot.waitSignal(window.operation_finished, timeout=5_000):
        qtbot.keyClick(panel.editor_input, Qt.Key.Key_Return)
    stored = decision(cache_path, link_id)
    assert (stored["choice"], stored["choice_email"]) == ("custom", "Jo.New@Example.org")
    assert not panel.editor.isVisible()
    # Esc from the editor goes back to the list
    qtbot.keyClick(window.table, "e")
    qtbot.keyClick(panel.editor_input, Qt.Key.Key_Escape)
    assert not panel.editor.isVisible() and window.table.hasFocus()


def test_go_without_both_systems_shows_the_plan_and_writes_nothing(qtbot, window, cache_path):
    # Given two chosen pairs
    rows = [r for r in range(60) if two_sided(window.model.row_data(r))][:2]
    ids = [window.model.row_data(r).link_id for r in rows]
    window.select_row(rows[0])
    window.table.selectionModel().select(window.model.index(rows[1], 0),
                                         window.table.selectionModel().SelectionFlag.Select
                                         | window.table.selectionModel().SelectionFlag.Rows)
    window.table.setFocus()
    press(qtbot, window, ">")
    with Cache(cache_path) as cache:
        expected = write_plan.plan(cache, link_ids=ids)
        before = cache.conn.execute("SELECT link_id, status, choice, apollo_email, sf_email "
                                    "FROM decisions ORDER BY link_id").fetchall()
    # When Go is pressed
    press(qtbot, window, "g", "confirm")
    dialog = open_dialogs(ConfirmWrites)[0]
    # Then the confirmation states the plan's counts
    assert expected.summary() in dialog.summary_label.text()
    assert f"To Salesforce: {expected.count('salesforce')}" in dialog.breakdown_label.text()
    assert dialog.write_button.text() == f"Write {len(expected.writes)} changes"
    # And with no system connected, confirming writes nothing and says so plainly
    with qtbot.waitSignal(window.operation_finished, timeout=5_000,
                          check_params_cb=lambda w: w == "write"):
        dialog.write_button.click()
    boxes = [b for b in open_dialogs(QMessageBox) if b.windowTitle() == "Nothing was written"]
    assert boxes and "Nothing was written to Apollo or Salesforce" in boxes[0].text()
    assert "choices are kept" in boxes[0].informativeText()
    with Cache(cache_path) as cache:
        after = cache.conn.execute("SELECT link_id, status, choice, apollo_email, sf_email "
                                   "FROM decisions ORDER BY link_id").fetchall()
        assert cache.conn.execute("SELECT count(*) FROM decisions WHERE status = 'applied'"
                                  ).fetchone()[0] == 0
    assert after == before
    for box in boxes:
        box.close()


def test_reconcile_all_confirms_the_strong_writes(qtbot, window, cache_path):
    with Cache(cache_path) as cache:
        expected = write_plan.plan(cache, strengths=("strong",))
    with qtbot.waitSignal(window.operation_finished, timeout=15_000,
                          check_params_cb=lambda w: w == "confirm"):
        window.act_reconcile.trigger()
    dialog = open_dialogs(ConfirmWrites)[0]
    assert expected.summary() in dialog.summary_label.text()
    assert len(dialog.plan.writes) == len(expected.writes)
    assert "strong" in dialog.summary_label.text()
    dialog.reject()
    with Cache(cache_path) as cache:
        assert cache.conn.execute("SELECT count(*) FROM decisions WHERE status = 'applied'"
                                  ).fetchone()[0] == 0


def slow_pull(seconds: float, started: threading.Event | None = None):
    """A pull that takes ``seconds`` (or until cancelled), standing in for a real one."""
    def pull(cache, connection, job):
        if started is not None:
            started.set()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            job.progress("pulling", int(100 * (1 - (end - time.monotonic()) / seconds)), 100)
            if job.cancelled:
                raise Cancelled("pull cancelled")
            time.sleep(0.01)
        return sync_steps.PullOutcome(True, "Pulled nothing new.")
    return pull


def test_cancel_stops_reconcile_all_and_leaves_the_cache_as_it_was(qtbot, window, cache_path,
                                                                   monkeypatch):
    started = threading.Event()
    monkeypatch.setattr(sync_steps, "pull", slow_pull(30, started))
    with Cache(cache_path) as cache:
        before = cache.conn.execute("SELECT * FROM decisions ORDER BY link_id").fetchall()
    window.act_reconcile.trigger()
    qtbot.waitUntil(started.is_set, timeout=5_000)
    qtbot.waitUntil(lambda: window.cancel_button.isVisible(), timeout=5_000)
    assert "Reconcile all" in window.progress_label.text()
    with qtbot.waitSignal(window.operation_finished, timeout=5_000,
                          check_params_cb=lambda w: w == "cancelled"):
        qtbot.mouseClick(window.cancel_button, Qt.MouseButton.LeftButton)
    assert not open_dialogs(ConfirmWrites)
    assert "Cancelled" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: not window.cancel_button.isVisible(), timeout=5_000)
    with Cache(cache_path) as cache:
        assert cache.conn.execute("SELECT * FROM decisions ORDER BY link_id").fetchall() == before
        assert cache.check_integrity() == []


def test_closing_the_cache_mid_operation_clears_the_progress(qtbot, window, monkeypatch):
    started = threading.Event()
    monkeypatch.setattr(sync_steps, "pull", slow_pull(30, started))
    window.act_reconcile.trigger()
    qtbot.waitUntil(started.is_set, timeout=5_000)
    qtbot.waitUntil(window.cancel_button.isVisible, timeout=5_000)
    window.close_cache()
    assert not window.cancel_button.isVisible() and not window.progress_bar.isVisible()
    assert window._job is None


def test_a_closed_confirmation_is_freed_with_its_plan(qtbot, window):
    dialog = window.confirm_plan(write_plan.WritePlan(), "Go", "Nothing chosen.")
    destroyed = []
    dialog.destroyed.connect(lambda: destroyed.append(True))
    dialog.reject()
    qtbot.waitUntil(lambda: destroyed == [True], timeout=5_000)


def test_the_event_loop_keeps_running_during_a_long_operation(qtbot, window, monkeypatch):
    monkeypatch.setattr(sync_steps, "pull", slow_pull(1.5))
    ticks = []
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    started = time.monotonic()
    with qtbot.waitSignal(window.operation_finished, timeout=15_000,
                          check_params_cb=lambda w: w == "confirm"):
        window.act_reconcile.trigger()
        # The window still answers while the operation runs: the filter box takes text
        qtbot.wait(200)
        window.filter_box.setText("zz")
    timer.stop()
    elapsed = time.monotonic() - started
    during = [t for t in ticks if t - started < 1.4]
    assert elapsed >= 1.5
    assert len(during) >= 35  # ~70 expected at 20 ms; a blocked loop would give almost none
    gaps = [b - a for a, b in zip(during, during[1:])]
    assert max(gaps) < 0.5
    for dialog in open_dialogs(ConfirmWrites):
        dialog.reject()


def test_the_filter_box_is_debounced_and_filters(qtbot, window, cache_path):
    with Cache(cache_path) as cache:
        name = cache.conn.execute(f"SELECT name FROM decisions WHERE {ATTENTION} LIMIT 1"
                                  ).fetchone()[0]
    applied = []
    window.filters.changed.connect(lambda: applied.append(window.filter_box.text()))
    with qtbot.waitSignal(window.model.query_settled, timeout=5_000):
        qtbot.keyClicks(window.filter_box, name)
    assert applied == [name]  # one filter for the whole name, not one per keystroke
    assert 0 < window.model.rowCount() <= 3
    assert window.model.row_data(0).name == name
    assert "matching" in window.counts_label.text()


def test_settings_save_redecides(qtbot, window, cache_path):
    from core.model import Preset
    from gui.settings_dialog import SettingsDialog

    window.act_settings.trigger()
    qtbot.waitUntil(lambda: bool(open_dialogs(SettingsDialog)), timeout=5_000)
    dialog = open_dialogs(SettingsDialog)[0]
    dialog.preset.setCurrentIndex(dialog.preset.findData(Preset.SALESFORCE_MASTER.value))
    assert dialog.settings().preset is Preset.SALESFORCE_MASTER
    with qtbot.waitSignal(window.operation_finished, timeout=15_000,
                          check_params_cb=lambda w: w == "settings"):
        dialog.accept()
    with Cache(cache_path) as cache:
        assert cache.conn.execute("SELECT count(*) FROM decisions WHERE rec_rule = "
                                  "'PRESET_SALESFORCE'").fetchone()[0] > 0


def test_link_these_links_a_suggested_pair(qtbot, window, cache_path):
    with Cache(cache_path) as cache:
        found = cache.conn.execute(
            "SELECT l.link_id, g.apollo_id, g.sf_id, d.name FROM link_suggestions g "
            "JOIN links l ON l.apollo_id = g.apollo_id JOIN decisions d ON d.link_id = l.link_id "
            "LIMIT 1").fetchone()
    assert found is not None, "the generated workspace has fuzzy suggestions"
    link_id, apollo_id, sf_id, name = found
    window.view_combo.setCurrentIndex(window.view_combo.findData("differing"))
    with qtbot.waitSignal(window.model.query_settled, timeout=5_000):
        window.filter_box.setText(name)
    row = window.model.find_row(link_id)
    assert row is not None
    select(qtbot, window, row)
    assert window.panel.suggestion_box.isVisible()
    assert "Possible match" in window.panel.suggestion_text.text()
    with qtbot.waitSignal(window.model.query_settled, timeout=10_000):
        window.panel.link_button.click()
    with Cache(cache_path) as cache:
        assert cache.conn.execute("SELECT method FROM links WHERE apollo_id = ? AND sf_id = ?",
                                  (apollo_id, sf_id)).fetchone() == ("fuzzy",)


def test_history_explains_what_is_missing(qtbot, window):
    from gui.history_dialog import RunHistoryDialog

    window.actions_by_name["history"].trigger()
    qtbot.waitUntil(lambda: bool(open_dialogs(RunHistoryDialog)), timeout=5_000)
    history = open_dialogs(RunHistoryDialog)[0]
    assert history.table.rowCount() >= 1
    assert not history.undo.isEnabled() and "write-back" in history.undo.toolTip()
    history.reject()


def test_title_shows_the_version(window):
    import core

    assert core.__version__ in window.windowTitle()


def test_demo_window_lets_apollo_sync_and_shows_the_result(qtbot, app):
    from gui.app import open_demo_window

    ready = []
    window, holder = open_demo_window(300, 5, on_ready=lambda w, s: ready.append(s))
    qtbot.addWidget(window)
    window.show()
    try:
        qtbot.waitUntil(lambda: bool(ready), timeout=30_000)
        assert window.banner.isVisible() and "Sandbox" in window.banner_text.text()
        assert "Sandbox" in window.windowTitle()
        qtbot.waitUntil(lambda: window.model.total is not None, timeout=10_000)
        window.activateWindow()
        window.sync_button.setFocus()
        with qtbot.waitSignal(window.operation_finished, timeout=30_000,
                              check_params_cb=lambda w: w == "synced"):
            qtbot.keyClick(window.sync_button, Qt.Key.Key_Space)
            # The button is off while Apollo syncs: the keyboard goes to the list, not the filter
            assert window.focusWidget() is window.table and not window.filter_box.hasSelectedText()
        assert "Apollo's sync saw" in window.statusBar().currentMessage()
        assert window.focusWidget() is window.table
        with Cache(ready[0].cache_path) as cache:
            assert cache.conn.execute("SELECT count(*) FROM runs WHERE kind = 'pull' AND "
                                      "status = 'complete'").fetchone()[0] == 1
    finally:
        window.close_cache()
        if holder.get("session") is not None:
            holder["session"].stop()


def test_run_history_tells_a_cancelled_run_from_a_done_one(qtbot, app):
    from gui.history_dialog import RunHistoryDialog

    runs = [{"run_id": 2, "kind": "reconcile", "started_at": "2026-12-04T10:00:00.000Z",
             "finished_at": "2026-12-04T10:00:05.000Z", "status": "cancelled", "summary": ""},
            {"run_id": 1, "kind": "reconcile", "started_at": "2026-12-04T09:00:00.000Z",
             "finished_at": "2026-12-04T09:00:05.000Z", "status": "done", "summary": ""}]
    dialog = RunHistoryDialog(runs)
    qtbot.addWidget(dialog)
    outcome = [dialog.table.item(row, 4).text() for row in range(2)]
    assert outcome == ["Cancelled by you (continues next time)", "Done"]


def test_a_key_reports_exactly_the_pair_it_changed_through_one_signal(qtbot, window):
    row = row_where(window, lambda r: two_sided(r) and r.status == "open")
    link_id = select(qtbot, window, row)
    with qtbot.waitSignal(window.changes, timeout=5_000) as changed:
        qtbot.keyClick(window.table, "/")
    assert changed.args[0].link_ids == {link_id} and not changed.args[0].all_pairs
    # The row shows it without the list being read again
    qtbot.waitUntil(lambda: window.model.row_data(row).choice == "skip")
    assert window.model.row_data(row).link_id == link_id
