"""The engine's black-box interface (DESIGN §3.3): one JSON object in, one decision out.

``concord decide`` feeds JSON Lines through :func:`decide_line`; a line that cannot be read
gives ``{"id", "error"}`` naming what was wrong and where, and the other lines still run.

Beyond DESIGN §3.3's example, a line may say how Apollo links the contact
(``apollo.salesforce_lead_id`` / ``salesforce_contact_id`` beside ``salesforce_id``; a line
with none of the three is taken as linked to its ``salesforce`` record) and list
``salesforce_duplicates``: ids of other Salesforce Leads/Contacts holding Apollo's address.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import json
import sys
from datetime import datetime

import orjson

from core.cli.errors import EXIT_OK, EXIT_USAGE, InputError
from core.model import UTC, ApolloContact, Base, EditTime, SalesforceRecord, Settings, TimeSource
from core.rules import decide
from core.store.cache import parse_time
from core.store.settings import settings_from_dict

# The members each part of a line may have (DESIGN §3.3); anything else is a typo to name.
LINE_KEYS = ("id", "apollo", "salesforce", "base", "settings", "now", "salesforce_duplicates")
APOLLO_KEYS = ("id", "email", "email_status", "first_name", "last_name", "organization_name",
               "contact_stage", "contact_stage_id", "salesforce_id", "salesforce_lead_id",
               "salesforce_contact_id", "created_at", "updated_at", "email_changed_at")
SALESFORCE_KEYS = ("id", "object", "email", "created_at", "created_by_apollo", "last_modified",
                   "email_changed_at", "bounced_at", "bounce_reason", "is_converted",
                   "converted_contact_id")
BASE_KEYS = ("email", "synced_at")
# Apollo's email statuses (compared without regard to case).
EMAIL_STATUSES = ("verified", "unverified", "guessed", "extrapolated", "likely to engage",
                  "unavailable", "bounced", "pending_manual_fulfillment")


def _nearest(value: str, choices) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or a list of them all."""
    close = difflib.get_close_matches(value.lower(), list(choices), n=1, cutoff=0.5)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return " (known: " + ", ".join(choices) + ")"


def _check_keys(obj: dict, known, where: str) -> None:
    """An unknown member is an error naming it and the nearest known one."""
    for key in obj:
        if key not in known:
            shown = key if key.isprintable() else repr(key)
            name = f"{where}.{shown}" if where else shown
            raise InputError(f"{name} is not a known key{_nearest(str(key), known)}")


def _time(obj: dict, key: str, where: str) -> datetime | None:
    value = obj.get(key)
    if value is None:
        return None
    name = f"{where}.{key}" if where else key
    if not isinstance(value, str):
        raise InputError(f"{name} must be an ISO-8601 time or null, got {_short(value)}")
    try:
        return parse_time(value)
    except ValueError:
        raise InputError(f"{name} is not an ISO-8601 time such as 2026-03-01T09:00:00Z: "
                         f"{_short(value)}") from None


def _short(value) -> str:
    """A value for a message, cut to a readable length."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _str(obj: dict, key: str, where: str, default=None):
    value = obj.get(key, default)
    if value is not None and not isinstance(value, str):
        raise InputError(f"{where}.{key} must be a string or null, got {_short(value)}")
    return value


def _bool(obj: dict, key: str, where: str, default: bool = False) -> bool:
    value = obj.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise InputError(f"{where}.{key} must be true or false, got {_short(value)}")
    return value


def _object(obj, where: str) -> dict | None:
    if obj is None:
        return None
    if not isinstance(obj, dict):
        raise InputError(f"{where} must be an object or null, got {type(obj).__name__}")
    return obj


_LINK_KEYS = ("salesforce_id", "salesforce_lead_id", "salesforce_contact_id")


def apollo_from_json(obj: dict | None, salesforce: dict | None = None) -> ApolloContact | None:
    """An :class:`ApolloContact` from the ``apollo`` member of a decide line (linked to the
    line's ``salesforce`` record unless it says how it is linked)."""
    obj = _object(obj, "apollo")
    if obj is None:
        return None
    _check_keys(obj, APOLLO_KEYS, "apollo")
    links = {key: _str(obj, key, "apollo") for key in _LINK_KEYS}
    if not any(key in obj for key in _LINK_KEYS) and isinstance(salesforce, dict):
        links["salesforce_id"] = _str(salesforce, "id", "salesforce")
    updated = _time(obj, "updated_at", "apollo")
    changed = _time(obj, "email_changed_at", "apollo")
    edit = EditTime.at(changed, TimeSource.OBSERVATION) if changed else EditTime.upper_bound(updated)
    status = _str(obj, "email_status", "apollo")
    if status is not None and status.lower() not in EMAIL_STATUSES:
        raise InputError(f"apollo.email_status {_short(status)} is not one of Apollo's "
                         f"statuses{_nearest(status, EMAIL_STATUSES)}")
    return ApolloContact(
        id=_str(obj, "id", "apollo") or "",
        email=_str(obj, "email", "apollo"),
        email_status=status.lower() if status else None,
        first_name=_str(obj, "first_name", "apollo") or "",
        last_name=_str(obj, "last_name", "apollo") or "",
        organization_name=_str(obj, "organization_name", "apollo") or "",
        contact_stage=_str(obj, "contact_stage", "apollo"),
        contact_stage_id=_str(obj, "contact_stage_id", "apollo"),
        **links,
        created_at=_time(obj, "created_at", "apollo"),
        updated_at=updated,
        email_edit=edit,
    )


def salesforce_from_json(obj: dict | None) -> SalesforceRecord | None:
    """A :class:`SalesforceRecord` from the ``salesforce`` member of a decide line."""
    obj = _object(obj, "salesforce")
    if obj is None:
        return None
    _check_keys(obj, SALESFORCE_KEYS, "salesforce")
    kind = obj.get("object", "Contact")
    if kind not in ("Lead", "Contact"):
        raise InputError(f"salesforce.object must be 'Lead' or 'Contact', got {_short(kind)}")
    modified = _time(obj, "last_modified", "salesforce")
    changed = _time(obj, "email_changed_at", "salesforce")
    edit = EditTime.at(changed, TimeSource.HISTORY) if changed else EditTime.upper_bound(modified)
    return SalesforceRecord(
        id=_str(obj, "id", "salesforce") or "",
        object=kind,
        email=_str(obj, "email", "salesforce"),
        created_at=_time(obj, "created_at", "salesforce"),
        created_by_apollo=_bool(obj, "created_by_apollo", "salesforce"),
        last_modified=modified,
        bounced_at=_time(obj, "bounced_at", "salesforce"),
        bounce_reason=_str(obj, "bounce_reason", "salesforce"),
        is_converted=_bool(obj, "is_converted", "salesforce"),
        converted_contact_id=_str(obj, "converted_contact_id", "salesforce"),
        email_edit=edit,
    )


def duplicates_from_json(value) -> tuple[str, ...]:
    """The ``salesforce_duplicates`` member: a list of Salesforce ids, or null."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"salesforce_duplicates must be a list of Salesforce ids, got {value!r}")
    return tuple(value)


def base_from_json(obj: dict | None) -> Base | None:
    obj = _object(obj, "base")
    if obj is None:
        return None
    _check_keys(obj, BASE_KEYS, "base")
    email = _str(obj, "email", "base")
    if email is None:
        raise InputError("base.email is required when base is given")
    return Base(email, _time(obj, "synced_at", "base"))


SETTINGS_KEYS = tuple(f.name for f in dataclasses.fields(Settings))


def settings_from_json(obj: dict | None) -> Settings:
    """:class:`Settings` from the ``settings`` member; missing keys take the defaults."""
    obj = _object(obj, "settings") or {}
    _check_keys(obj, SETTINGS_KEYS, "settings")
    try:
        return settings_from_dict(obj, where="settings.")
    except InputError:
        raise
    except ValueError as exc:
        raise InputError(str(exc)) from None


def decide_obj(line: dict) -> dict:
    """Decide one parsed input object; raises :class:`InputError` when it is malformed."""
    if not isinstance(line, dict):
        raise InputError(f"each line must be a JSON object, got {type(line).__name__}")
    _check_keys(line, LINE_KEYS, "")
    apollo = apollo_from_json(line.get("apollo"), line.get("salesforce"))
    salesforce = salesforce_from_json(line.get("salesforce"))
    if apollo is None and salesforce is None:
        raise InputError("a line needs 'apollo', 'salesforce', or both")
    now = _time(line, "now", "") or datetime.now(UTC)
    decision = decide(apollo, salesforce, base_from_json(line.get("base")),
                      settings_from_json(line.get("settings")), now,
                      duplicates=duplicates_from_json(line.get("salesforce_duplicates")))
    return {"id": line.get("id"), **decision.as_dict()}


def decide_line(text: str | bytes, number: int) -> tuple[dict, bool]:
    """Decide one JSON line; return ``(output object, ok)``. Never raises for bad input."""
    if isinstance(text, bytes):
        try:
            text.decode("utf-8")
        except UnicodeDecodeError as exc:
            return {"id": None, "error": f"line {number}: not UTF-8 text (byte "
                                         f"0x{text[exc.start]:02x} at position {exc.start})"}, False
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return {"id": None, "error": f"line {number}: not valid JSON ({exc})"}, False
    line_id = obj.get("id") if isinstance(obj, dict) else None
    try:
        return decide_obj(obj), True
    except InputError as exc:
        return {"id": line_id, "error": f"line {number}: {exc}"}, False


# -- the command ------------------------------------------------------------------------------

HELP = """\
Read JSON Lines (standard input, or --input FILE): one pair per line, and write one JSON
decision per line. Each line is an object with:

  id          anything; copied to the output
  apollo      {id, email, email_status, contact_stage, salesforce_id, created_at,
               updated_at, email_changed_at, ...} or null
  salesforce  {id, object: Lead|Contact, email, created_at, created_by_apollo,
               last_modified, email_changed_at, bounced_at, is_converted, ...} or null
  base        {email, synced_at}: the last email both agreed on, or null
  settings    {create_policy, create_stages, create_as, manage_crm_as_contacts, preset}
  now         the time to decide at (default: now)

Times are ISO-8601 (2026-03-01T09:00:00Z) or null. A line that cannot be read gets
{"id", "error"} naming the key and the way to fix it, and the other lines still run.
Exit 0 when every line was decided, 2 when any line could not be read.
"""


def add_parser(subparsers):
    """Add ``decide`` to ``concord``'s subparsers."""
    p = subparsers.add_parser("decide", help="JSON Lines in, decisions out (no cache, no window)",
                              description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--input", metavar="FILE", help="read this file instead of standard input")
    p.set_defaults(func=run)
    return p


def _open_input(path: str | None):
    if path is None:
        return sys.stdin.buffer
    try:
        return open(path, "rb")
    except OSError as exc:
        raise InputError(f"Cannot read --input {path}: {exc.strerror}. Name a file of JSON "
                         f"Lines, or leave --input out to read standard input.") from None


def run(args) -> int:
    """Handle ``concord decide``: 0 when every line was decided, 2 when any could not be."""
    source = _open_input(args.input)
    bad = 0
    try:
        for number, line in enumerate(source, start=1):
            if number == 1 and line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]  # a byte-order mark some editors write
            if not line.strip():
                continue
            result, ok = decide_line(line, number)
            bad += not ok
            sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    finally:
        if source is not sys.stdin.buffer:
            source.close()
    sys.stdout.flush()
    return EXIT_USAGE if bad else EXIT_OK
