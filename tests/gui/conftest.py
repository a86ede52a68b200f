"""GUI test set-up: one QApplication (pytest-qt's), offscreen, an in-memory keyring, a
private CONCORD_HOME, and small reconciled workspaces generated once per session."""

from __future__ import annotations

import shutil

import pytest


@pytest.fixture(autouse=True)
def private_keyring(memory_keyring):
    """Every window test gets the in-memory keyring (tests/conftest.py)."""
    return memory_keyring


@pytest.fixture(autouse=True)
def concord_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("CONCORD_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def reconciled_template(tmp_path_factory):
    """A generated workspace (the demo's mix), written and reconciled once per session."""
    from core.sandbox.dataset import Dataset, write_cache
    from core.store.cache import Cache
    from core.sync.reconcile import reconcile

    path = tmp_path_factory.mktemp("template") / "cache.sqlite"
    dataset = Dataset(600, seed=11)
    with Cache(path) as cache:
        write_cache(cache, dataset)
        reconcile(cache, now=dataset.now)
        cache.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def cache_path(reconciled_template, tmp_path):
    """A private copy of the reconciled workspace."""
    target = tmp_path / "work" / "cache.sqlite"
    target.parent.mkdir(mode=0o700)
    shutil.copy(reconciled_template, target)
    return target


@pytest.fixture
def app(qapp):
    from gui.icons import apply_style

    apply_style(qapp)
    return qapp


@pytest.fixture
def window(app, qtbot, cache_path):
    """The main window on the reconciled workspace, its list loaded."""
    from core.sync.connections import Connection
    from gui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.open_cache(cache_path, Connection())
    win.show()
    qtbot.waitUntil(lambda: win.model.total is not None and bool(win.counts), timeout=10_000)
    yield win
    win.close_cache()
