"""Apollo's side of the sandbox: contacts, stages and labels in SQLite.

Contacts are kept as their wire JSON (exactly what the API serves) next to the few columns
that searching, sorting and linking need, so a million of them fit on disk with a small
page cache instead of in memory. Every public method is safe to call from any thread: one
connection, one lock, short statements.

Searches run the way Apollo's do: filters, a sort, and a display cap of 50,000 records.
The ordered ids of the first 50,000 matches are materialised once per query and store
version, so paging through them costs one indexed lookup per page instead of an OFFSET
scan; any write makes later pages see the new order, as offset paging on the real
service does.

Lists (labels) are kept twice: ``contact_labels`` holds every membership, and each of the
first 63 lists also gets a bit in the contact's ``label_mask`` (:mod:`.labels`). The mask
sits in the covering indexes of the stage and sort columns, so a search filtered by stage
and lists and sorted by a date reads only an index, never the contacts' JSON (a million
contacts filtered by list answer in tens of milliseconds instead of seconds). The contact
JSON itself, and how Apollo edits its email, is :mod:`.contacts`.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import tempfile
import threading
from array import array
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from ..clock import as_clock, iso_ms
from ..ids import apollo_id, to18
from .contacts import (CONTACT_KIND, JOB_KIND, LABEL_KIND, PHONE_FIELDS, PLAIN_FIELDS,
                       STAGE_KIND, TEAM_OWNER_ID, email_key, name_key, new_contact,
                       plausible_email, set_email)
from .labels import LabelBits

DISPLAY_CAP = 50_000  # Apollo shows at most 50,000 records of a search...
MAX_PAGES = 500  # ...as at most 500 pages

# Wire sort names → the column holding the value (all ISO strings that sort as text).
SORT_COLUMNS = {
    "contact_updated_at": "updated_at",
    "contact_created_at": "created_at",
    "contact_last_activity_date": "last_activity_date",
    "contact_email_last_opened_at": "email_last_opened_at",
    "contact_email_last_clicked_at": "email_last_clicked_at",
}
DEFAULT_SORT = "contact_created_at"



class ApolloStoreError(Exception):
    """Something the Apollo emulator refuses; ``status`` is the HTTP answer it maps to."""

    status = 422

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ContactNotFound(ApolloStoreError):
    """No contact with that id."""

    status = 404


class InvalidValue(ApolloStoreError):
    """A field value Apollo would reject (an unknown stage id, ...)."""


def default_stages() -> list[dict]:
    """The contact stages a new Apollo team starts with, wire-shaped."""
    names = [("Cold", None), ("Approaching", "in_progress"), ("Replied", "in_progress"),
             ("Interested", "succeeded"), ("Not Interested", "failed"),
             ("Unresponsive", "failed"), ("Do Not Contact", "failed"), ("Bad Data", "failed"),
             ("Changed Job", "failed")]
    return [{"id": apollo_id(i + 1, STAGE_KIND), "team_id": TEAM_OWNER_ID, "name": name,
             "display_name": name, "display_order": float(i + 1), "category": category,
             "default_exclude_for_leadgen": False, "is_meeting_set": None}
            for i, (name, category) in enumerate(names)]


def _sf18(value: str | None) -> str | None:
    return to18(value) if value else None


@dataclass(frozen=True)
class ContactQuery:
    """What a contacts search asks for (already parsed from the wire)."""

    stage_ids: tuple[str, ...] = ()
    label_ids: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()  # lower-cased tokens; each must appear (an email: be it)
    sort_by: str = DEFAULT_SORT
    ascending: bool = False


@dataclass
class ContactChange:
    """A contact before and after a write."""

    before: dict
    contact: dict
    changed: set[str] = field(default_factory=set)  # wire fields whose value changed

    @property
    def email_changed(self) -> bool:
        return email_key(self.before.get("email")) != email_key(self.contact.get("email"))


_SCHEMA = """
CREATE TABLE IF NOT EXISTS contacts (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    email_key TEXT,
    name_key TEXT,
    keywords TEXT NOT NULL DEFAULT '',
    contact_stage_id TEXT,
    salesforce_lead_id TEXT,
    salesforce_contact_id TEXT,
    created_at TEXT,
    updated_at TEXT,
    last_activity_date TEXT,
    email_last_opened_at TEXT,
    email_last_clicked_at TEXT,
    pushed INTEGER NOT NULL DEFAULT 0,
    label_mask INTEGER NOT NULL DEFAULT 0,
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS contact_labels (
    label_id TEXT NOT NULL,
    contact_rowid INTEGER NOT NULL,
    PRIMARY KEY (label_id, contact_rowid)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stages (id TEXT PRIMARY KEY, name_key TEXT, position REAL, data BLOB);
CREATE TABLE IF NOT EXISTS labels (id TEXT PRIMARY KEY, name TEXT, name_key TEXT UNIQUE,
                                   data BLOB);
CREATE TABLE IF NOT EXISTS label_bits (label_id TEXT PRIMARY KEY, bit INTEGER NOT NULL UNIQUE);
"""
_INDEXES = {
    "contacts_email": "contacts(email_key)",
    "contacts_name": "contacts(name_key)",
    # Covering indexes for searches: filter by stage and lists, sort by a date.
    "contacts_stage_created": "contacts(contact_stage_id, created_at, label_mask)",
    "contacts_stage_updated": "contacts(contact_stage_id, updated_at, label_mask)",
    "contacts_sf_lead": "contacts(salesforce_lead_id)",
    "contacts_sf_contact": "contacts(salesforce_contact_id)",
    "contacts_created_labels": "contacts(created_at, label_mask)",
    "contacts_updated_labels": "contacts(updated_at, label_mask)",
}
_OLD_INDEXES = ("contacts_stage", "contacts_created", "contacts_updated")  # replaced by the above
_COLUMNS = ("id", "email_key", "name_key", "keywords", "contact_stage_id", "salesforce_lead_id",
            "salesforce_contact_id", "created_at", "updated_at", "last_activity_date",
            "email_last_opened_at", "email_last_clicked_at", "label_mask", "data")


def _columns(contact: Mapping, label_mask: int = 0) -> tuple:
    """The indexed columns of a wire contact, in ``_COLUMNS`` order (data last)."""
    get = contact.get
    first, last, org = get("first_name") or "", get("last_name") or "", get("organization_name") or ""
    email = get("email") or ""
    texts = [get("name") or "", first, last, get("title") or "", org, email]
    for entry in get("contact_emails") or ():
        other = entry.get("email")
        if other and other != email:
            texts.append(other)
    key = email.strip().lower() or None
    return (get("id"), key,
            f"{first.strip().casefold()}\x1f{last.strip().casefold()}\x1f{org.strip().casefold()}",
            "\x1f".join(texts).lower(), get("contact_stage_id"), _sf18(get("salesforce_lead_id")),
            _sf18(get("salesforce_contact_id")), get("created_at"), get("updated_at"),
            get("last_activity_date"), get("email_last_opened_at"),
            get("email_last_clicked_at"), label_mask, orjson.dumps(contact))


class ApolloStore:
    """Apollo contacts, stages and labels in one SQLite file.

    ``path=None`` keeps the data in a private temporary file that :meth:`close` removes (a
    file rather than ``:memory:`` so a million contacts cost disk, not RAM). ``clock`` is a
    zero-argument callable returning an aware datetime; it stamps ``updated_at``.
    """

    def __init__(self, path: str | os.PathLike | None = None, *, clock=None):
        self.clock = as_clock(clock)
        self._tempdir = None
        if path is None:
            self._tempdir = tempfile.mkdtemp(prefix="concord-apollo-")
            path = Path(self._tempdir) / "apollo.sqlite"
        self.path = Path(path)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        # The sandbox is disposable: speed over durability.
        self._db.executescript("PRAGMA journal_mode=MEMORY; PRAGMA synchronous=OFF;"
                               "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;")
        self._db.executescript(_SCHEMA)
        self._label_bits = LabelBits(self._db)
        self._migrate()
        self._create_indexes()
        self._label_counts: tuple[int, dict[str, int]] | None = None  # (version, counts)
        self._jobs = 0
        self._bulk_depth = 0  # inside bulk_load(): indexes are built when it ends
        self._version = 0  # bumped by every write; materialised searches check it
        self._searches: OrderedDict[tuple, tuple[int, int, array]] = OrderedDict()
        self._next_number = (self._scalar("SELECT max(rowid) FROM contacts") or 0) + 1

    # -- plumbing ----------------------------------------------------------------------------

    def _scalar(self, sql: str, params: Iterable = ()):
        row = self._db.execute(sql, tuple(params)).fetchone()
        return row[0] if row else None

    def _migrate(self) -> None:
        """Bring a store file written before lists were searchable by mask up to date."""
        if "data" not in {r[1] for r in self._db.execute("PRAGMA table_info(labels)")}:
            self._db.execute("ALTER TABLE labels ADD COLUMN data BLOB")
        if "label_mask" in {r[1] for r in self._db.execute("PRAGMA table_info(contacts)")}:
            return
        self._db.execute("ALTER TABLE contacts ADD COLUMN label_mask INTEGER NOT NULL DEFAULT 0")
        for name in _OLD_INDEXES:
            self._db.execute(f"DROP INDEX IF EXISTS {name}")
        self._label_bits.forget()
        masks: dict[int, int] = {}
        for label_id, rowid in self._db.execute(
                "SELECT label_id, contact_rowid FROM contact_labels").fetchall():
            masks[rowid] = masks.get(rowid, 0) | self._label_bits.mask((label_id,))
        self._db.executemany("UPDATE contacts SET label_mask = ? WHERE rowid = ?",
                             [(mask, rowid) for rowid, mask in masks.items()])

    def _create_indexes(self) -> None:
        for name, target in _INDEXES.items():
            self._db.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")

    def _drop_indexes(self) -> None:
        for name in _INDEXES:
            self._db.execute(f"DROP INDEX IF EXISTS {name}")

    def close(self) -> None:
        """Close the database (and delete it if it was a private temporary file)."""
        with self._lock:
            self._db.close()
        if self._tempdir:
            shutil.rmtree(self._tempdir, ignore_errors=True)
            self._tempdir = None

    def __enter__(self) -> "ApolloStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def now(self) -> str:
        """The sandbox time in Apollo's format."""
        return iso_ms(self.clock())

    # -- bulk loading --------------------------------------------------------------------------

    def load_contacts(self, rows: Iterable[Mapping], *, batch: int = 10_000) -> int:
        """Insert wire-shaped contacts (``id`` required); returns how many were loaded.

        Loading into an empty store builds the indexes once at the end, which is several
        times faster than maintaining them row by row at a million contacts.
        """
        sql = (f"INSERT INTO contacts (rowid, {', '.join(_COLUMNS)}) "
               f"VALUES (?, {', '.join('?' * len(_COLUMNS))})")
        label_sql = "INSERT OR IGNORE INTO contact_labels (label_id, contact_rowid) VALUES (?, ?)"
        loaded = 0
        with self._lock:
            empty = not self._bulk_depth and not self._scalar("SELECT 1 FROM contacts LIMIT 1")
            if empty:
                self._drop_indexes()
            try:
                self._db.execute("BEGIN")
                rowid = self._next_number
                chunk: list[tuple] = []
                labels: list[tuple[str, int]] = []
                for row in rows:
                    if not row.get("id"):
                        raise ValueError(f"an Apollo contact needs an id: {dict(row)!r:.200}")
                    label_ids = row.get("label_ids") or ()
                    chunk.append((rowid, *_columns(row, self._label_bits.mask(label_ids))))
                    for label in label_ids:
                        labels.append((label, rowid))
                    rowid += 1
                    if len(chunk) >= batch:
                        self._db.executemany(sql, chunk)
                        self._db.executemany(label_sql, labels)
                        loaded += len(chunk)
                        chunk.clear()
                        labels.clear()
                if chunk:
                    self._db.executemany(sql, chunk)
                    self._db.executemany(label_sql, labels)
                    loaded += len(chunk)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                self._label_bits.reload()
                raise
            finally:
                if empty:
                    self._create_indexes()
                    self._db.execute("ANALYZE")
            self._next_number = (self._scalar("SELECT max(rowid) FROM contacts") or 0) + 1
            self._version += 1
        return loaded

    @contextmanager
    def bulk_load(self) -> Iterator["ApolloStore"]:
        """Load in several :meth:`load_contacts` calls with the indexes built once, at the end."""
        with self._lock:
            if self._bulk_depth == 0:
                self._drop_indexes()
            self._bulk_depth += 1
        try:
            yield self
        finally:
            with self._lock:
                self._bulk_depth -= 1
                if self._bulk_depth == 0:
                    self._create_indexes()
                    self._db.execute("ANALYZE")
                    self._version += 1

    def load_stages(self, rows: Iterable[Mapping]) -> int:
        """Insert or replace contact stages (wire-shaped: id, name, display_name, ...)."""
        with self._lock:
            count = 0
            for i, row in enumerate(rows):
                stage = dict(row)
                stage.setdefault("display_name", stage.get("name"))
                stage.setdefault("display_order", float(i + 1))
                stage.setdefault("category", None)
                self._db.execute(
                    "INSERT OR REPLACE INTO stages (id, name_key, position, data) VALUES (?, ?, ?, ?)",
                    (stage["id"], (stage.get("name") or "").casefold(),
                     float(stage["display_order"] or 0), orjson.dumps(stage)))
                count += 1
            self._version += 1
            return count

    def load_labels(self, rows: Iterable[Mapping]) -> int:
        """Insert or replace labels (lists), wire-shaped: ``{"id", "name"}`` and any other
        fields ``GET /labels`` shows (``cached_count`` is always counted afresh)."""
        with self._lock:
            count = 0
            for row in rows:
                data = {k: v for k, v in row.items() if k != "cached_count"}
                self._db.execute(
                    "INSERT OR REPLACE INTO labels (id, name, name_key, data) VALUES (?, ?, ?, ?)",
                    (row["id"], row["name"], row["name"].casefold(), orjson.dumps(data)))
                count += 1
            self._version += 1
            return count

    # -- stages and labels ---------------------------------------------------------------------

    def stages(self) -> list[dict]:
        """Every contact stage, in display order."""
        with self._lock:
            return [orjson.loads(d) for (d,) in
                    self._db.execute("SELECT data FROM stages ORDER BY position, id")]

    def stage(self, ref: str | None) -> dict | None:
        """The stage with this id, or else this name (case-insensitive)."""
        if not ref:
            return None
        with self._lock:
            row = self._db.execute("SELECT data FROM stages WHERE id = ? OR name_key = ? "
                                   "ORDER BY id = ? DESC LIMIT 1",
                                   (ref, ref.casefold(), ref)).fetchone()
        return orjson.loads(row[0]) if row else None

    def labels(self, label_ids: Iterable[str]) -> list[dict]:
        """The labels with these ids, wire-shaped (``{"id", "name", "modality"}``)."""
        out = []
        with self._lock:
            for label_id in label_ids:
                row = self._db.execute("SELECT id, name FROM labels WHERE id = ?", (label_id,)).fetchone()
                if row:
                    out.append({"id": row[0], "name": row[1], "modality": "contacts",
                                "team_id": TEAM_OWNER_ID})
        return out

    def all_labels(self) -> list[dict]:
        """Every list of contacts, wire-shaped as ``GET /labels`` answers, by name.

        ``cached_count`` is how many contacts are in the list now (counted once per store
        version: one pass over the label index, not one per list).
        """
        with self._lock:
            if self._label_counts is None or self._label_counts[0] != self._version:
                counts = dict(self._db.execute(
                    "SELECT label_id, count(*) FROM contact_labels GROUP BY label_id"))
                self._label_counts = (self._version, counts)
            counts = self._label_counts[1]
            rows = self._db.execute(
                "SELECT id, name, data FROM labels ORDER BY name_key, id").fetchall()
        out = []
        for label_id, name, data in rows:
            label = {"id": label_id, "name": name, "modality": "contacts",
                     "user_id": TEAM_OWNER_ID}
            label.update(orjson.loads(data) if data else {})
            label["cached_count"] = counts.get(label_id, 0)
            out.append(label)
        return out

    def _label_ids(self, names: Iterable[str]) -> list[str]:
        """Ids of the labels with these names, creating the missing ones (as Apollo does)."""
        ids = []
        for name in names:
            key = str(name).casefold()
            found = self._scalar("SELECT id FROM labels WHERE name_key = ?", (key,))
            if found is None:
                number = (self._scalar("SELECT count(*) FROM labels") or 0) + 1
                found = apollo_id(number, LABEL_KIND)
                while self._scalar("SELECT 1 FROM labels WHERE id = ?", (found,)):
                    number += 1
                    found = apollo_id(number, LABEL_KIND)
                self._db.execute("INSERT INTO labels (id, name, name_key) VALUES (?, ?, ?)",
                                 (found, str(name), key))
            ids.append(found)
        return ids

    # -- reading -------------------------------------------------------------------------------

    def count(self) -> int:
        """How many contacts the store holds."""
        with self._lock:
            return self._scalar("SELECT count(*) FROM contacts")

    def get(self, contact_id: str) -> dict | None:
        """The wire contact with this id, or None."""
        raw = self.get_raw(contact_id)
        return orjson.loads(raw) if raw is not None else None

    def get_raw(self, contact_id: str) -> bytes | None:
        """The wire JSON of a contact, as stored (what the API sends)."""
        with self._lock:
            row = self._db.execute("SELECT data FROM contacts WHERE id = ?", (contact_id,)).fetchone()
        return row[0] if row else None

    def _rows(self, where: str, params: tuple) -> list[dict]:
        with self._lock:
            return [orjson.loads(d) for (d,) in
                    self._db.execute(f"SELECT data FROM contacts WHERE {where} ORDER BY rowid", params)]

    def find_by_email(self, email: str | None) -> list[dict]:
        """Contacts whose primary email equals ``email`` (case-insensitive)."""
        key = email_key(email)
        return self._rows("email_key = ?", (key,)) if key else []

    def find_linked(self, salesforce_id: str) -> list[dict]:
        """Contacts linked to this Salesforce Lead or Contact id (15 or 18 characters)."""
        sf = _sf18(salesforce_id)
        return self._rows("salesforce_lead_id = ? OR salesforce_contact_id = ?", (sf, sf))

    def find_unlinked(self, *, email: str | None = None, first: str | None = None,
                      last: str | None = None, company: str | None = None,
                      never_pushed: bool = False) -> list[dict]:
        """Contacts linked to no Salesforce record, matched by email or else by name+company."""
        cond = "salesforce_lead_id IS NULL AND salesforce_contact_id IS NULL"
        if never_pushed:
            cond += " AND pushed = 0"
        if email is not None:
            return self._rows(f"email_key = ? AND {cond}", (email_key(email),))
        return self._rows(f"name_key = ? AND {cond}", (name_key(first, last, company),))

    # -- searching -----------------------------------------------------------------------------

    def _where(self, query: ContactQuery) -> tuple[str, list]:
        conds, params = [], []
        if query.stage_ids:
            conds.append(f"contact_stage_id IN ({', '.join('?' * len(query.stage_ids))})")
            params.extend(query.stage_ids)
        if query.label_ids:
            if self._label_bits.covers(query.label_ids):
                # The mask answers from the covering indexes.
                conds.append("(label_mask & ?) != 0")
                params.append(self._label_bits.mask_of(query.label_ids))
            else:
                conds.append("rowid IN (SELECT contact_rowid FROM contact_labels WHERE label_id "
                             f"IN ({', '.join('?' * len(query.label_ids))}))")
                params.extend(query.label_ids)
        for token in query.keywords:
            if plausible_email(token):
                # A whole address finds the contact whose email it is, through the index
                # (a scan of a million contacts per lookup would make email lookups crawl).
                conds.append("email_key = ?")
            else:
                conds.append("instr(keywords, ?) > 0")
            params.append(token)
        return (" AND ".join(conds) or "1"), params

    def search_ids(self, query: ContactQuery) -> tuple[int, array]:
        """``(total matches, rowids of the first 50,000 in order)``, materialised per version."""
        column = SORT_COLUMNS.get(query.sort_by, SORT_COLUMNS[DEFAULT_SORT])
        direction = "ASC" if query.ascending else "DESC"
        key = (query.stage_ids, query.label_ids, query.keywords, column, direction)
        with self._lock:
            cached = self._searches.get(key)
            if cached and cached[0] == self._version:
                self._searches.move_to_end(key)
                return cached[1], cached[2]
            where, params = self._where(query)
            total = self._scalar(f"SELECT count(*) FROM contacts WHERE {where}", params)
            ids = array("q", (r for (r,) in self._db.execute(
                f"SELECT rowid FROM contacts WHERE {where} "
                f"ORDER BY {column} {direction} NULLS LAST, rowid {direction} LIMIT {DISPLAY_CAP}",
                params)))
            self._searches[key] = (self._version, total, ids)
            while len(self._searches) > 16:
                self._searches.popitem(last=False)
            return total, ids

    def search_page(self, query: ContactQuery, page: int, per_page: int) -> tuple[int, list[bytes]]:
        """``(total matches, wire JSON of the contacts on page ``page``)`` (1-based)."""
        total, ids = self.search_ids(query)
        start = (page - 1) * per_page
        wanted = ids[start:start + per_page] if 0 <= start < len(ids) else array("q")
        if not wanted:
            return total, []
        with self._lock:
            found = dict(self._db.execute(
                f"SELECT rowid, data FROM contacts WHERE rowid IN ({', '.join('?' * len(wanted))})",
                tuple(wanted)))
        return total, [found[r] for r in wanted if r in found]

    def search(self, query: ContactQuery, page: int = 1, per_page: int = 100) -> tuple[int, list[dict]]:
        """Like :meth:`search_page` with the contacts parsed."""
        total, raw = self.search_page(query, page, per_page)
        return total, [orjson.loads(r) for r in raw]

    # -- writing -------------------------------------------------------------------------------

    def _load_row(self, contact_id: str) -> tuple[int, dict]:
        row = self._db.execute("SELECT rowid, data FROM contacts WHERE id = ?", (contact_id,)).fetchone()
        if row is None:
            raise ContactNotFound(f"Contact not found: {contact_id}")
        return row[0], orjson.loads(row[1])

    def _save(self, rowid: int, contact: dict, *, pushed: bool | None = None) -> None:
        cols = _columns(contact, self._label_bits.mask(contact.get("label_ids") or ()))
        assignments = ", ".join(f"{c} = ?" for c in _COLUMNS[1:])
        params = list(cols[1:])
        if pushed is not None:
            assignments += ", pushed = ?"
            params.append(int(pushed))
        self._db.execute(f"UPDATE contacts SET {assignments} WHERE rowid = ?", (*params, rowid))
        self._db.execute("DELETE FROM contact_labels WHERE contact_rowid = ?", (rowid,))
        self._db.executemany("INSERT OR IGNORE INTO contact_labels (label_id, contact_rowid) VALUES (?, ?)",
                             [(label, rowid) for label in contact.get("label_ids") or ()])
        self._version += 1

    def _apply_fields(self, contact: dict, fields: Mapping) -> None:
        """Apply the writable wire fields of a create/PATCH body to ``contact`` in place."""
        for name in PLAIN_FIELDS:
            if name in fields:
                contact[name] = fields[name]
        if "first_name" in fields or "last_name" in fields:
            contact["name"] = " ".join(p for p in (contact.get("first_name"),
                                                   contact.get("last_name")) if p) or None
        if "contact_stage_id" in fields:
            stage_id = fields["contact_stage_id"]
            if stage_id is not None and self.stage(stage_id) is None:
                raise InvalidValue(f"Contact stage {stage_id} does not exist")
            contact["contact_stage_id"] = (self.stage(stage_id) or {}).get("id")
        if "label_names" in fields:
            names = fields["label_names"] or []
            if isinstance(names, str):
                names = [names]
            contact["label_ids"] = self._label_ids(names)
        if isinstance(fields.get("typed_custom_fields"), Mapping):
            contact.setdefault("typed_custom_fields", {}).update(fields["typed_custom_fields"])
        for name, kind in PHONE_FIELDS.items():
            if name in fields and fields[name]:
                phones = [p for p in contact.get("phone_numbers") or () if p.get("type") != kind]
                digits = re.sub(r"\D", "", str(fields[name]))
                phones.append({"raw_number": str(fields[name]), "sanitized_number": "+" + digits,
                               "type": kind, "position": len(phones), "status": "no_status"})
                contact["phone_numbers"] = phones
        if "email" in fields:
            email = fields["email"]
            if email is None or (isinstance(email, str) and not email.strip()):
                set_email(contact, None, how="manual")
            elif isinstance(email, str) and plausible_email(email):
                set_email(contact, email.strip(), how="manual")
            # Apollo ignores an email it cannot parse ("Invalid emails will be ignored").

    def update(self, contact_id: str, fields: Mapping, *, touch: bool = True) -> ContactChange:
        """Apply a PATCH body (documented fields; others ignored) to a contact.

        An email change is a manual edit: ``email_status`` becomes ``verified``,
        ``email_true_status`` ``User Managed``, ``email_manually_changed`` and
        ``email_from_customer`` true. ``updated_at`` moves whenever something changed (or
        always, with ``touch``). Raises :class:`ContactNotFound`, :class:`InvalidValue`.
        """
        with self._lock:
            rowid, contact = self._load_row(contact_id)
            before = orjson.loads(orjson.dumps(contact))
            self._apply_fields(contact, fields)
            return self._commit_change(rowid, before, contact, touch=touch)

    def set_fields(self, contact_id: str, fields: Mapping, *, touch: bool = True,
                   pushed: bool | None = None) -> ContactChange:
        """Overwrite wire fields verbatim (the emulator's own bookkeeping: links, crm_job)."""
        with self._lock:
            rowid, contact = self._load_row(contact_id)
            before = orjson.loads(orjson.dumps(contact))
            contact.update(fields)
            return self._commit_change(rowid, before, contact, touch=touch, pushed=pushed)

    def set_email(self, contact_id: str, email: str | None, *, how: str) -> ContactChange:
        """Set a contact's email as a manual edit (``how="manual"``) or from the CRM
        (``how="crm"``), with the status fields Apollo sets for each."""
        with self._lock:
            rowid, contact = self._load_row(contact_id)
            before = orjson.loads(orjson.dumps(contact))
            set_email(contact, email, how=how)
            return self._commit_change(rowid, before, contact, touch=True)

    def _commit_change(self, rowid: int, before: dict, contact: dict, *, touch: bool,
                       pushed: bool | None = None) -> ContactChange:
        changed = {k for k in set(before) | set(contact) if before.get(k) != contact.get(k)}
        if changed or touch:
            contact["updated_at"] = self.now()
            self._save(rowid, contact, pushed=pushed)
        elif pushed is not None:
            self._save(rowid, contact, pushed=pushed)
        return ContactChange(before, contact, changed)

    def create(self, fields: Mapping, *, source: str = "api") -> dict:
        """Create a contact from a POST /contacts body; Apollo never dedupes here."""
        with self._lock:
            number = self._next_number
            contact_id = apollo_id(number, CONTACT_KIND)
            while self._scalar("SELECT 1 FROM contacts WHERE id = ?", (contact_id,)):
                number += 1
                contact_id = apollo_id(number, CONTACT_KIND)
            now = self.now()
            contact = new_contact(contact_id, now, source=source)
            stages = self.stages()
            if stages:
                contact["contact_stage_id"] = stages[0]["id"]
            self._apply_fields(contact, {k: v for k, v in fields.items() if k != "email"})
            email = fields.get("email")
            if isinstance(email, str) and plausible_email(email):
                set_email(contact, email.strip(), how="create")
            contact["updated_at"] = now
            self._db.execute(
                f"INSERT INTO contacts (rowid, {', '.join(_COLUMNS)}) "
                f"VALUES (?, {', '.join('?' * len(_COLUMNS))})",
                (number, *_columns(contact, self._label_bits.mask(contact.get("label_ids") or ()))))
            self._db.executemany("INSERT OR IGNORE INTO contact_labels (label_id, contact_rowid) VALUES (?, ?)",
                                 [(label, number) for label in contact.get("label_ids") or ()])
            self._next_number = number + 1
            self._version += 1
            return contact

    def new_crm_job(self, status: str, *, note: str | None = None,
                    error_code: str | None = None) -> dict:
        """A ``crm_job`` object like the one Apollo attaches to a contact it pushes to the CRM.

        ``status`` is ``completed``, ``failed`` or ``pending``; a failure carries the CRM's
        ``error_code`` and a ``note`` saying what went wrong.
        """
        with self._lock:
            self._jobs += 1
            number = self._jobs
        return {"id": apollo_id(number, JOB_KIND), "job_type": "push_contacts", "status": status,
                "note": note, "error_code": error_code, "retry_at": None,
                "created_at": self.now()}

    def mark_pushed(self, contact_id: str) -> None:
        """Remember that Apollo pushed this contact to Salesforce (it is no longer "never pushed")."""
        with self._lock:
            self._db.execute("UPDATE contacts SET pushed = 1 WHERE id = ?", (contact_id,))
