"""Fixtures of the workflow tests: a generated workspace reconciled once."""

from datetime import datetime, timezone

import pytest

from core.sandbox.dataset import Dataset, write_cache
from core.store.cache import Cache
from core.sync.reconcile import reconcile

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


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
