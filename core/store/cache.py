"""The local SQLite cache: one file per workspace, created 0600 in a 0700 directory, WAL.

The schema is versioned by ``PRAGMA user_version`` and built by the table of migrations in
:mod:`core.store.migrations`; opening a file runs whatever steps it lacks, each in its own
transaction. A file that is not a Concord cache, or is damaged, raises
:class:`CacheCorrupt` naming the file and how to recover, and is never re-created silently.

The remote records in the cache can always be pulled again; the user's choices, the base
and the run history cannot, which is why a damaged file is moved aside, never deleted.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import stat
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

import sqlite_utils

from core.model import UTC
from core.store.migrations import APPLICATION_ID, SCHEMA_VERSION, migrate


class CacheError(Exception):
    """The cache cannot be used; the message names the file and what to do."""


class CacheCorrupt(CacheError):
    """The file is damaged or is not a Concord cache."""


class CacheTooNew(CacheError):
    """The file was written by a newer Concord with a schema this one does not know."""


class CacheOfAnotherOrigin(CacheError):
    """The cache holds another Salesforce org's or Apollo team's records."""


ORIGIN_NAMES = {"salesforce": "Salesforce organization", "apollo": "Apollo team"}


ID_CHUNK = 900  # ids per ``IN (...)`` list: under SQLite's bound-parameter limit


def now_iso() -> str:
    """The current UTC time in the cache's timestamp format."""
    return iso(datetime.now(UTC))


def iso(when: datetime | None) -> str | None:
    """A datetime in the cache's sortable format: ``2026-03-01T09:00:00.000Z``."""
    if when is None:
        return None
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def parse_time(text: str | None) -> datetime | None:
    """Parse an ISO-8601 time (``Z``, ``+00:00`` or Salesforce's ``+0000``) to aware UTC."""
    if not text:
        return None
    if len(text) == 24 and text[-1] == "Z":
        return datetime.fromisoformat(text)  # the cache's own format: already UTC
    if text.endswith(("+0000", "-0000")) and text[-5] in "+-" and text[-6] != ":":
        text = text[:-5] + "+00:00"
    when = datetime.fromisoformat(text)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


PAGE_SIZE = 16384


def _create_private_file(path: Path) -> None:
    """Create the database file 0600 (and its directory 0700) before SQLite touches it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not path.exists():
            fd = os.open(path, os.O_CREAT | os.O_RDWR | os.O_EXCL, 0o600)
            os.close(fd)
    except OSError as exc:
        raise CacheError(f"Cannot create the cache {path}: {exc.strerror}. Choose a writable "
                         f"place with --cache, or make {exc.filename or path.parent} "
                         f"writable.") from None


def _check_header(path: Path, empty_ok: bool = True) -> None:
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            header = fh.read(100)
    except OSError as exc:
        raise CacheError(f"Cannot read the cache {path}: {exc.strerror}. Check its permissions "
                         f"or name another file with --cache.") from None
    if size == 0:
        if empty_ok:
            return  # a brand-new file (ours, or one a crash left before SQLite wrote to it)
        raise CacheCorrupt(f"{path} is empty (0 bytes): it holds no cache yet. Nothing was "
                           f"changed; a pull builds the cache there.")
    if not header.startswith(b"SQLite format 3\x00"):
        raise CacheCorrupt(_damaged_message(path, "it is not an SQLite database"))
    app_id = int.from_bytes(header[68:72], "big")
    if app_id not in (0, APPLICATION_ID):
        raise CacheCorrupt(_damaged_message(path, "it belongs to another program", foreign=True))
    # The header records the database size; a shorter file was cut off (a copy or a crash).
    page_size = int.from_bytes(header[16:18], "big") or 65536
    pages = int.from_bytes(header[28:32], "big")
    valid_for = int.from_bytes(header[24:28], "big") == int.from_bytes(header[92:96], "big")
    if valid_for and pages and size < pages * page_size:
        raise CacheCorrupt(_damaged_message(
            path, f"it is cut short ({size:,} of {pages * page_size:,} bytes)"))


def _refuse_non_file(path: Path, way_out: str) -> None:
    """A folder, a device or any other special file is never opened or moved as a cache."""
    if path.is_dir():
        raise CacheError(f"{path} is a folder, not a cache file; {way_out}")
    if path.exists() and not path.is_file():
        raise CacheError(f"{path} is not a regular file (a device, pipe or socket), so it "
                         f"cannot be a cache; {way_out}")


def _check_writable(path: Path) -> None:
    """Refuse, with the way out, a cache that cannot be written (a read-only file, folder or
    disk): SQLite's own error would only say it cannot open the file."""
    for target, what in ((path, "file"), (path.parent, "folder")):
        if not os.access(target, os.W_OK):
            raise CacheError(
                f"Cannot write the cache {path}: its {what} is read-only. Nothing was changed; "
                f"make it writable, or copy the cache to a writable place and name it with "
                f"--cache.")


def _connect(path: Path, read_only: bool) -> sqlite3.Connection:
    if read_only:
        # Without a WAL to replay, immutable=1 opens the file with no side files and no locks.
        immutable = "" if Path(f"{path}-wal").exists() else "&immutable=1"
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro{immutable}", uri=True,
                               isolation_level=None, check_same_thread=False, timeout=10.0)
        conn.execute("PRAGMA query_only=1")
        return conn
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10.0)
    # Takes effect only on a new, empty file: 16 KiB pages make bulk upserts about a
    # quarter cheaper than the 4 KiB default (bench/pull.py measures ingest).
    conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=10000")
    conn.execute("PRAGMA cache_size=-65536")
    conn.execute("PRAGMA temp_store=MEMORY")
    return conn


def _check_owner(conn: sqlite3.Connection, version: int) -> None:
    """What :func:`migrate` checks before it writes: the file is a Concord cache."""
    if version == 0:
        raise sqlite3.DatabaseError("the file is an SQLite database of another program"
                                    if conn.execute("SELECT count(*) FROM sqlite_master"
                                                    ).fetchone()[0]
                                    else "it holds no Concord tables yet")
    if conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
        raise sqlite3.DatabaseError("the file is an SQLite database of another program")


def _damaged_message(path: Path, what: str, foreign: bool = False) -> str:
    if foreign:
        return (f"Cannot use {path}: {what}. Concord leaves it untouched; choose another "
                f"workspace or move the file away.")
    return (f"Cannot use the cache {path}: {what}. Nothing was changed. The records in it can be "
            f"pulled again: run `concord cache quarantine --path \"{path}\"` (or move the file "
            f"aside yourself) and pull again. Keep the moved file: it holds your choices and "
            f"run history.")


class Cache:
    """An open workspace cache. Use one per thread; writes go through :meth:`transaction`.

    ``read_only`` opens an existing cache without creating, migrating or changing anything
    (``concord cache check``, ``concord runs``); a cache without a write-ahead log is then
    opened as immutable, so not even SQLite's side files appear beside it.
    """

    def __init__(self, path: str | os.PathLike, *, create: bool = True, read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only
        _refuse_non_file(self.path, "name the file itself (a workspace's cache is its "
                                    "cache.sqlite).")
        if self.path.exists():
            _check_header(self.path, empty_ok=create and not read_only)
            if not read_only:
                _check_writable(self.path)
        elif create and not read_only:
            _create_private_file(self.path)
        else:
            raise CacheError(f"No cache at {self.path}; pull a workspace first.")
        try:
            conn = _connect(self.path, read_only)
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise CacheCorrupt(_damaged_message(self.path, f"SQLite says '{exc}'")) from None
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        if version > SCHEMA_VERSION:
            conn.close()
            raise CacheTooNew(f"The cache {self.path} has schema version {version}; this Concord "
                              f"knows up to {SCHEMA_VERSION}. Update Concord to open it.")
        try:
            if read_only:
                _check_owner(conn, version)
            else:
                migrate(conn)
        except sqlite3.DatabaseError as exc:
            conn.close()
            foreign = "another program" in str(exc)
            raise CacheCorrupt(_damaged_message(
                self.path, "it belongs to another program" if foreign else f"SQLite says '{exc}'",
                foreign=foreign)) from None

    # -- plumbing ---------------------------------------------------------------------------

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Cache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction: committed on success, rolled back on any error. A write
        SQLite refuses (a full disk, a read-only file, a lock held too long) is a
        :class:`CacheError` naming the file."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                if self.conn.in_transaction:  # SQLite has already rolled back after an I/O error
                    self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            if "interrupted" in str(exc):  # a cancel (Connection.interrupt), not a fault
                raise
            way_out = ("another Concord (the window, or a scheduled run) is writing it; run "
                       "again when that is done" if "locked" in str(exc) else
                       "check that the disk has room and the file is writable, then run again")
            raise CacheError(f"Cannot write the cache {self.path}: SQLite says '{exc}'. Nothing "
                             f"of this step was saved; {way_out}.") from exc

    def check_integrity(self) -> list[str]:
        """Problems ``PRAGMA quick_check`` reports; an empty list means the file is sound."""
        try:
            rows = [r[0] for r in self.conn.execute("PRAGMA quick_check")]
        except sqlite3.DatabaseError as exc:
            return [str(exc)]
        return [] if rows == ["ok"] else rows

    def version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    # -- small key/value state --------------------------------------------------------------

    def get_state(self, key: str, default=None):
        """A value from ``sync_state`` (watermarks, API usage), JSON-decoded."""
        row = self.conn.execute("SELECT value FROM sync_state WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def set_state(self, key: str, value) -> None:
        """Store a value in ``sync_state``; call inside a transaction to commit it with data."""
        self.conn.execute(
            "INSERT INTO sync_state(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value)),
        )

    def check_origin(self, system: str, origin: str | None) -> None:
        """Note which org (``salesforce``) or team (``apollo``) the records come from on the
        first pull; refuse, before anything is written, to mix in another one's."""
        if not origin:
            return
        key = f"origin_{system}"
        known = self.get_state(key)
        if known is None:
            with self.transaction():
                self.set_state(key, origin)
        elif known != origin:
            what = ORIGIN_NAMES.get(system, system)
            raise CacheOfAnotherOrigin(
                f"The cache {self.path} holds the records of {what} {known}, not of {origin} "
                f"that this connection reaches. Nothing was pulled into it; use that "
                f"workspace's own cache, or name a new file with --cache.")

    def next_seq(self) -> int:
        """A new change number; every row written in a batch carries it (incremental runs)."""
        seq = int(self.get_state("seq", 0)) + 1
        self.set_state("seq", seq)
        return seq

def quarantine(path: str | os.PathLike, *, force: bool = False) -> Path:
    """Move a damaged cache (and its WAL/SHM sidecars) aside under a name no earlier
    quarantine holds; return where it went. A sound cache is moved only with ``force``;
    a failed move puts back what it had moved."""
    path = Path(path)
    _refuse_non_file(path, "nothing was moved.")
    if not path.exists():
        raise CacheError(f"There is no file at {path}; nothing was moved.")
    if not force and not _looks_like_cache(path):
        raise CacheError(f"{path} does not look like a Concord cache (not a .sqlite file, no "
                         f"Concord mark inside); nothing was moved. Add --force if it really "
                         f"is your cache.")
    if not force:
        try:
            with Cache(path, read_only=True) as cache:
                problems, version = cache.check_integrity(), cache.version()
        except CacheError:
            problems = ["damaged"]
        if not problems:
            raise CacheError(f"{path} is a sound cache (schema version {version}); nothing was "
                             f"moved. Quarantine is for a damaged cache; add --force to move "
                             f"it aside anyway.")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target, n = path.with_name(f"{path.name}.damaged-{stamp}"), 1
    while any(Path(f"{target}{s}").exists() for s in ("", "-wal", "-shm")):
        n += 1
        target = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    moved: list[tuple[Path, Path]] = []
    try:
        for suffix in ("", "-wal", "-shm"):
            src = Path(f"{path}{suffix}")
            if src.exists():
                src.rename(Path(f"{target}{suffix}"))
                moved.append((src, Path(f"{target}{suffix}")))
    except OSError as exc:
        for src, dst in reversed(moved):
            dst.rename(src)
        raise CacheError(f"Cannot move {path} aside: {exc.strerror}. Nothing was moved; make "
                         f"its folder writable, or copy the file elsewhere yourself.") from None
    return target


def _looks_like_cache(path: Path) -> bool:
    """Named like a cache, or marked inside as one: what quarantine may move unasked."""
    if path.suffix == ".sqlite":
        return True
    try:
        with open(path, "rb") as fh:
            header = fh.read(100)
    except OSError:
        return False
    return (header.startswith(b"SQLite format 3\x00")
            and int.from_bytes(header[68:72], "big") == APPLICATION_ID)


def file_mode(path: str | os.PathLike) -> int:
    """The permission bits of a file (for checks and tests)."""
    return stat.S_IMODE(os.stat(path).st_mode)


# -- schema -------------------------------------------------------------------------------

def chunked(rows: Iterable, size: int = ID_CHUNK) -> Iterator[list]:
    """Split an iterable into lists of at most ``size`` items (by default, ids for one
    ``WHERE id IN (...)``)."""
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
