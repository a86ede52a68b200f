"""sObject collections (``composite/sobjects``) through the real simple-salesforce client."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from tests.sandbox.salesforce.org import contact_id, lead_id


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


@pytest.mark.parametrize("chunks, refused", [(10, False), (11, True)])
def test_a_collection_processes_at_most_ten_chunks_of_one_type(sf, chunks, refused):
    """Alternating types make one chunk per record; Salesforce takes up to 10 per request."""
    records = [{"attributes": {"type": "Contact" if i % 2 == 0 else "Lead"},
                "id": contact_id(1) if i % 2 == 0 else lead_id(1), "LastName": f"N{i}"}
               for i in range(chunks)]
    if refused:
        with pytest.raises(SalesforceMalformedRequest) as err:
            collection(sf, "PATCH", records)
        assert err.value.status == 400 and "10 chunks" in str(err.value.content)
    else:
        assert len(collection(sf, "PATCH", records)) == chunks
