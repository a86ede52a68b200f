"""Bulk API 2.0 query jobs through the real simple-salesforce client and on the wire."""

from __future__ import annotations

import csv
import io
import re

from tests.sandbox.salesforce.org import contact_id, lead_id, many_contacts


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


def test_bulk_results_need_the_api_version_that_created_the_job(sf_http, sf_server, sf_app):
    # "To get query results, use the same API version that you used to create the query.
    # Otherwise, the call returns a 409 error." (Bulk API 2.0 Developer Guide)
    headers = {"Authorization": f"Bearer {sf_app.issue_token()}"}
    base = f"{sf_server.base_url}/services/data"
    job = sf_http.post(f"{base}/v59.0/jobs/query", headers=headers,
                       json={"operation": "query", "query": "SELECT Id FROM Contact"}).json()
    while sf_http.get(f"{base}/v59.0/jobs/query/{job['id']}",
                      headers=headers).json()["state"] != "JobComplete":
        pass
    assert sf_http.get(f"{base}/v60.0/jobs/query/{job['id']}/results",
                       headers=headers).status_code == 409
    assert sf_http.get(f"{base}/v59.0/jobs/query/{job['id']}/results",
                       headers=headers).status_code == 200
