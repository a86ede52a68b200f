"""Report fixtures: a generated, reconciled workspace shared by the module's tests."""

import pytest

from core.store.cache import Cache

NOW_SEED = 5


@pytest.fixture(scope="session")
def generated_cache(tmp_path_factory):
    """A 1,500-pair generated workspace (every situation of the rule table), reconciled,
    with a few choices stored; read-only for the tests."""
    from core.sandbox.dataset import Dataset, write_cache
    from core.sync import choices
    from core.sync.reconcile import reconcile

    path = tmp_path_factory.mktemp("report-gen") / "cache.sqlite"
    dataset = Dataset(1500, seed=NOW_SEED)
    with Cache(path) as cache:
        write_cache(cache, dataset)
        reconcile(cache, now=dataset.now)
        ids = [r[0] for r in cache.conn.execute(
            "SELECT link_id FROM decisions WHERE status = 'open' ORDER BY link_id LIMIT 3")]
        choices.set_choice(cache, ids[:2], "apollo")
        choices.set_choice(cache, ids[2:], "skip")
        cache.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path
