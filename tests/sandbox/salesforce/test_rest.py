"""The Salesforce sandbox's REST API through the real simple-salesforce client over HTTPS."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta, timezone

import pytest
from simple_salesforce.exceptions import (SalesforceExpiredSession, SalesforceGeneralError,
                                          SalesforceMalformedRequest, SalesforceRefusedRequest,
                                          SalesforceResourceNotFound)

from core.sandbox.ids import CONCORD_USER, salesforce_id, to18
from core.sandbox.salesforce.values import parse_wire_datetime

from tests.sandbox.salesforce.org import ACME, MODIFIED, contact_id, lead_id

ME = to18(CONCORD_USER)


def many_contacts(store, n: int, start: int = 1000) -> None:
    store.load_records({"attributes": {"type": "Contact"}, "Id": contact_id(start + i),
                        "LastName": f"Bulk{i:05d}", "Email": f"Bulk{i}@Many.example",
                        "AccountId": ACME if i % 3 == 0 else None} for i in range(n))


# -- queries ------------------------------------------------------------------------------------

@pytest.mark.parametrize("batch_header, page_size", [(None, 2000), ("batchSize=500", 500),
                                                     ("batchSize=50", 200),  # at least 200
                                                     ("batchSize=9999", 2000)])
def test_query_all_iter_pages(sf, sf_store, sf_app, sf_http, sf_server, batch_header, page_size):
    many_contacts(sf_store, 5000)
    headers = {"Sforce-Query-Options": batch_header} if batch_header else {}
    before = sf_app.api_used
    seen = [r["Email"] for r in sf.query_all_iter(
        "SELECT Id, Email FROM Contact WHERE Email LIKE 'bulk%' ORDER BY LastName",
        headers=headers)]
    assert seen == [f"bulk{i}@many.example" for i in range(5000)]
    pages = -(-5000 // page_size)
    assert sf_app.api_used - before == pages  # every page is one API call
    assert sf.api_usage["api-usage"].used == sf_app.api_used

    first = sf_http.get(f"{sf_server.base_url}/services/data/v58.0/query/",
                        params={"q": "SELECT Id FROM Contact"},
                        headers={"Authorization": f"Bearer {sf_app.issue_token()}", **headers})
    body = first.json()
    assert body["totalSize"] == 5006 and body["done"] is False
    assert len(body["records"]) == page_size
    assert body["nextRecordsUrl"].startswith("/services/data/v58.0/query/01g")
    assert body["nextRecordsUrl"].endswith(f"-{page_size}")


def test_record_wire_shape(sf):
    result = sf.query("SELECT Id, Name, Email, Account.Name, IsDeleted, CreatedDate, "
                      "EmailBouncedDate FROM Contact WHERE Email = 'ADA@ACME.EXAMPLE'")
    assert result["totalSize"] == 1 and result["done"] is True and "nextRecordsUrl" not in result
    (record,) = result["records"]
    assert record["attributes"] == {"type": "Contact",
                                    "url": f"/services/data/v59.0/sobjects/Contact/{contact_id(1)}"}
    assert record["Account"] == {"attributes": {
        "type": "Account", "url": f"/services/data/v59.0/sobjects/Account/{ACME}"}, "Name": "Acme"}
    assert record["IsDeleted"] is False and record["EmailBouncedDate"] is None
    assert record["CreatedDate"] == "2026-01-05T00:00:00.000+0000"
    assert list(record) == ["attributes", "Id", "Name", "Email", "Account", "IsDeleted",
                            "CreatedDate", "EmailBouncedDate"]


@pytest.mark.parametrize("soql, code", [
    ("SELECT Id FROM Contact WHERE Email = 'a' AND LastName = 'b' OR FirstName = 'c'",
     "MALFORMED_QUERY"),
    ("SELECT Id FROM Contact GROUP BY LastName", "MALFORMED_QUERY"),
    ("SELECT Shoe__c FROM Contact", "INVALID_FIELD"),
    ("SELECT Id FROM Contact WHERE CreatedDate > '2024-01-01'", "INVALID_FIELD"),
    ("SELECT Id FROM Opportunity", "INVALID_TYPE"),
])
def test_query_errors_are_malformed_request(sf, soql, code):
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query(soql)
    assert err.value.status == 400
    assert err.value.content[0]["errorCode"] == code
    assert err.value.content[0]["message"]


def test_query_all_includes_deleted(sf):
    sf.Contact.delete(contact_id(4))
    soql = "SELECT Id, IsDeleted FROM Contact WHERE Email = 'edsger@globex.example'"
    assert sf.query(soql)["totalSize"] == 0
    assert [r["IsDeleted"] for r in sf.query_all(soql, include_deleted=True)["records"]] == [True]


def test_count_and_unknown_locator(sf, sf_http, sf_server, sf_app):
    assert sf.query("SELECT COUNT() FROM Lead WHERE IsConverted = true") == {
        "totalSize": 1, "done": True, "records": []}
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query_more("01g000000000099AAA-2000", identifier_is_url=False)
    assert err.value.content[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_old_locators_are_dropped_beyond_the_cap(sf, sf_store, sf_app):
    many_contacts(sf_store, 450)
    sf_app.max_cursors = 2
    headers = {"Sforce-Query-Options": "batchSize=200"}
    pages = [sf.query("SELECT Id FROM Contact", headers=headers) for _ in range(3)]
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query_more(pages[0]["nextRecordsUrl"], identifier_is_url=True, headers=headers)
    assert err.value.content[0]["errorCode"] == "INVALID_QUERY_LOCATOR"
    more = sf.query_more(pages[2]["nextRecordsUrl"], identifier_is_url=True, headers=headers)
    assert len(more["records"]) == 200 and more["done"] is False


# -- sObject rows -------------------------------------------------------------------------------

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


# -- sObject collections -------------------------------------------------------------------------

def collection(sf, method: str, records: list, all_or_none: bool = False):
    return sf.restful("composite/sobjects", method=method,
                      json={"allOrNone": all_or_none, "records": records})


def test_collection_update_reports_each_record(sf):
    results = collection(sf, "PATCH", [
        {"attributes": {"type": "Contact"}, "id": contact_id(1), "Email": "ada@one.example"},
        {"attributes": {"type": "Contact"}, "id": contact_id(99), "Email": "x@y.example"},
        {"attributes": {"type": "Lead"}, "id": lead_id(3), "Email": "alan@z.example"},
        {"attributes": {"type": "Contact"}, "id": "bogus", "Email": "x@y.example"},
        {"id": contact_id(2), "Email": "grace@two.example"},
        {"attributes": {"type": "Lead"}, "Email": "no@id.example"},
        {"attributes": {"type": "Lead"}, "id": lead_id(1), "Email": "don@one.example"},
    ])
    assert [(r.get("id"), r["success"], r["errors"][0]["statusCode"] if r["errors"] else None)
            for r in results] == [
        (contact_id(1), True, None),
        (contact_id(99), False, "NOT_FOUND"),
        (lead_id(3), False, "CANNOT_UPDATE_CONVERTED_LEAD"),
        (None, False, "MALFORMED_ID"),
        (contact_id(2), False, "INVALID_TYPE"),
        (None, False, "MISSING_ARGUMENT"),
        (lead_id(1), True, None),
    ]
    assert sf.Contact.get(contact_id(1))["Email"] == "ada@one.example"
    assert sf.Lead.get(lead_id(1))["Email"] == "don@one.example"


def test_collection_all_or_none_rolls_back(sf):
    results = collection(sf, "PATCH", [
        {"attributes": {"type": "Contact"}, "id": contact_id(1), "Email": "ada@one.example"},
        {"attributes": {"type": "Contact"}, "id": contact_id(2), "Email": "not-an-email"},
    ], all_or_none=True)
    assert results == [
        {"id": contact_id(1), "success": False, "errors": [{
            "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
            "message": "Record rolled back because not all records were valid and the request "
                       "was using AllOrNone header", "fields": []}]},
        {"id": contact_id(2), "success": False, "errors": [results[1]["errors"][0]]},
    ]
    assert results[1]["errors"][0]["statusCode"] == "INVALID_EMAIL_ADDRESS"
    assert sf.Contact.get(contact_id(1))["Email"] == "ada@acme.example"
    assert sf.query(f"SELECT Id FROM ContactHistory WHERE ContactId = '{contact_id(1)}'"
                    )["totalSize"] == 0


def test_collection_limits_and_other_methods(sf, sf_app):
    too_many = [{"attributes": {"type": "Contact"}, "id": contact_id(1), "FirstName": "x"}] * 201
    with pytest.raises(SalesforceMalformedRequest) as err:
        collection(sf, "PATCH", too_many)
    assert err.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    before = sf_app.api_used
    created = collection(sf, "POST", [
        {"attributes": {"type": "Contact"}, "LastName": "One", "Email": "one@x.example"},
        {"attributes": {"type": "Lead"}, "LastName": "Two", "Company": "C"},
        {"attributes": {"type": "Lead"}, "LastName": "Three"}])
    assert sf_app.api_used - before == 1  # a collection is one call
    assert [r["success"] for r in created] == [True, True, False]
    ids = [r["id"] for r in created[:2]]
    fetched = sf.restful("composite/sobjects/Contact",
                         params={"ids": f"{ids[0]},{contact_id(99)}", "fields": "Id,Email"})
    assert fetched[0]["Email"] == "one@x.example" and fetched[1] is None
    deleted = sf.restful("composite/sobjects", method="DELETE",
                         params={"ids": ",".join(ids + [contact_id(99)])})
    assert [r["success"] for r in deleted] == [True, True, False]


# -- Bulk API 2.0 -------------------------------------------------------------------------

def test_bulk2_query_returns_every_row(sf, sf_store):
    many_contacts(sf_store, 4500)
    pages = list(sf.bulk2.Contact.query(
        "SELECT Id, Email, Account.Name, IsDeleted, CreatedDate FROM Contact "
        "WHERE Email LIKE 'bulk%' ORDER BY LastName", max_records=2000, wait=0))
    assert len(pages) == 3
    rows = [row for page in pages for row in csv.DictReader(io.StringIO(page))]
    assert len(rows) == 4500
    created = rows[0].pop("CreatedDate")
    assert re.fullmatch(r"2026-03-02T09:00:00\.\d{3}Z", created)  # Bulk CSV writes Z datetimes
    assert rows[0] == {"Id": contact_id(1000), "Email": "bulk0@many.example",
                       "Account.Name": "Acme", "IsDeleted": "false"}
    assert rows[1]["Account.Name"] == ""


def test_bulk2_wire(sf_http, sf_server, sf_app):
    base = f"{sf_server.base_url}/services/data/v59.0/jobs/query"
    auth = {"Authorization": f"Bearer {sf_app.issue_token()}"}
    job = sf_http.post(base, json={"operation": "query", "query": "SELECT Id FROM Lead",
                                   "columnDelimiter": "PIPE", "lineEnding": "CRLF"},
                       headers=auth).json()
    assert job["state"] == "UploadComplete" and job["id"].startswith("750")
    early = sf_http.get(f"{base}/{job['id']}/results", headers=auth)
    assert early.status_code == 400
    states = [sf_http.get(f"{base}/{job['id']}", headers=auth).json()["state"] for _ in range(2)]
    assert states == ["InProgress", "JobComplete"]
    first = sf_http.get(f"{base}/{job['id']}/results", params={"maxRecords": 2}, headers=auth)
    assert first.headers["Sforce-NumberOfRecords"] == "2"
    assert first.text == f'"Id"\r\n"{lead_id(1)}"\r\n"{lead_id(2)}"\r\n'
    last = sf_http.get(f"{base}/{job['id']}/results",
                       params={"maxRecords": 2, "locator": first.headers["Sforce-Locator"]},
                       headers=auth)
    assert last.headers["Sforce-Locator"] == "null"
    assert last.headers["Sforce-NumberOfRecords"] == "1"
    bad = sf_http.post(base, json={"operation": "query", "query": "SELECT Nope FROM Lead"},
                       headers=auth)
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALID_FIELD"


# -- limits, sessions, describe, replication -------------------------------------------------------

def test_limit_info_and_budget(sf, sf_app, sf_http, sf_server):
    sf.query("SELECT Id FROM Account")
    used = sf_app.api_used
    assert sf.api_usage["api-usage"].used == used and sf.api_usage["api-usage"].total == 15000
    limits = sf.limits()
    assert limits["DailyApiRequests"] == {"Max": 15000, "Remaining": 15000 - used - 1}
    admin = {"X-Sandbox-Admin": sf_server.admin_token}
    state = sf_http.post(f"{sf_server.base_url}/__sandbox/limits", json={"used": 99, "max": 100},
                         headers=admin).json()
    assert state == {"used": 99, "max": 100}
    sf.query("SELECT Id FROM Account")  # the 100th request is still allowed
    with pytest.raises(SalesforceRefusedRequest) as err:
        sf.query("SELECT Id FROM Account")
    assert err.value.status == 403
    assert err.value.content == [{"message": "TotalRequests Limit exceeded.",
                                  "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    response = sf_http.get(f"{sf_server.base_url}/services/data/v59.0/limits/",
                           headers={"Authorization": f"Bearer {sf_app.issue_token()}"})
    assert response.headers["Sforce-Limit-Info"] == "api-usage=100/100"
    sf_app.set_api_usage(used=0)
    assert sf.query("SELECT Id FROM Account")["totalSize"] == 2


def test_expired_session(sf, sf_app):
    sf_app.expire_sessions()
    with pytest.raises(SalesforceExpiredSession) as err:
        sf.query("SELECT Id FROM Contact")
    assert err.value.status == 401
    assert err.value.content == [{"message": "Session expired or invalid",
                                  "errorCode": "INVALID_SESSION_ID"}]


def test_describe(sf):
    describe = sf.Lead.describe()
    fields = {f["name"]: f for f in describe["fields"]}
    assert describe["keyPrefix"] == "00Q"
    assert fields["Email"]["type"] == "email" and fields["Email"]["updateable"] is True
    assert fields["IsConverted"]["updateable"] is False
    assert {o["name"] for o in sf.describe()["sobjects"]} >= {"Contact", "Lead", "ContactHistory"}


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
