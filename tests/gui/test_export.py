"""The window's Export: the list's current filter, written in the background, cancellable."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt

from core import rules
from core.report import rows as report_rows
from core.report.read import read_report
from core.store.cache import Cache
from core.store.pairs import ListReader
from gui import operations
from gui.export_dialog import ExportDialog
from tests.gui.test_main_window import open_dialogs


def filter_by_rule(qtbot, window, rule: str) -> None:
    window.rule_combo.setCurrentIndex(window.rule_combo.findData(rule))
    qtbot.waitUntil(lambda: window.model.query.rule == rule and window.model.total is not None,
                    timeout=10_000)


def listed_names(cache_path, query) -> list[str]:
    with Cache(cache_path) as cache:
        reader = ListReader(cache)
        total = reader.snapshot(query, "t")
        return [r.name for r in reader.page("t", 0, total + 1)]


def test_the_dialog_exports_the_filtered_rows(qtbot, window, cache_path, tmp_path):
    filter_by_rule(qtbot, window, rules.Q_BOUNCED)
    expected = listed_names(cache_path, window.current_query())
    assert 0 < len(expected) < window.counts["pairs"]
    window.actions_by_name["export"].trigger()
    dialog = open_dialogs(ExportDialog)[0]
    assert dialog.export_button.isEnabled()
    assert f"{len(expected):,} pairs" in dialog.intro.text() and "Q_BOUNCED" in dialog.intro.text()
    dialog.buttons["html"].setChecked(True)
    with qtbot.waitSignal(window.operation_finished, timeout=15_000,
                          check_params_cb=lambda what: what == "exported"):
        dialog.request(str(tmp_path / "bounced"))  # the suffix is added
    titles, rows = read_report(tmp_path / "bounced.html")
    assert [r[titles.index("Person")] for r in rows] == expected
    assert "bounced.html" in window.statusBar().currentMessage()


def test_an_export_follows_sort_and_search_and_can_compare(qtbot, window, cache_path, tmp_path):
    window.export_report(str(tmp_path / "all.csv"), "csv")
    qtbot.waitUntil(lambda: (tmp_path / "all.csv").exists(), timeout=15_000)
    window.filter_box.setText("an")
    qtbot.waitUntil(lambda: window.model.query.text == "an" and window.model.total is not None,
                    timeout=10_000)
    with qtbot.waitSignal(window.operation_finished, timeout=15_000,
                          check_params_cb=lambda what: what == "exported"):
        window.export_report(str(tmp_path / "an.xlsx"), "xlsx", previous=str(tmp_path / "all.csv"))
    titles, rows = read_report(tmp_path / "an.xlsx")
    rows = list(rows)
    current = [r for r in rows if r[0] != "resolved"]
    assert [r[titles.index("Person")] for r in current] == listed_names(
        cache_path, window.current_query())
    assert {r[0] for r in current} == {"still open"}
    assert "resolved" in window.statusBar().currentMessage()


def test_cancel_stops_a_long_export_and_writes_nothing(qtbot, window, tmp_path, monkeypatch):
    slow_facts = report_rows.pair_facts

    def pair_facts(*args, **kwargs):
        time.sleep(0.05)
        return slow_facts(*args, **kwargs)

    monkeypatch.setattr(report_rows, "pair_facts", pair_facts)
    original = operations.conflict_report
    monkeypatch.setattr(operations, "conflict_report",
                        lambda *a, **k: original(*a, **{**k, "batch": 5}))
    out = tmp_path / "out"
    out.mkdir()
    window.export_report(str(out / "slow.csv"), "csv")
    qtbot.waitUntil(lambda: window.cancel_button.isVisible()
                    and "Exporting report: rows" in window.progress_label.text(), timeout=10_000)
    with qtbot.waitSignal(window.operation_finished, timeout=10_000,
                          check_params_cb=lambda what: what == "cancelled"):
        qtbot.mouseClick(window.cancel_button, Qt.MouseButton.LeftButton)
    assert list(out.iterdir()) == []
    assert "no file was written" in window.statusBar().currentMessage()
