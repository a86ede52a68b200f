"""Shared test set-up, one place for every test package: Qt offscreen, an in-memory keyring,
TLS material, sandboxes and caches. No test reaches a real keyring or the network."""

import os
from datetime import datetime, timezone

import keyring
import pytest

from core.sandbox import tls
from core.sandbox.dataset import Dataset, write_cache
from core.store.cache import Cache
from core.sync.reconcile import reconcile
from tests.harness import sandbox
from tests.memory_keyring import MemoryKeyring

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# The time the generated workspace is reconciled at.
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def memory_keyring():
    """Concord's secrets go to a fresh in-memory keyring for the test."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(scope="session")
def tls_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("sources-tls")


@pytest.fixture(scope="session")
def tls_material(tls_dir):
    return tls.generate(tls_dir)


@pytest.fixture
def small_sandbox(tls_dir):
    """A fresh 400-pair sandbox per test (faults and data changes never leak)."""
    running = sandbox(tls_dir=tls_dir)
    yield running
    running.stop()


@pytest.fixture
def cache(tmp_path):
    """A fresh cache file for the test."""
    with Cache(tmp_path / "cache.sqlite") as opened:
        yield opened


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A 3,000-pair generated workspace, reconciled once (copied per test that changes it)."""
    path = tmp_path_factory.mktemp("gen") / "cache.sqlite"
    dataset = Dataset(3000, seed=11, now=NOW)
    with Cache(path) as cache:
        write_cache(cache, dataset)
        summary = reconcile(cache, now=NOW)
        cache.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path, dataset, summary
