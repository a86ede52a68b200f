"""``query``/``queryAll`` and their locators through the real simple-salesforce client."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from tests.sandbox.salesforce.org import ACME, contact_id, many_contacts


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
