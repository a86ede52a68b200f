"""Conversions between the wire shapes of both APIs, cache rows, and model objects.

The pull and the sandbox data generator both turn API-shaped records into cache rows with
the same functions, so whatever the engine is tested on is what a real pull stores.
"""

from __future__ import annotations

import orjson

from core.emails import comparison_key
from core.model import EditTime, TimeSource
from core.store.cache import iso, parse_time

APOLLO_COLUMNS = (
    "id", "first_name", "last_name", "organization_name", "email", "email_key", "email_status",
    "email_from_customer", "contact_stage_id", "salesforce_id", "salesforce_lead_id",
    "salesforce_contact_id", "created_at", "updated_at",
)
SF_COLUMNS = (
    "id", "object", "first_name", "last_name", "company", "account_id", "email", "email_key",
    "bounced_at", "bounce_reason", "is_converted", "converted_contact_id", "created_at",
    "created_by_id", "last_modified_at", "last_modified_by_id", "system_modstamp", "is_deleted",
)
# The Salesforce fields Concord asks for; Account.Name gives a Contact its company.
SF_FIELDS = {
    "Contact": ("Id", "FirstName", "LastName", "Email", "AccountId", "Account.Name",
                "EmailBouncedDate", "EmailBouncedReason", "CreatedDate", "CreatedById",
                "LastModifiedDate", "LastModifiedById", "SystemModstamp", "IsDeleted"),
    "Lead": ("Id", "FirstName", "LastName", "Email", "Company", "EmailBouncedDate",
             "EmailBouncedReason", "IsConverted", "ConvertedContactId", "ConvertedAccountId",
             "CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById",
             "SystemModstamp", "IsDeleted"),
}


class RecordError(ValueError):
    """A record from an API does not have the shape Concord needs; names the record and field."""


def cache_time(value) -> str | None:
    """Any API timestamp (``...Z``, ``...+0000``, ``...+00:00``) in the cache's format."""
    if not value:
        return None
    if len(value) == 24 and value[-1] == "Z" and value[19] == ".":
        return value  # already ours: Apollo sends exactly this shape
    if len(value) == 28 and value.endswith("+0000") and value[19] == ".":
        return value[:23] + "Z"  # Salesforce's usual shape, without parsing
    return iso(parse_time(value))


def _text(value) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def apollo_row(contact: dict) -> tuple:
    """A cache row (in :data:`APOLLO_COLUMNS` order, then the raw JSON text) from an Apollo
    contact as the API sends it."""
    try:
        contact_id = contact["id"]
    except (KeyError, TypeError):
        raise RecordError(f"an Apollo contact without an id: {str(contact)[:120]}") from None
    email = contact.get("email")
    try:
        created, updated = cache_time(contact.get("created_at")), cache_time(contact.get("updated_at"))
    except ValueError as exc:
        raise RecordError(f"Apollo contact {contact_id}: unreadable timestamp ({exc})") from None
    return (
        contact_id,
        _text(contact.get("first_name")),
        _text(contact.get("last_name")),
        _text(contact.get("organization_name")),
        email,
        comparison_key(email),
        (contact.get("email_status") or None) and str(contact["email_status"]).lower(),
        1 if contact.get("email_from_customer") else 0,
        contact.get("contact_stage_id"),
        contact.get("salesforce_id"),
        contact.get("salesforce_lead_id"),
        contact.get("salesforce_contact_id"),
        created,
        updated,
        orjson.dumps(contact).decode(),
    )


def sf_row(record: dict, object_name: str | None = None) -> tuple:
    """A cache row (in :data:`SF_COLUMNS` order, then the raw JSON text) from a Salesforce
    Lead/Contact as queried."""
    try:
        record_id = record["Id"]
    except (KeyError, TypeError):
        raise RecordError(f"a Salesforce record without an Id: {str(record)[:120]}") from None
    obj = object_name or (record.get("attributes") or {}).get("type")
    if obj not in ("Lead", "Contact"):
        raise RecordError(f"Salesforce record {record_id}: object {obj!r} is not a Lead or Contact")
    if obj == "Lead":
        company = _text(record.get("Company"))
    else:
        account = record.get("Account")
        company = _text(account.get("Name")) if isinstance(account, dict) else ""
    email = record.get("Email")
    try:
        times = [cache_time(record.get(f)) for f in
                 ("EmailBouncedDate", "CreatedDate", "LastModifiedDate", "SystemModstamp")]
    except ValueError as exc:
        raise RecordError(f"Salesforce {obj} {record_id}: unreadable timestamp ({exc})") from None
    raw = {k: v for k, v in record.items() if k != "attributes"}
    return (
        record_id,
        obj,
        _text(record.get("FirstName")),
        _text(record.get("LastName")),
        company,
        record.get("AccountId") or record.get("ConvertedAccountId"),
        email,
        comparison_key(email),
        times[0],
        record.get("EmailBouncedReason"),
        1 if record.get("IsConverted") else 0,
        record.get("ConvertedContactId"),
        times[1],
        record.get("CreatedById"),
        times[2],
        record.get("LastModifiedById"),
        times[3],
        1 if record.get("IsDeleted") else 0,
        orjson.dumps(raw).decode(),
    )


def history_row(row: dict) -> tuple | None:
    """``(id, record_id, old, new, new_key, changed_at, changed_by)`` from a ContactHistory or
    LeadHistory row, or None when the row is not about Email."""
    if (row.get("Field") or "").lower() != "email":
        return None
    record_id = row.get("ContactId") or row.get("LeadId")
    if not row.get("Id") or not record_id:
        raise RecordError(f"a field-history row without Id or record id: {str(row)[:120]}")
    new = row.get("NewValue")
    return (row["Id"], record_id, row.get("OldValue"), new, comparison_key(new),
            cache_time(row.get("CreatedDate")), row.get("CreatedById"))


def edit_time(history_at: str | None, first_seen: str | None, prior_seen: str | None,
              record_time: str | None) -> EditTime:
    """When the current email was set, from the best evidence available (DESIGN §3.2).

    Field history gives the exact time; an observation of the value replacing an older one
    gives an interval; otherwise the record's own timestamp is an upper bound.
    """
    if history_at:
        return EditTime.at(parse_time(history_at), TimeSource.HISTORY)
    if first_seen and prior_seen:
        upper = parse_time(first_seen)
        if record_time:
            upper = min(upper, parse_time(record_time))
        lower = parse_time(prior_seen)
        if upper >= lower:
            return EditTime(lower, upper, TimeSource.OBSERVATION)
    if record_time:
        return EditTime.upper_bound(parse_time(record_time))
    if first_seen:
        return EditTime.upper_bound(parse_time(first_seen))
    return EditTime(None, None, TimeSource.UNKNOWN)
