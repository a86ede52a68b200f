"""sObject rows (create, read, update, delete, If-Unmodified-Since) and the replication lists
through the real simple-salesforce client."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from simple_salesforce.exceptions import (
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceResourceNotFound,
)

from core.sandbox.ids import CONCORD_USER, salesforce_id, to18
from core.sandbox.salesforce.values import parse_wire_datetime
from tests.sandbox.salesforce.org import ACME, MODIFIED, contact_id, lead_id

ME = to18(CONCORD_USER)


def test_row_crud(sf, sf_store):
    contact = sf.Contact
    created = contact.create({"LastName": "Hamilton", "Email": "Margaret@MIT.example",
                              "AccountId": ACME})
    assert created["success"] is True and created["errors"] == []
    new_id = created["id"]
    assert new_id.startswith("003") and len(new_id) == 18
    assert contact.get(new_id)["Email"] == "margaret@mit.example"
    assert contact.get(new_id, params={"fields": "Email,LastName"}) == {
        "attributes": {"type": "Contact", "url": f"/services/data/v59.0/sobjects/Contact/{new_id}"},
        "Email": "margaret@mit.example", "LastName": "Hamilton"}
    assert contact.update(new_id, {"FirstName": "Margaret"}) == 204
    assert contact.delete(new_id) == 204
    with pytest.raises(SalesforceResourceNotFound) as err:
        contact.get(new_id)
    assert err.value.content[0]["errorCode"] == "NOT_FOUND"
    assert sf_store.get("Contact", new_id, include_deleted=True)["IsDeleted"] is True


@pytest.mark.parametrize("call, exc, status, code", [
    (lambda sf: sf.Contact.get(contact_id(99)), SalesforceResourceNotFound, 404, "NOT_FOUND"),
    (lambda sf: sf.Contact.update(contact_id(99), {"FirstName": "x"}), SalesforceResourceNotFound,
     404, "NOT_FOUND"),
    (lambda sf: sf.Contact.delete(contact_id(99)), SalesforceResourceNotFound, 404, "NOT_FOUND"),
    (lambda sf: sf.Contact.update("003abc", {"FirstName": "x"}), SalesforceMalformedRequest, 400,
     "MALFORMED_ID"),
    (lambda sf: sf.Lead.update(lead_id(3), {"Email": "alan@new.example"}),
     SalesforceMalformedRequest, 400, "CANNOT_UPDATE_CONVERTED_LEAD"),
    (lambda sf: sf.Contact.update(contact_id(1), {"Email": "ada@@acme"}),
     SalesforceMalformedRequest, 400, "INVALID_EMAIL_ADDRESS"),
    (lambda sf: sf.Contact.update(contact_id(1), {"Shoe__c": 1}), SalesforceMalformedRequest, 400,
     "INVALID_FIELD"),
    (lambda sf: sf.Lead.create({"LastName": "x"}), SalesforceMalformedRequest, 400,
     "REQUIRED_FIELD_MISSING"),
    (lambda sf: sf.Contact.get(contact_id(1), params={"fields": "Nope"}),
     SalesforceMalformedRequest, 400, "INVALID_FIELD"),
    (lambda sf: sf.Opportunity.get(salesforce_id("Account", 1)), SalesforceResourceNotFound, 404,
     "NOT_FOUND"),
])
def test_row_errors(sf, call, exc, status, code):
    with pytest.raises(exc) as err:
        call(sf)
    assert err.value.status == status
    assert err.value.content[0]["errorCode"] == code


def test_email_change_bumps_audit_fields_and_writes_history(sf, sf_clock):
    before = sf.Contact.get(contact_id(2))
    sf_clock.advance(minutes=3)
    sf.Contact.update(contact_id(2), {"Email": "Grace@Navy.example"})
    after = sf.Contact.get(contact_id(2))
    assert after["Email"] == "grace@navy.example"
    assert after["LastModifiedById"] == ME
    assert after["LastModifiedDate"] > before["LastModifiedDate"]
    assert after["SystemModstamp"] == after["LastModifiedDate"]
    rows = sf.query(f"SELECT ContactId, OldValue, NewValue, CreatedById, CreatedDate FROM "
                    f"ContactHistory WHERE Field = 'Email' AND ContactId = '{contact_id(2)}' "
                    f"AND CreatedDate > 2026-03-01T00:00:00Z")["records"]
    assert [(r["OldValue"], r["NewValue"], r["CreatedById"]) for r in rows] == [
        ("grace@acme.example", "grace@navy.example", ME)]


def test_no_history_when_tracking_is_off(sf, sf_http, sf_server):
    admin = {"X-Sandbox-Admin": sf_server.admin_token}
    off = sf_http.post(f"{sf_server.base_url}/__sandbox/history", json={"track": False},
                       headers=admin)
    assert off.json() == {"track": False}
    sf.Lead.update(lead_id(1), {"Email": "knuth@stanford.example"})
    assert sf.query("SELECT Id FROM LeadHistory")["totalSize"] == 0
    sf_http.post(f"{sf_server.base_url}/__sandbox/history", json={"track": True}, headers=admin)
    sf.Lead.update(lead_id(1), {"Email": "don@stanford.example"})
    assert sf.query("SELECT OldValue FROM LeadHistory")["records"][0]["OldValue"] == \
        "knuth@stanford.example"


# -- If-Unmodified-Since --------------------------------------------------------------------------

def http_date(when: datetime) -> str:
    return when.strftime("%a, %d %b %Y %H:%M:%S GMT")


def test_if_unmodified_since(sf, sf_clock):
    modified = parse_wire_datetime(MODIFIED)
    guard = {"If-Unmodified-Since": http_date(modified)}
    assert sf.Contact.update(contact_id(1), {"FirstName": "Augusta"}, headers=guard) == 204
    # the record changed after the time we read it: refused, nothing written
    with pytest.raises(SalesforceGeneralError) as err:
        sf.Contact.update(contact_id(1), {"Email": "stale@write.example"}, headers=guard)
    assert err.value.status == 412
    assert err.value.content[0]["errorCode"] == "PRECONDITION_FAILED"
    assert sf.Contact.get(contact_id(1))["Email"] == "ada@acme.example"
    fresh = parse_wire_datetime(sf.Contact.get(contact_id(1))["LastModifiedDate"])
    assert sf.Contact.update(contact_id(1), {"Email": "fresh@write.example"},
                             headers={"If-Unmodified-Since": http_date(fresh)}) == 204


@pytest.mark.parametrize("value", ["yesterday", "2026-02-01T10:00:00Z", "Sun, 99 Foo 2026 x",
                                   ""])
def test_unparseable_if_unmodified_since_is_400(sf, value):
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Contact.update(contact_id(1), {"FirstName": "x"},
                          headers={"If-Unmodified-Since": value})
    assert err.value.status == 400
    assert sf.Contact.get(contact_id(1))["FirstName"] == "Ada"


# -- replication: updated and deleted ids ----------------------------------------------------

def test_updated_and_deleted(sf, sf_clock):
    start = sf_clock() - timedelta(minutes=1)
    sf_clock.advance(seconds=5)
    sf.Contact.update(contact_id(1), {"FirstName": "A"})
    sf.Contact.delete(contact_id(5))
    end = sf_clock() + timedelta(minutes=1)
    updated = sf.Contact.updated(start, end)
    assert updated["ids"] == [contact_id(1)]
    assert updated["latestDateCovered"] <= end.strftime("%Y-%m-%dT%H:%M:%S.999+0000")
    deleted = sf.Contact.deleted(start, end)
    assert [d["id"] for d in deleted["deletedRecords"]] == [contact_id(5)]
    with pytest.raises(SalesforceMalformedRequest) as short:  # a minute or less
        sf.Contact.deleted(sf_clock() - timedelta(seconds=30), sf_clock())
    assert short.value.content[0]["errorCode"] == "INVALID_REPLICATION_DATE"
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Contact.updated(datetime(2025, 1, 1, tzinfo=timezone.utc), end)
    assert err.value.content[0]["errorCode"] == "INVALID_REPLICATION_DATE"


def test_malformed_json_body(sf_http, sf_server, sf_app):
    response = sf_http.patch(
        f"{sf_server.base_url}/services/data/v59.0/sobjects/Contact/{contact_id(1)}",
        data=b"{not json", headers={"Authorization": f"Bearer {sf_app.issue_token()}",
                                    "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "JSON_PARSER_ERROR"
    assert "Sforce-Limit-Info" in response.headers
