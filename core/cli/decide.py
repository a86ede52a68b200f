"""The engine's black-box interface (DESIGN §3.3): one JSON object in, one decision out.

``concord decide`` feeds JSON Lines through :func:`decide_line`; a line that cannot be read
gives ``{"id", "error"}`` naming what was wrong and where, and the other lines still run.

Beyond DESIGN §3.3's example, a line may say how Apollo links the contact
(``apollo.salesforce_lead_id`` / ``salesforce_contact_id`` beside ``salesforce_id``; a line
with none of the three is taken as linked to its ``salesforce`` record) and list
``salesforce_duplicates``: ids of other Salesforce Leads/Contacts holding Apollo's address.
"""

from __future__ import annotations

from datetime import datetime

import orjson

from core.model import UTC, ApolloContact, Base, EditTime, SalesforceRecord, Settings, TimeSource
from core.rules import decide
from core.store.cache import parse_time
from core.store.settings import settings_from_dict


class InputError(ValueError):
    """A decide input line is malformed; the message names the field."""


def _time(obj: dict, key: str, where: str) -> datetime | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(f"{where}.{key} must be an ISO-8601 string or null, got {value!r}")
    try:
        return parse_time(value)
    except ValueError:
        raise InputError(f"{where}.{key} is not an ISO-8601 time: {value!r}") from None


def _str(obj: dict, key: str, where: str, default=None):
    value = obj.get(key, default)
    if value is not None and not isinstance(value, str):
        raise InputError(f"{where}.{key} must be a string or null, got {value!r}")
    return value


def _bool(obj: dict, key: str, where: str, default: bool = False) -> bool:
    value = obj.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise InputError(f"{where}.{key} must be true or false, got {value!r}")
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
    links = {key: _str(obj, key, "apollo") for key in _LINK_KEYS}
    if not any(key in obj for key in _LINK_KEYS) and isinstance(salesforce, dict):
        links["salesforce_id"] = _str(salesforce, "id", "salesforce")
    updated = _time(obj, "updated_at", "apollo")
    changed = _time(obj, "email_changed_at", "apollo")
    edit = EditTime.at(changed, TimeSource.OBSERVATION) if changed else EditTime.upper_bound(updated)
    status = _str(obj, "email_status", "apollo")
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
    kind = obj.get("object", "Contact")
    if kind not in ("Lead", "Contact"):
        raise InputError(f"salesforce.object must be 'Lead' or 'Contact', got {kind!r}")
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
    email = _str(obj, "email", "base")
    if email is None:
        raise InputError("base.email is required when base is given")
    return Base(email, _time(obj, "synced_at", "base"))


def settings_from_json(obj: dict | None) -> Settings:
    """:class:`Settings` from the ``settings`` member; missing keys take the defaults."""
    try:
        return settings_from_dict(_object(obj, "settings") or {}, where="settings.")
    except InputError:
        raise
    except ValueError as exc:
        raise InputError(str(exc)) from None


def decide_obj(line: dict) -> dict:
    """Decide one parsed input object; raises :class:`InputError` when it is malformed."""
    if not isinstance(line, dict):
        raise InputError(f"each line must be a JSON object, got {type(line).__name__}")
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
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return {"id": None, "error": f"line {number}: not valid JSON ({exc})"}, False
    line_id = obj.get("id") if isinstance(obj, dict) else None
    try:
        return decide_obj(obj), True
    except InputError as exc:
        return {"id": line_id, "error": f"line {number}: {exc}"}, False
