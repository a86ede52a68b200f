"""Values of the Salesforce sandbox's records: wire text in and out, and loading rows fast.

Datetimes are kept as the API writes them (``2013-05-20T20:49:32.000+0000``, always UTC),
so they compare and sort as text and go out unchanged; booleans are 0/1 in SQLite and JSON
booleans on the wire; blank text is null, as Salesforce stores it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import datetime, timezone

from ..ids import OTHER_USER, to18, user_id
from . import schema
from .soql import format_datetime

ID_RE = re.compile(r"[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?\Z")
DEFAULT_OWNER = user_id(OTHER_USER)  # who loaded rows were created by when they do not say


def utc_now() -> datetime:
    """The real time, aware UTC (the store's default clock)."""
    return datetime.now(timezone.utc)


def parse_datetime(value) -> str | None:
    """A datetime (or ISO 8601 text) as the stored wire text; None stays None.

    Raises :class:`ValueError` for text that is not a datetime.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        when = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return format_datetime(when)
    if isinstance(value, str):
        # Fast path: already in the wire format (what loads of generated data carry).
        if len(value) == 28 and value[19] == "." and value.endswith("+0000"):
            return value
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return format_datetime(when)
    raise ValueError(f"not a datetime: {value!r}")


def parse_wire_datetime(text: str) -> datetime:
    """The aware datetime of a stored ``2013-05-20T20:49:32.000+0000`` value."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")


def _date(value) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    text = str(value)[:10]
    datetime.strptime(text, "%Y-%m-%d")
    return text


def _boolean(value) -> int:
    if isinstance(value, bool):
        return int(value)
    if value in (0, 1):
        return int(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return int(value.lower() == "true")
    raise ValueError(f"not a boolean: {value!r}")


def text_value(value) -> str | None:
    """Text as stored: blank is null; anything but text is a ValueError."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"not text: {value!r}")
    return value or None  # Salesforce keeps blank text as null


def _ident(value) -> str | None:
    if value == "":
        return None
    if isinstance(value, str) and len(value) == 18 and value.isalnum():
        return value
    if not isinstance(value, str) or not ID_RE.match(value):
        raise ValueError(f"not a Salesforce id: {value!r}")
    return to18(value)


@functools.lru_cache(maxsize=None)
def load_keys(obj: schema.SObject) -> frozenset[str]:
    """Keys a loaded row may carry: stored fields, Name, relationships and attributes."""
    return frozenset({f.name for f in obj.stored_fields} | {"attributes", "Name"}
                     | {f.relationship for f in obj.fields if f.relationship})


@functools.lru_cache(maxsize=None)
def row_converter(obj: schema.SObject) -> Callable[[dict, str, Callable[[], str]], tuple]:
    """A function turning one wire-shaped row into the table's column values.

    Bulk loads run it a million times, so it is generated per object as straight-line
    code: the common shapes (18-character ids, ``+0000`` datetimes) pass with one check,
    anything else goes through the full converters, and missing audit fields default the
    way Salesforce fills them (CreatedDate now, LastModifiedDate = CreatedDate, ...).
    """
    names = {f.name for f in obj.stored_fields}
    code = ["def convert(row, now, new_id):", "    get = row.get"]
    for f in obj.stored_fields:
        v = f"f_{f.name}"
        code.append(f"    {v} = get({f.name!r})")
        if f.type == "datetime":
            code.append(f"    if {v} is not None and ({v}.__class__ is not str or len({v}) != 28 "
                        f"or {v}[23:] != '+0000'): {v} = parse_datetime({v})")
        elif f.type in schema.ID_TYPES:
            code.append(f"    if {v} is not None and ({v}.__class__ is not str or len({v}) != 18):"
                        f" {v} = _ident({v})")
        elif f.type == "date":
            code.append(f"    if {v} is not None: {v} = _date({v})")
        elif f.type == "email":
            code.append(f"    if {v} is not None: {v} = {v}.lower() or None")
        elif f.type == "boolean":
            code.append(f"    if {v} is None: {v} = 0")
            code.append(f"    elif {v}.__class__ is not bool: {v} = _boolean({v})")
    code.append("    if f_Id is None: f_Id = new_id()")
    code.append("    f_CreatedDate = f_CreatedDate or now")
    code.append("    f_CreatedById = f_CreatedById or DEFAULT_OWNER")
    if "LastModifiedDate" in names:
        code.append("    f_LastModifiedDate = f_LastModifiedDate or f_CreatedDate")
        code.append("    f_SystemModstamp = f_SystemModstamp or f_LastModifiedDate")
        code.append("    f_LastModifiedById = f_LastModifiedById or f_CreatedById")
        code.append("    f_OwnerId = f_OwnerId or f_CreatedById")
    if "IsEmailBounced" in names:
        code.append("    if 'IsEmailBounced' not in row: f_IsEmailBounced = f_EmailBouncedDate "
                    "is not None")
    if "Status" in names:
        code.append("    f_Status = f_Status or 'Open - Not Contacted'")
    code.append("    return (" + ", ".join(f"f_{f.name}" for f in obj.stored_fields) + ",)")
    namespace = {"parse_datetime": parse_datetime, "_ident": _ident, "_date": _date,
                 "_boolean": _boolean, "DEFAULT_OWNER": DEFAULT_OWNER}
    exec(compile("\n".join(code), f"<row converter {obj.name}>", "exec"), namespace)
    return namespace["convert"]
