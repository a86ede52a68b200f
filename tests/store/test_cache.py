"""The cache file: schema migrations, private permissions, and clear errors for bad files."""

import os
import sqlite3
import stat

import pytest

from core.store import cache as cache_mod
from core.store.cache import (
    SCHEMA_VERSION,
    Cache,
    CacheCorrupt,
    CacheTooNew,
    file_mode,
    migrate,
    quarantine,
)


def tables(conn) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_a_new_cache_is_created_private_with_the_whole_schema(tmp_path):
    path = tmp_path / "ws" / "cache.sqlite"
    with Cache(path) as cache:
        assert cache.version() == SCHEMA_VERSION
        assert {"apollo_contacts", "sf_records", "links", "decisions", "base", "observations",
                "sf_email_history", "runs", "sync_state", "settings"} <= tables(cache.conn)
        assert cache.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert cache.conn.execute("PRAGMA page_size").fetchone()[0] == cache_mod.PAGE_SIZE
        with cache.transaction():
            cache.set_state("probe", 1)
    assert file_mode(path) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    for sidecar in ("-wal", "-shm"):
        side = str(path) + sidecar
        if os.path.exists(side):
            assert file_mode(side) == 0o600


def test_migrating_from_the_previous_version_keeps_the_records(tmp_path):
    path = tmp_path / "cache.sqlite"
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, target=SCHEMA_VERSION - 1)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION - 1
    conn.execute("INSERT INTO apollo_contacts (id, email, email_key, pulled_at) "
                 "VALUES ('a1', 'Jo@Acme.com', 'jo@acme.com', '2026-01-01T00:00:00.000Z')")
    conn.close()
    with Cache(path) as cache:
        assert cache.version() == SCHEMA_VERSION
        assert cache.conn.execute("SELECT email FROM apollo_contacts").fetchone()[0] == "Jo@Acme.com"
        # An existing file keeps the page size it was made with.
        assert cache.conn.execute("PRAGMA page_size").fetchone()[0] == 4096
        assert "decisions" in tables(cache.conn)


def test_migrating_an_up_to_date_file_changes_nothing(tmp_path):
    path = tmp_path / "cache.sqlite"
    with Cache(path) as cache:
        schema = cache.conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
    before = path.read_bytes()
    with Cache(path) as cache:
        assert cache.version() == SCHEMA_VERSION
        assert cache.conn.execute(
            "SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall() == schema
    # Not a byte of the file moved: no migration ran, nothing was rewritten.
    assert path.read_bytes() == before


def test_a_garbage_file_gives_a_clear_error_and_is_left_alone(tmp_path):
    path = tmp_path / "cache.sqlite"
    path.write_bytes(b"hello, this is not sqlite at all" * 10)
    with pytest.raises(CacheCorrupt) as error:
        Cache(path)
    message = str(error.value)
    assert str(path) in message and "not an SQLite database" in message
    assert "quarantine" in message and "Traceback" not in message
    assert path.read_bytes() == b"hello, this is not sqlite at all" * 10


def test_a_truncated_cache_gives_a_clear_error(tmp_path):
    path = tmp_path / "cache.sqlite"
    with Cache(path) as cache:
        with cache.transaction():
            cache.conn.executemany(
                "INSERT INTO apollo_contacts (id, email, email_key, pulled_at) VALUES (?, ?, ?, ?)",
                [(f"a{i}", f"p{i}@x.com", f"p{i}@x.com", "t") for i in range(3000)])
        cache.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(CacheCorrupt) as error:
        Cache(path)
    assert str(path) in str(error.value) and "cut short" in str(error.value)


def test_flipped_bytes_inside_are_found_by_the_integrity_check(tmp_path):
    path = tmp_path / "cache.sqlite"
    with Cache(path) as cache:
        with cache.transaction():
            cache.conn.executemany(
                "INSERT INTO sf_records (id, object, email, email_key, pulled_at) VALUES (?,?,?,?,?)",
                [(f"003{i:015d}", "Contact", f"p{i}@x.com", f"p{i}@x.com", "t") for i in range(4000)])
        cache.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    # Across the middle third, so the damage hits pages that hold rows whatever the layout
    # (a few bytes in the unused part of an empty index page would go unnoticed).
    for offset in range(len(data) // 3, 2 * len(data) // 3, 7):
        data[offset] ^= 0xFF
    path.write_bytes(bytes(data))
    try:
        with Cache(path) as cache:
            problems = cache.check_integrity()
    except CacheCorrupt as error:  # the damage may already show when opening
        assert str(path) in str(error)
    else:
        assert problems


def test_another_programs_database_is_refused_not_overwritten(tmp_path):
    path = tmp_path / "other.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.execute("INSERT INTO notes VALUES ('keep me')")
    conn.commit()
    conn.close()
    with pytest.raises(CacheCorrupt, match="another program"):
        Cache(path)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT body FROM notes").fetchone()[0] == "keep me"


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "cache.sqlite"
    Cache(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(CacheTooNew, match="Update Concord"):
        Cache(path)


def test_quarantine_moves_the_file_and_its_sidecars_aside(tmp_path):
    path = tmp_path / "cache.sqlite"
    path.write_bytes(b"junk")
    (tmp_path / "cache.sqlite-wal").write_bytes(b"wal")
    moved = quarantine(path)
    assert not path.exists() and moved.exists()
    assert os.path.exists(str(moved) + "-wal")


def test_two_quarantines_in_one_second_keep_both_files(tmp_path, monkeypatch):
    """The moved file holds the user's choices: a second move never overwrites the first."""
    monkeypatch.setattr(cache_mod.time, "strftime", lambda *_: "20261204-120000")
    path = tmp_path / "cache.sqlite"
    path.write_bytes(b"first damaged copy")
    first = quarantine(path)
    path.write_bytes(b"second damaged copy")
    second = quarantine(path)
    assert first != second
    assert first.read_bytes() == b"first damaged copy"
    assert second.read_bytes() == b"second damaged copy"


@pytest.mark.parametrize("situation, name, make, says", [
    ("nothing there", "cache.sqlite", lambda p: None, "no file"),
    ("a folder", "cache.sqlite", lambda p: p.mkdir(), "folder"),
    ("a sound cache", "cache.sqlite", lambda p: Cache(p).close(), "sound cache"),
    ("a system file named by mistake", "passwd", lambda p: p.write_text("root:x:0:0:root\n"),
     "does not look like a Concord cache"),
])
def test_quarantine_refuses_what_is_not_a_damaged_cache(tmp_path, situation, name, make, says):
    path = tmp_path / name
    make(path)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(cache_mod.CacheError, match=says):
        quarantine(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == before, situation


def test_a_damaged_cache_under_another_name_is_known_by_its_mark(tmp_path):
    path = tmp_path / "copy-of-my-cache"
    Cache(path).close()
    with open(path, "r+b") as fh:
        fh.truncate(path.stat().st_size // 2)
    assert quarantine(path).exists() and not path.exists()


def test_a_sound_cache_moves_only_when_forced(tmp_path):
    path = tmp_path / "cache.sqlite"
    Cache(path).close()
    assert quarantine(path, force=True).exists() and not path.exists()


def test_reading_only_never_creates_migrates_or_leaves_side_files(tmp_path):
    path = tmp_path / "cache.sqlite"
    conn = sqlite3.connect(path)
    migrate(conn, target=SCHEMA_VERSION - 1)
    conn.close()
    before = path.read_bytes()
    with Cache(path, read_only=True) as cache:
        assert cache.version() == SCHEMA_VERSION - 1
        assert cache.check_integrity() == []
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache.sqlite"]
    with pytest.raises(cache_mod.CacheError, match="No cache"):
        Cache(tmp_path / "other.sqlite", read_only=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache.sqlite"]


def test_transactions_roll_back_on_error(tmp_path):
    with Cache(tmp_path / "c.sqlite") as cache:
        with pytest.raises(RuntimeError):
            with cache.transaction():
                cache.set_state("watermark", "x")
                raise RuntimeError("killed mid-batch")
        assert cache.get_state("watermark") is None


@pytest.mark.parametrize("text, expected", [
    ("2026-03-01T09:00:00Z", "2026-03-01T09:00:00.000Z"),
    ("2026-03-01T09:00:00.123+0000", "2026-03-01T09:00:00.123Z"),
    ("2026-03-01T11:00:00+02:00", "2026-03-01T09:00:00.000Z"),
    ("2026-03-01T09:00:00", "2026-03-01T09:00:00.000Z"),
])
def test_times_from_both_apis_read_the_same(text, expected):
    assert cache_mod.iso(cache_mod.parse_time(text)) == expected


def test_a_cache_another_concord_is_writing_says_so(tmp_path):
    path = tmp_path / "cache.sqlite"
    with Cache(path) as writer, Cache(path) as waiting:
        waiting.conn.execute("PRAGMA busy_timeout = 0")
        with writer.transaction():
            with pytest.raises(cache_mod.CacheError, match="another Concord .* is writing it"):
                with waiting.transaction():
                    pass
