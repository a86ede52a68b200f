"""The Salesforce sandbox's data: Accounts, Leads, Contacts and their field history in SQLite.

The store is what the emulated API (and the Apollo emulator's sync) reads and writes. It
holds a million records in a temporary SQLite file with modest memory, answers SOQL through
:mod:`.soql`, and applies the rules the real org applies on every save: emails are
validated (:mod:`.addresses`) and stored lower-cased, converted Leads refuse writes,
LastModifiedDate and SystemModstamp move, and an Email change leaves a
ContactHistory/LeadHistory row when the org tracks field history. Values go in and out in the API's wire shapes (``+0000``
datetimes, JSON booleans), so the HTTP layer adds nothing but ``attributes``.

One connection guarded by a re-entrant lock makes it thread-safe; :meth:`transaction` nests
through savepoints, which is how ``allOrNone`` rolls a whole collection back.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import tempfile
import threading
from array import array
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta, timezone

import orjson

from ..ids import OTHER_USER, salesforce_id, to18
from . import schema
from .addresses import InvalidEmail, accepted_email
from .soql import CompiledQuery, compile_query, format_datetime
from .values import (
    ID_RE,
    load_keys,
    parse_datetime,
    parse_wire_datetime,
    row_converter,
    text_value,
    utc_now,
)

DEFAULT_VERSION = "59.0"
# Ids of records created through the API start high so they never collide with loaded ids
# (the data generator numbers its records from 1).
_CREATED_BASE = 62 ** 9
_LOAD_CHUNK = 20_000


class StoreError(Exception):
    """A save or read the org refuses, with the API's status and errorCode."""

    def __init__(self, status: int, error_code: str, message: str, fields: Iterable[str] = ()):
        super().__init__(f"{error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message
        self.fields = list(fields)

    def as_wire(self) -> dict:
        """The error as one element of the API's error list."""
        return {"message": self.message, "errorCode": self.error_code, "fields": self.fields}


def _indexes(obj: schema.SObject) -> dict[str, str]:
    """The indexes of an object's table by name: the Id, email lookups, pulls, history."""
    name, table = obj.name, obj.table
    out = {f"{name}_id": f'CREATE UNIQUE INDEX IF NOT EXISTS "{name}_id" ON {table} ("Id")'}
    if obj.field("Email") is not None and obj.name != "Account":
        out[f"{name}_email"] = (f'CREATE INDEX IF NOT EXISTS "{name}_email" ON {table} '
                                f'("Email" COLLATE NOCASE)')
        out[f"{name}_modstamp"] = (f'CREATE INDEX IF NOT EXISTS "{name}_modstamp" ON {table} '
                                   f'("SystemModstamp")')
    if obj.history_of:
        parent = f"{obj.history_of}Id"
        out[f"{name}_parent"] = (f'CREATE INDEX IF NOT EXISTS "{name}_parent" ON {table} '
                                 f'("{parent}")')
    return out


class SalesforceStore:
    """Accounts, Leads, Contacts and field history of one emulated org.

    ``path`` is the SQLite file (a temporary file, removed on :meth:`close`, when None).
    ``track_history`` is the org's field history tracking for Email; ``clock`` returns
    aware UTC datetimes (real time by default) and stamps every save.
    """

    def __init__(self, path: str | None = None, *, track_history: bool = True,
                 clock: Callable[[], datetime] | None = None, eai: bool = False):
        self._owned = path is None
        # Email Address Internationalization: an org setting (Setup, off by default), which
        # lets Email fields hold non-ASCII addresses (help.salesforce.com, "Email Address
        # Internationalization (EAI) Considerations").
        self.eai = eai
        if path is None:
            fd, path = tempfile.mkstemp(prefix="concord-salesforce-", suffix=".sqlite")
            os.close(fd)
        self.path = path
        self.clock = clock or utc_now
        self.track_history = track_history
        self._lock = threading.RLock()
        self._depth = 0
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        # The sandbox's data is disposable: no fsync, and a private temporary file keeps its
        # rollback journal in memory (a WAL roughly halves bulk-load speed); a named file
        # uses WAL so other processes can read it while it serves.
        journal = "MEMORY" if self._owned else "WAL"
        for pragma in (f"journal_mode={journal}", "synchronous=OFF", "temp_store=MEMORY",
                       "cache_size=-32768"):
            self._conn.execute(f"PRAGMA {pragma}")
        self._next_number: dict[str, int] = {}
        self._create_schema()

    # -- set-up ----------------------------------------------------------------------------

    def _create_schema(self) -> None:
        with self.transaction():
            for obj in schema.OBJECTS.values():
                columns = []
                for f in obj.stored_fields:
                    if f.name == "Id":
                        columns.append('"Id" TEXT NOT NULL')  # unique through _indexes()
                    elif f.type == "boolean":
                        columns.append(f'"{f.name}" INTEGER NOT NULL DEFAULT 0')
                    elif f.is_text:
                        columns.append(f'"{f.name}" TEXT COLLATE NOCASE')
                    else:
                        columns.append(f'"{f.name}" TEXT')
                self._conn.execute(f"CREATE TABLE IF NOT EXISTS {obj.table} "
                                   f"(rowid INTEGER PRIMARY KEY, {', '.join(columns)})")
                for statement in _indexes(obj).values():
                    self._conn.execute(statement)
            # Records emptied from the recycle bin, for getDeleted.
            self._conn.execute('CREATE TABLE IF NOT EXISTS purged ("object" TEXT NOT NULL, '
                               '"Id" TEXT NOT NULL, "deletedDate" TEXT NOT NULL)')

    def close(self) -> None:
        """Close the database; a temporary file is removed."""
        with self._lock:
            self._conn.close()
        if self._owned:
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(self.path + suffix)

    def __enter__(self) -> "SalesforceStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def set_track_history(self, enabled: bool) -> None:
        """Turn the org's field history tracking of Email on or off."""
        self.track_history = bool(enabled)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside happen or none do; nests (savepoints), holds the store's lock."""
        with self._lock:
            depth = self._depth
            self._conn.execute("BEGIN" if depth == 0 else f"SAVEPOINT sp{depth}")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if depth == 0:
                    self._conn.execute("ROLLBACK")
                else:
                    self._conn.execute(f"ROLLBACK TO sp{depth}")
                    self._conn.execute(f"RELEASE sp{depth}")
                raise
            self._depth -= 1
            self._conn.execute("COMMIT" if depth == 0 else f"RELEASE sp{depth}")

    # -- bulk loading ----------------------------------------------------------------------

    def load_accounts(self, rows: Iterable[dict]) -> int:
        """Insert wire-shaped Account rows (Id, Name, Website, ...); returns how many."""
        return self._load_all(rows, ("Account",), lambda row: "Account")

    def load_records(self, rows: Iterable[dict]) -> int:
        """Insert wire-shaped Leads and Contacts (``attributes.type`` says which).

        Missing audit fields default to now and to another user; emails are lower-cased
        as Salesforce stores them but not validated, so odd legacy data can be seeded.
        All rows load or none (a duplicate Id is a DUPLICATE_VALUE error).
        """
        return self._load_all(rows, ("Contact", "Lead"),
                              lambda row: (row.get("attributes") or {}).get("type"))

    def load_history(self, rows: Iterable[dict]) -> int:
        """Insert ContactHistory/LeadHistory rows (type from attributes, or the parent key)."""
        def kind_of(row: dict) -> str:
            kind = (row.get("attributes") or {}).get("type")
            return kind or ("ContactHistory" if row.get("ContactId") else "LeadHistory")
        return self._load_all(rows, ("ContactHistory", "LeadHistory"), kind_of)

    def _load_all(self, rows: Iterable[dict], kinds: tuple[str, ...],
                  kind_of: Callable[[dict], str | None]) -> int:
        total = 0
        batches: dict[str, list[dict]] = {kind: [] for kind in kinds}
        with self.transaction():
            # Loading into an empty table: build its indexes once at the end, which is
            # several times faster than maintaining them row by row.
            deferred = [schema.OBJECTS[k] for k in kinds if self._empty(schema.OBJECTS[k])]
            for obj in deferred:
                for name in _indexes(obj):
                    self._conn.execute(f'DROP INDEX IF EXISTS "{name}"')
            for row in rows:
                kind = kind_of(row)
                batch = batches.get(kind)  # type: ignore[arg-type]
                if batch is None:
                    raise StoreError(400, "INVALID_TYPE",
                                     f"each row needs attributes.type {' or '.join(kinds)}, "
                                     f"got {kind!r}")
                batch.append(row)
                if len(batch) >= _LOAD_CHUNK:
                    total += self._load(schema.OBJECTS[kind], batch)  # type: ignore[index]
                    batch.clear()
            for kind, batch in batches.items():
                if batch:
                    total += self._load(schema.OBJECTS[kind], batch)
            for obj in deferred:
                try:
                    for statement in _indexes(obj).values():
                        self._conn.execute(statement)
                except sqlite3.IntegrityError:
                    raise StoreError(400, "DUPLICATE_VALUE",
                                     f"{obj.name}: the loaded rows repeat an Id") from None
        return total

    def _empty(self, obj: schema.SObject) -> bool:
        return self._conn.execute(f"SELECT 1 FROM {obj.table} LIMIT 1").fetchone() is None

    def _load(self, obj: schema.SObject, rows: list[dict]) -> int:
        names = [f.name for f in obj.stored_fields]
        allowed = load_keys(obj)
        convert = row_converter(obj)
        now = format_datetime(self.clock())
        new_id = functools.partial(self._new_id, obj, check=False)
        tuples = []
        try:
            for row in rows:
                if not row.keys() <= allowed:
                    unknown = sorted(row.keys() - allowed)
                    raise StoreError(400, "INVALID_FIELD", f"No such column '{unknown[0]}' on "
                                                           f"sobject of type {obj.name}", unknown)
                tuples.append(convert(row, now, new_id))
        except (ValueError, AttributeError, TypeError) as exc:
            raise StoreError(400, "JSON_PARSER_ERROR", f"{obj.name}: {exc}") from None
        if not tuples:
            return 0
        marks = ", ".join("?" * len(names))
        cols = ", ".join(f'"{n}"' for n in names)
        try:
            self._conn.executemany(f"INSERT INTO {obj.table} ({cols}) VALUES ({marks})", tuples)
        except sqlite3.IntegrityError as exc:
            raise StoreError(400, "DUPLICATE_VALUE", f"{obj.name}: {exc}") from None
        return len(tuples)

    # -- reading -------------------------------------------------------------------------

    def _object(self, object_name: str) -> schema.SObject:
        obj = schema.sobject(object_name)
        if obj is None:
            raise StoreError(404, "NOT_FOUND", f"The requested resource does not exist: sObject "
                                               f"type '{object_name}' is not supported.")
        return obj

    def _check_id(self, obj: schema.SObject, record_id: str) -> str:
        if not isinstance(record_id, str) or not ID_RE.match(record_id):
            raise StoreError(400, "MALFORMED_ID",
                             f"{obj.name} ID: id value of incorrect type: {record_id}", ["Id"])
        full = to18(record_id)
        if len(record_id) == 18 and to18(record_id[:15]) != record_id:
            raise StoreError(400, "MALFORMED_ID",
                             f"{obj.name} ID: id value of incorrect type: {record_id}", ["Id"])
        return full

    def _row(self, obj: schema.SObject, record_id: str) -> sqlite3.Row | None:
        cols = ", ".join(f'"{f.name}"' for f in obj.stored_fields)
        return self._conn.execute(f'SELECT {cols} FROM {obj.table} WHERE "Id" = ?',
                                  (record_id,)).fetchone()

    def _wire(self, obj: schema.SObject, row: tuple, fields: Iterable[schema.Field] | None = None,
              version: str = DEFAULT_VERSION) -> dict:
        by_name = dict(zip((f.name for f in obj.stored_fields), row))
        out: dict = {"attributes": {"type": obj.name,
                                    "url": f"/services/data/v{version}/sobjects/{obj.name}/"
                                           f"{by_name['Id']}"}}
        for f in fields or obj.fields:
            if f.computed:  # Name
                out[f.name] = " ".join(v for v in (by_name.get("FirstName"),
                                                    by_name.get("LastName")) if v)
            elif f.type == "boolean":
                out[f.name] = bool(by_name[f.name])
            else:
                out[f.name] = by_name[f.name]
        return out

    def get(self, object_name: str, record_id: str, *, fields: Iterable[str] | None = None,
            version: str = DEFAULT_VERSION, include_deleted: bool = False) -> dict | None:
        """The record as the API returns it (all fields, or ``fields``), or None if absent.

        Raises :class:`StoreError` MALFORMED_ID for an id that cannot be one, INVALID_FIELD
        for an unknown name in ``fields``.
        """
        obj = self._object(object_name)
        record_id = self._check_id(obj, record_id)
        selected = None
        if fields is not None:
            selected = []
            for name in fields:
                f = obj.field(name)
                if f is None:
                    raise StoreError(400, "INVALID_FIELD",
                                     f"No such column '{name}' on sobject of type {obj.name}",
                                     [name])
                selected.append(f)
        with self._lock:
            row = self._row(obj, record_id)
        if row is None:
            return None
        wire = self._wire(obj, row, selected, version)
        if not include_deleted and row[[f.name for f in obj.stored_fields].index("IsDeleted")]:
            return None
        return wire

    def find_by_email(self, email: str) -> list[dict]:
        """Leads and Contacts (not deleted) whose Email equals ``email``, ignoring case."""
        key = (email or "").strip().lower()
        if not key:
            return []
        out = []
        with self._lock:
            for obj in (schema.CONTACT, schema.LEAD):
                cols = ", ".join(f'"{f.name}"' for f in obj.stored_fields)
                for row in self._conn.execute(
                        f'SELECT {cols} FROM {obj.table} WHERE "Email" = ? COLLATE NOCASE '
                        f'AND "IsDeleted" = 0 ORDER BY rowid', (key,)):
                    out.append(self._wire(obj, row))
        return out

    def changed_since(self, when: datetime) -> list[dict]:
        """Leads and Contacts (deleted ones too) with SystemModstamp after ``when``."""
        stamp = format_datetime(when)
        out = []
        with self._lock:
            for obj in (schema.CONTACT, schema.LEAD):
                cols = ", ".join(f'"{f.name}"' for f in obj.stored_fields)
                for row in self._conn.execute(
                        f'SELECT {cols} FROM {obj.table} WHERE "SystemModstamp" > ? '
                        f'ORDER BY "SystemModstamp", rowid', (stamp,)):
                    out.append(self._wire(obj, row))
        return out

    def count(self, object_name: str) -> int:
        """How many records of an object exist (deleted ones excluded)."""
        obj = self._object(object_name)
        with self._lock:
            return self._conn.execute(
                f'SELECT COUNT(*) FROM {obj.table} WHERE "IsDeleted" = 0').fetchone()[0]

    def history(self, object_name: str, record_id: str) -> list[dict]:
        """The field history rows of one Lead or Contact, oldest first."""
        obj = self._object(object_name)
        hist = schema.HISTORY_OF.get(obj.name)
        if hist is None:
            raise StoreError(400, "INVALID_TYPE", f"{obj.name} has no field history")
        record_id = self._check_id(obj, record_id)
        cols = ", ".join(f'"{f.name}"' for f in hist.stored_fields)
        with self._lock:
            rows = self._conn.execute(f'SELECT {cols} FROM {hist.table} WHERE "{obj.name}Id" = ? '
                                      f"ORDER BY rowid", (record_id,)).fetchall()
        return [self._wire(hist, row) for row in rows]

    # -- SOQL ------------------------------------------------------------------------------

    def compile(self, soql: str, *, include_deleted: bool = False) -> CompiledQuery:
        """Translate a query (raises :class:`core.sandbox.salesforce.soql.SOQLError`)."""
        return compile_query(soql, include_deleted=include_deleted)

    def query_ids(self, plan: CompiledQuery) -> array:
        """The ordered rowids matching a compiled query: a compact, materialised cursor."""
        with self._lock:
            cursor = self._conn.execute(plan.ids_sql, plan.params)
            ids = array("q")
            while True:
                chunk = cursor.fetchmany(50_000)
                if not chunk:
                    return ids
                ids.extend(r[0] for r in chunk)

    def query_count(self, plan: CompiledQuery) -> int:
        """How many rows a compiled query matches (for ``SELECT COUNT()``)."""
        with self._lock:
            return self._conn.execute(plan.count_sql, plan.params).fetchone()[0]

    def fetch_rows(self, plan: CompiledQuery, rowids) -> list[tuple]:
        """Raw rows ``(rowid, Id, related ids..., values...)`` in the order of ``rowids``."""
        if not len(rowids):
            return []
        with self._lock:
            rows = self._conn.execute(plan.fetch_sql, (orjson.dumps(list(rowids)).decode(),)
                                      ).fetchall()
        by_rowid = {r[0]: r for r in rows}
        return [by_rowid[i] for i in rowids if i in by_rowid]

    def fetch_records(self, plan: CompiledQuery, rowids,
                      version: str = DEFAULT_VERSION) -> list[dict]:
        """Wire records (with ``attributes`` and nested relationships) for ``rowids``."""
        obj = plan.sobject
        url = f"/services/data/v{version}/sobjects/"
        n_rel = len(plan.relationships)
        rel_index = {name: i for i, (name, _) in enumerate(plan.relationships)}
        # Each column: (top-level key, nested key or None, is boolean, related index)
        layout = []
        for column in plan.columns:
            boolean = column.field.type == "boolean"
            if len(column.path) == 1:
                layout.append((column.path[0], None, boolean, -1))
            else:
                layout.append((column.path[0], column.path[1], boolean, rel_index[column.path[0]]))
        out = []
        for row in self.fetch_rows(plan, rowids):
            record: dict = {"attributes": {"type": obj.name, "url": f"{url}{obj.name}/{row[1]}"}}
            values = row[2 + n_rel:]
            for (key, sub, boolean, rel), value in zip(layout, values):
                if boolean and value is not None:
                    value = bool(value)
                if sub is None:
                    record[key] = value
                    continue
                related_id = row[2 + rel]
                if related_id is None:
                    record[key] = None
                    continue
                nested = record.get(key)
                if nested is None:
                    target = plan.relationships[rel][1]
                    nested = record[key] = {"attributes": {
                        "type": target.name, "url": f"{url}{target.name}/{related_id}"}}
                nested[sub] = value
            out.append(record)
        return out

    def fetch_records_json(self, plan: CompiledQuery, rowids,
                           version: str = DEFAULT_VERSION) -> list[str]:
        """The same records as :meth:`fetch_records`, each as JSON text built by SQLite."""
        if plan.json_sql is None:
            return [orjson.dumps(r).decode() for r in self.fetch_records(plan, rowids, version)]
        if not len(rowids):
            return []
        with self._lock:
            rows = self._conn.execute(plan.json_sql, {
                "url": f"/services/data/v{version}/sobjects/",
                "ids": orjson.dumps(list(rowids)).decode()}).fetchall()
        by_rowid = dict(rows)
        return [by_rowid[i] for i in rowids if i in by_rowid]

    def query(self, soql: str, *, include_deleted: bool = False) -> list[dict]:
        """Run a query in-process and return every record (for tests and other emulators)."""
        plan = self.compile(soql, include_deleted=include_deleted)
        ids = self.query_ids(plan)
        return self.fetch_records(plan, ids)

    # -- writing ---------------------------------------------------------------------------

    def _now(self, at_least: str | None = None, gap: timedelta = timedelta(0)) -> str:
        now = self.clock()
        if at_least is not None:
            floor = parse_wire_datetime(at_least) + gap
            if now < floor:
                now = floor
        return format_datetime(now)

    def _new_id(self, obj: schema.SObject, *, check: bool = True) -> str:
        """A fresh Id; ``check=False`` skips the lookup (bulk loads: the unique index checks)."""
        number = self._next_number.get(obj.name)
        if number is None:
            number = _CREATED_BASE + self._conn.execute(
                f"SELECT COALESCE(MAX(rowid), 0) FROM {obj.table}").fetchone()[0]
        while True:
            number += 1
            candidate = salesforce_id(obj.name, number)
            if not check or self._conn.execute(f'SELECT 1 FROM {obj.table} WHERE "Id" = ?',
                                               (candidate,)).fetchone() is None:
                self._next_number[obj.name] = number
                return candidate

    def _coerce(self, obj: schema.SObject, fields: dict, *, creating: bool) -> dict:
        """Check and convert API input to stored values, as the org validates a save."""
        if not isinstance(fields, dict):
            raise StoreError(400, "JSON_PARSER_ERROR", "the record must be a JSON object")
        values: dict = {}
        not_writable = []
        for name, value in fields.items():
            if name == "attributes":
                continue
            f = obj.field(name)
            if f is None:
                raise StoreError(400, "INVALID_FIELD",
                                 f"No such column '{name}' on sobject of type {obj.name}", [name])
            if not (f.createable if creating else f.updateable):
                not_writable.append(f.name)
                continue
            values[f.name] = self._convert(obj, f, value)
        if not_writable:
            raise StoreError(400, "INVALID_FIELD_FOR_INSERT_UPDATE",
                             f"Unable to create/update fields: {', '.join(not_writable)}. Please "
                             "check the security settings of this field and verify that it is "
                             "read/write for your profile or permission set.", not_writable)
        return values

    def _convert(self, obj: schema.SObject, f: schema.Field, value):
        try:
            if value is None or value == "":
                if not f.nillable and f.type != "boolean":
                    raise StoreError(400, "REQUIRED_FIELD_MISSING",
                                     f"Required fields are missing: [{f.name}]", [f.name])
                return None if f.type != "boolean" else 0
            if f.type == "email":
                if not isinstance(value, str):
                    raise ValueError(f"not text: {value!r}")
                try:
                    return accepted_email(value, eai=self.eai)
                except InvalidEmail as exc:
                    raise StoreError(400, "INVALID_EMAIL_ADDRESS",
                                     f"Email: invalid email address: {value} ({exc})",
                                     [f.name]) from None
            if f.type == "boolean":
                if not isinstance(value, bool):
                    raise ValueError(f"not a boolean: {value!r}")
                return int(value)
            if f.type == "datetime":
                return parse_datetime(value)
            if f.type in schema.ID_TYPES:
                return self._reference(f, value)
            if isinstance(value, str) and f.length and len(value) > f.length:
                raise StoreError(400, "STRING_TOO_LONG",
                                 f"{f.name}: data value too large: {value[:40]} (max length="
                                 f"{f.length})", [f.name])
            return text_value(value)
        except ValueError as exc:
            raise StoreError(400, "JSON_PARSER_ERROR",
                             f"Cannot deserialize {f.type} value for {obj.name}.{f.name}: {exc}",
                             [f.name]) from None

    def _reference(self, f: schema.Field, value) -> str:
        if not isinstance(value, str) or not ID_RE.match(value):
            raise StoreError(400, "MALFORMED_ID",
                             f"{f.reference_to} ID: id value of incorrect type: {value}", [f.name])
        value = to18(value)
        target = schema.sobject(f.reference_to or "")
        if target is not None and target.name in schema.OBJECTS and not target.history_of:
            if self._conn.execute(f'SELECT 1 FROM {target.table} WHERE "Id" = ? AND '
                                  f'"IsDeleted" = 0', (value,)).fetchone() is None:
                raise StoreError(400, "INVALID_CROSS_REFERENCE_KEY",
                                 f"invalid cross reference id: {value}", [f.name])
        return value

    def _history_row(self, obj: schema.SObject, record_id: str, field_name: str, old, new,
                     when: str, user: str, data_type: str) -> None:
        hist = schema.HISTORY_OF.get(obj.name)
        if hist is None or not self.track_history:
            return
        self._conn.execute(
            f'INSERT INTO {hist.table} ("Id", "{obj.name}Id", "Field", "DataType", "OldValue", '
            f'"NewValue", "CreatedDate", "CreatedById", "IsDeleted") '
            f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
            (self._new_id(hist), record_id, field_name, data_type, old, new, when, user))

    def create(self, object_name: str, fields: dict, *, user_id: str) -> dict:
        """Create a record as ``user_id``; returns it as the API would read it back.

        Assigns Id and the audit fields and writes a ``created`` history row when history
        is tracked. Raises :class:`StoreError` (REQUIRED_FIELD_MISSING, INVALID_FIELD,
        INVALID_EMAIL_ADDRESS, ...).
        """
        obj = self._object(object_name)
        if not obj.createable:
            raise StoreError(400, "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
                             f"entity type {obj.name} does not support insert")
        user = to18(user_id)
        with self.transaction():
            values = self._coerce(obj, fields, creating=True)
            missing = [name for name in obj.required if values.get(name) in (None, "")]
            if missing:
                raise StoreError(400, "REQUIRED_FIELD_MISSING",
                                 f"Required fields are missing: [{', '.join(missing)}]", missing)
            now = self._now()
            values.update({"Id": self._new_id(obj), "CreatedDate": now, "CreatedById": user,
                           "LastModifiedDate": now, "LastModifiedById": user,
                           "SystemModstamp": now, "IsDeleted": 0})
            values.setdefault("OwnerId", user)
            if obj is schema.LEAD:
                values.setdefault("Status", "Open - Not Contacted")
            if "EmailBouncedDate" in {f.name for f in obj.fields}:
                values["IsEmailBounced"] = int(values.get("EmailBouncedDate") is not None)
            cols = ", ".join(f'"{n}"' for n in values)
            self._conn.execute(f"INSERT INTO {obj.table} ({cols}) VALUES "
                               f"({', '.join('?' * len(values))})", list(values.values()))
            self._history_row(obj, values["Id"], "created", None, None, now, user, "Text")
            return self._wire(obj, self._row(obj, values["Id"]))

    def update(self, object_name: str, record_id: str, fields: dict, *, user_id: str,
               if_unmodified_since: datetime | None = None,
               min_gap: timedelta | None = None) -> dict:
        """Save changed fields as ``user_id``; returns the record as read back.

        Bumps LastModifiedDate/LastModifiedById/SystemModstamp; an Email change clears the
        bounce fields (as Salesforce does) and writes an ``Email`` history row when history
        is tracked. ``if_unmodified_since`` refuses with 412 when the record changed later
        (compared at one-second resolution, like an HTTP date); ``min_gap`` moves
        LastModifiedDate at least that far past its previous value.
        """
        obj = self._object(object_name)
        if not obj.updateable:
            raise StoreError(400, "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
                             f"entity type {obj.name} does not support update")
        record_id = self._check_id(obj, record_id)
        user = to18(user_id)
        with self.transaction():
            values = self._coerce(obj, fields, creating=False)
            current = self._current(obj, record_id)
            if if_unmodified_since is not None:
                modified = parse_wire_datetime(current["LastModifiedDate"]).replace(microsecond=0)
                if modified > if_unmodified_since.astimezone(timezone.utc):
                    raise StoreError(412, "PRECONDITION_FAILED",
                                     f"The record was modified after the time given in "
                                     f"If-Unmodified-Since (last modified "
                                     f"{current['LastModifiedDate']}).")
            for name in obj.required:
                if name in values and values[name] is None:
                    raise StoreError(400, "REQUIRED_FIELD_MISSING",
                                     f"Required fields are missing: [{name}]", [name])
            now = self._now(current["LastModifiedDate"], min_gap) if min_gap else self._now()
            if "Email" in values and values["Email"] != current["Email"]:
                # A new address has not bounced (yet): Salesforce clears the bounce fields.
                if "EmailBouncedDate" not in values:
                    values["EmailBouncedDate"] = None
                if "EmailBouncedReason" not in values:
                    values["EmailBouncedReason"] = None
                self._history_row(obj, record_id, "Email", current["Email"], values["Email"],
                                  now, user, "Email")
            if "EmailBouncedDate" in values:
                values["IsEmailBounced"] = int(values["EmailBouncedDate"] is not None)
            values.update({"LastModifiedDate": now, "LastModifiedById": user,
                           "SystemModstamp": now})
            sets = ", ".join(f'"{n}" = ?' for n in values)
            self._conn.execute(f'UPDATE {obj.table} SET {sets} WHERE "Id" = ?',
                               [*values.values(), record_id])
            return self._wire(obj, self._row(obj, record_id))

    def _current(self, obj: schema.SObject, record_id: str) -> dict:
        """The stored record for a write, refusing missing, deleted and converted ones."""
        row = self._row(obj, record_id)
        if row is None:
            raise StoreError(404, "NOT_FOUND", "The requested resource does not exist")
        current = dict(zip((f.name for f in obj.stored_fields), row))
        if current["IsDeleted"]:
            raise StoreError(404, "ENTITY_IS_DELETED", "entity is deleted")
        if obj is schema.LEAD and current["IsConverted"]:
            raise StoreError(400, "CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")
        return current

    def delete(self, object_name: str, record_id: str, *, user_id: str | None = None) -> None:
        """Move a record to the recycle bin: IsDeleted, still visible through queryAll."""
        obj = self._object(object_name)
        if not obj.deletable:
            raise StoreError(400, "INVALID_TYPE", f"entity type {obj.name} does not support delete")
        record_id = self._check_id(obj, record_id)
        with self.transaction():
            current = self._current(obj, record_id)
            now = self._now()
            self._conn.execute(
                f'UPDATE {obj.table} SET "IsDeleted" = 1, "SystemModstamp" = ?, '
                f'"LastModifiedDate" = ?, "LastModifiedById" = ? WHERE "Id" = ?',
                (now, now, to18(user_id) if user_id else current["LastModifiedById"], record_id))

    def purge(self, object_name: str, record_id: str) -> None:
        """Empty a deleted record from the recycle bin (as Salesforce does after 15 days, or
        a user at once): queryAll no longer returns it, nor its field history; getDeleted
        still lists it."""
        obj = self._object(object_name)
        record_id = self._check_id(obj, record_id)
        with self.transaction():
            row = self._conn.execute(f'SELECT "IsDeleted", "SystemModstamp" FROM {obj.table} '
                                     f'WHERE "Id" = ?', (record_id,)).fetchone()
            if row is None or not row[0]:
                raise StoreError(400, "INVALID_ID_FIELD", "the record is not in the recycle bin")
            self._conn.execute(f'DELETE FROM {obj.table} WHERE "Id" = ?', (record_id,))
            self._conn.execute("INSERT INTO purged VALUES (?, ?, ?)", (obj.name, record_id, row[1]))
            hist = schema.HISTORY_OF.get(obj.name)
            if hist is not None:  # its field history goes with it
                self._conn.execute(f'DELETE FROM {hist.table} WHERE "{obj.name}Id" = ?',
                                   (record_id,))

    def external_edit(self, object_name: str, record_id: str, fields: dict, *,
                      user_id: str = OTHER_USER, min_gap: timedelta = timedelta(seconds=1)) -> dict:
        """Someone else saves the record: LastModifiedDate moves at least ``min_gap`` on.

        This is how the sandbox stages an edit between a client's read and its write, so an
        ``If-Unmodified-Since`` guard sees it even within the same second.
        """
        return self.update(object_name, record_id, fields, user_id=user_id, min_gap=min_gap)

    def convert_lead(self, lead_id: str, *, user_id: str, contact_id: str | None = None,
                     account_id: str | None = None) -> dict:
        """Convert a Lead (into ``contact_id`` or a new Contact); returns the converted Lead."""
        with self.transaction():
            lead = self._current(schema.LEAD, self._check_id(schema.LEAD, lead_id))
            if contact_id is None:
                contact = self.create("Contact", {
                    "FirstName": lead["FirstName"], "LastName": lead["LastName"],
                    "Email": lead["Email"], **({"AccountId": account_id} if account_id else {}),
                }, user_id=user_id)
                contact_id = contact["Id"]
            now = self._now()
            self._conn.execute(
                'UPDATE "Lead" SET "IsConverted" = 1, "ConvertedDate" = ?, '
                '"ConvertedContactId" = ?, '
                '"ConvertedAccountId" = ?, "LastModifiedDate" = ?, "LastModifiedById" = ?, '
                '"SystemModstamp" = ? WHERE "Id" = ?',
                (now[:10], to18(contact_id), to18(account_id) if account_id else None, now,
                 to18(user_id), now, lead["Id"]))
            return self._wire(schema.LEAD, self._row(schema.LEAD, lead["Id"]))

    # -- replication (getUpdated / getDeleted) --------------------------------------------

    def updated_ids(self, object_name: str, start: datetime, end: datetime) -> list[str]:
        """Ids of records (not deleted) whose SystemModstamp is within [start, end]."""
        obj = self._object(object_name)
        with self._lock:
            return [r[0] for r in self._conn.execute(
                f'SELECT "Id" FROM {obj.table} WHERE "SystemModstamp" >= ? AND '
                f'"SystemModstamp" <= ? AND "IsDeleted" = 0 ORDER BY "SystemModstamp", rowid',
                (format_datetime(start), format_datetime(end)))]

    def deleted_ids(self, object_name: str, start: datetime,
                    end: datetime) -> list[tuple[str, str]]:
        """``(Id, deletedDate)`` of records deleted within [start, end]."""
        obj = self._object(object_name)
        low, high = format_datetime(start), format_datetime(end)
        with self._lock:
            return list(self._conn.execute(
                f'SELECT "Id", "SystemModstamp" FROM {obj.table} WHERE "IsDeleted" = 1 AND '
                f'"SystemModstamp" BETWEEN :low AND :high UNION ALL SELECT "Id", "deletedDate" '
                f'FROM purged WHERE "object" = :object AND "deletedDate" BETWEEN :low AND :high '
                f'ORDER BY 2', {"low": low, "high": high, "object": obj.name}))
