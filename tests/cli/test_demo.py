"""The demo session: a sandbox and a cache that leave nothing behind when stopped."""

import tempfile

from core.sync.demo import start_demo


def test_stopping_the_demo_leaves_no_key_or_cache_behind(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    session = start_demo(records=30, seed=3)
    try:
        assert session.cache_path.exists()
        assert any(p.name.startswith("concord-") for p in tmp_path.iterdir())
    finally:
        session.stop()
    assert list(tmp_path.iterdir()) == [], "the demo left files (a TLS key) behind"
