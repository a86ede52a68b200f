"""Small builders of API-shaped records for engine tests."""

from core.store.cache import Cache
from core.store.ingest import upsert_apollo, upsert_salesforce

T0 = "2026-01-01T00:00:00.000Z"


def contact(cid, email, *, sf=None, lead=None, contact_id=None, first="Jo", last="Smith",
            org="Acme", status="guessed", updated=T0, stage=None) -> dict:
    return {"id": cid, "first_name": first, "last_name": last, "organization_name": org,
            "email": email, "email_status": status, "contact_stage_id": stage,
            "salesforce_id": sf, "salesforce_lead_id": lead, "salesforce_contact_id": contact_id,
            "created_at": T0, "updated_at": updated}


def sf(rid, obj, email, *, first="Jo", last="Smith", company="Acme", converted_to=None,
       deleted=False, modified="2026-01-01T00:00:00.000+0000") -> dict:
    record = {"attributes": {"type": obj}, "Id": rid, "FirstName": first, "LastName": last,
              "Email": email, "CreatedDate": "2025-12-01T00:00:00.000+0000",
              "CreatedById": "005OTHER", "LastModifiedDate": modified, "SystemModstamp": modified,
              "IsDeleted": deleted}
    if obj == "Lead":
        record.update(Company=company, IsConverted=bool(converted_to), ConvertedContactId=converted_to)
    else:
        record["Account"] = {"Name": company}
    return record


def load(cache: Cache, contacts=(), records=(), when=T0) -> None:
    with cache.transaction():
        upsert_apollo(cache, list(contacts), when)
        upsert_salesforce(cache, list(records), when)


def links(cache: Cache) -> set[tuple]:
    return set(cache.conn.execute("SELECT apollo_id, sf_id, method FROM links"))
