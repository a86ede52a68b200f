"""The operation helper: one serial writer, a reader, results on the main thread, one
presenter that stays silent on cancel."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QMessageBox

from core.sync.choices import ChoiceError
from core.sync.reconcile import Cancelled
from gui import errors
from gui.tasks import PRIO_BACKGROUND, PRIO_PAGE, CacheOp, QueryOp, TaskManager


@pytest.fixture
def tasks(app, cache_path):
    manager = TaskManager(cache_path)
    yield manager
    manager.close()


def test_results_come_back_on_the_main_thread(qtbot, tasks):
    seen = {}

    def op(cache):
        seen["worker"] = threading.current_thread().name
        return cache.conn.execute("SELECT count(*) FROM decisions").fetchone()[0]

    done = []
    CacheOp(tasks, op).success(lambda n: done.append((n, QThread.currentThread()))).run_in_background()
    qtbot.waitUntil(lambda: bool(done), timeout=5_000)
    assert done[0][0] > 0
    assert done[0][1] is QThread.currentThread()  # the test runs on the main thread
    assert seen["worker"].startswith("concord-write")


def test_writes_run_one_after_another_in_order(qtbot, tasks):
    order = []
    for i in range(20):
        CacheOp(tasks, lambda cache, i=i: order.append(i) or i).run_in_background()
    qtbot.waitUntil(lambda: len(order) == 20, timeout=5_000)
    assert order == list(range(20))


def test_the_reader_runs_pages_before_background_work(qtbot, tasks):
    gate = threading.Event()
    order = []
    QueryOp(tasks, lambda r: gate.wait(5), priority=PRIO_BACKGROUND).run_in_background()
    QueryOp(tasks, lambda r: order.append("background"), priority=PRIO_BACKGROUND).run_in_background()
    QueryOp(tasks, lambda r: order.append("page"), priority=PRIO_PAGE).run_in_background()
    gate.set()
    qtbot.waitUntil(lambda: len(order) == 2, timeout=5_000)
    assert order == ["page", "background"]


def test_a_stale_long_read_is_interrupted(qtbot, tasks):
    failures = []
    slow = ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000000) "
            "SELECT count(*) FROM n")
    QueryOp(tasks, lambda r: r.cache.conn.execute(slow).fetchone(), tag=("list", 1)) \
        .failure(failures.append).run_in_background()
    qtbot.wait(100)
    tasks.reader.drop(lambda tag: tag == ("list", 1))
    answers = []
    QueryOp(tasks, lambda r: 42).success(answers.append).run_in_background()
    qtbot.waitUntil(lambda: bool(answers), timeout=5_000)
    assert answers == [42] and failures == []  # the dropped job reports nothing


def test_errors_go_to_the_presenter_and_cancel_is_silent(qtbot, tasks, monkeypatch):
    shown = []
    monkeypatch.setattr(errors, "show_exception", lambda parent, exc: shown.append(exc))

    def cancelled(cache):
        raise Cancelled("user cancelled")

    def bad_choice(cache):
        raise ChoiceError("'x' cannot be used: the address must contain exactly one @")

    CacheOp(tasks, bad_choice).run_in_background()
    qtbot.waitUntil(lambda: bool(shown), timeout=5_000)
    assert isinstance(shown[0], ChoiceError)
    CacheOp(tasks, cancelled).run_in_background()
    qtbot.waitUntil(lambda: not tasks.busy, timeout=5_000)
    monkeypatch.undo()
    assert errors.show_exception(None, Cancelled("x")) is None
    assert errors.show_exception(None, sqlite3.OperationalError("interrupted")) is None
    message = errors.show_exception(None, ChoiceError("'x' cannot be used: bad"))
    assert isinstance(message, QMessageBox) and "cannot be used" in message.text()
    message.close()


def test_progress_and_cancel_of_a_long_operation(qtbot, tasks):
    reports = []
    tasks.progress.connect(lambda label, phase, done, total: reports.append((phase, done)))

    def long(cache, job):
        for i in range(1000):
            job.progress("step", i, 1000)
            if job.cancelled:
                raise Cancelled("stopped")
            threading.Event().wait(0.002)
        return "finished"

    failures = []
    op = CacheOp(tasks, long).with_progress("Long").failure(failures.append)
    op.run_in_background()
    qtbot.waitUntil(lambda: bool(reports), timeout=5_000)
    op.job.cancel.set()
    qtbot.waitUntil(lambda: bool(failures), timeout=5_000)
    assert isinstance(failures[0], Cancelled)
    assert not tasks.busy
