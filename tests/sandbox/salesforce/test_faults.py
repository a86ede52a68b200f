"""Faults on demand in the Salesforce sandbox, each shown to happen to the real client.

Every kind is added once through Python (``app.faults.add``) and once through the admin
endpoint (``POST /__sandbox/faults``), which is how a running demo or another process
drives them.
"""

from __future__ import annotations

import time
from email.utils import format_datetime as http_date

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceRefusedRequest,
)

from core.sandbox.ids import OTHER_USER, to18
from core.sandbox.salesforce.values import parse_wire_datetime
from tests.sandbox.salesforce.org import LoopbackRewrite, contact_id

QUERY = "SELECT Id, Email FROM Contact WHERE Email LIKE '%acme%'"


@pytest.fixture(params=["python", "admin"])
def add_fault(request, sf_app, sf_server, sf_http):
    """Add a fault rule one of two ways; returns a function giving the rule's fired count."""
    def add(kind: str, **spec):
        if request.param == "python":
            rule = sf_app.faults.add(kind, **spec)
            return lambda: rule.fired
        response = sf_http.post(f"{sf_server.base_url}/__sandbox/faults",
                                json={"kind": kind, **spec},
                                headers={"X-Sandbox-Admin": sf_server.admin_token})
        assert response.status_code == 201, response.text
        rule_id = response.json()["id"]
        return lambda: next(r.fired for r in sf_app.faults.rules() if r.id == rule_id)
    return add


def test_latency(sf, add_fault):
    fired = add_fault("latency", route=r"/query/", count=1, seconds=0.4)
    started = time.monotonic()
    assert sf.query(QUERY)["totalSize"] == 3
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    sf.query(QUERY)
    assert time.monotonic() - started < 0.4 and fired() == 1


@pytest.mark.parametrize("status, code", [(503, "SERVER_UNAVAILABLE"), (500, "UNKNOWN_EXCEPTION")])
def test_status(sf, add_fault, status, code):
    fired = add_fault("status", route=r"/query/", count=1, status=status)
    with pytest.raises(SalesforceGeneralError) as err:
        sf.query(QUERY)
    assert err.value.status == status and err.value.content[0]["errorCode"] == code
    assert sf.query(QUERY)["totalSize"] == 3 and fired() == 1


def test_drop_before_handling_leaves_record_unchanged(sf, sf_store, add_fault):
    add_fault("drop", route=r"/sobjects/Contact/", method="PATCH", count=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        sf.Contact.update(contact_id(1), {"Email": "dropped@x.example"})
    assert sf_store.get("Contact", contact_id(1))["Email"] == "ada@acme.example"


def test_drop_after_handling_applied_the_write(sf, sf_store, add_fault):
    add_fault("drop_after", route=r"/sobjects/Contact/", method="PATCH", count=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        sf.Contact.update(contact_id(1), {"Email": "applied@x.example"})
    assert sf_store.get("Contact", contact_id(1))["Email"] == "applied@x.example"


def test_truncate(sf, add_fault):
    add_fault("truncate", route=r"/query/", count=1, fraction=0.5)
    with pytest.raises((requests.exceptions.ChunkedEncodingError,
                        requests.exceptions.ConnectionError)):
        sf.query(QUERY)
    assert sf.query(QUERY)["totalSize"] == 3


def test_session_expiry_invalidates_the_token(sf, sf_app, add_fault):
    fired = add_fault("session_expiry", route=r"/query/", count=1)
    with pytest.raises(SalesforceExpiredSession) as err:
        sf.query(QUERY)
    assert err.value.content[0]["errorCode"] == "INVALID_SESSION_ID"
    assert fired() == 1
    with pytest.raises(SalesforceExpiredSession):  # the fault is spent, the token is not back
        sf.Contact.get(contact_id(1))


def test_session_expiry_with_a_login_that_can_refresh(sf_http, sf_server, sf_app, add_fault):
    sf_http.mount("https://test.salesforce.com", LoopbackRewrite(sf_server.base_url))
    sf = Salesforce(username=sf_app.username, password=sf_app.password,
                    security_token=sf_app.security_token, domain="test", version="59.0",
                    session=sf_http)
    add_fault("session_expiry", route=r"/query/", count=1)
    assert sf.query(QUERY)["totalSize"] == 3  # simple-salesforce logged in again and retried


@pytest.mark.parametrize("exhaust", [False, True])
def test_request_limit(sf, sf_app, add_fault, exhaust):
    add_fault("request_limit", route=r"/query/", count=1, exhaust=exhaust)
    with pytest.raises(SalesforceRefusedRequest) as err:
        sf.query(QUERY)
    assert err.value.content == [{"message": "TotalRequests Limit exceeded.",
                                  "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    if exhaust:  # the budget is spent for every later call too
        assert sf_app.api_used == sf_app.daily_limit
        with pytest.raises(SalesforceRefusedRequest):
            sf.Contact.get(contact_id(1))
    else:
        assert sf.query(QUERY)["totalSize"] == 3


def test_concurrent_edit_makes_a_guarded_write_fail(sf, sf_store, sf_app, add_fault):
    read = sf.Contact.get(contact_id(1))
    guard = {"If-Unmodified-Since": http_date(parse_wire_datetime(read["LastModifiedDate"]),
                                              usegmt=True)}
    add_fault("concurrent_edit", route=r"/sobjects/Contact/", method="PATCH", count=1)
    with pytest.raises(SalesforceGeneralError) as err:
        sf.Contact.update(contact_id(1), {"Email": "mine@x.example"}, headers=guard)
    assert err.value.status == 412
    now = sf_store.get("Contact", contact_id(1))
    assert now["Email"] not in ("ada@acme.example", "mine@x.example")
    assert now["LastModifiedById"] == to18(OTHER_USER)
    assert sf_app.concurrent_edits[-1]["new"] == now["Email"]


def test_concurrent_edit_is_overwritten_by_an_unguarded_write(sf, sf_store, add_fault):
    add_fault("concurrent_edit", route=r"/sobjects/Contact/", method="PATCH", count=1)
    assert sf.Contact.update(contact_id(2), {"Email": "mine@x.example"}) == 204
    history = [(h["OldValue"], h["NewValue"], h["CreatedById"])
               for h in sf_store.history("Contact", contact_id(2))]
    assert len(history) == 2 and history[0][2] == to18(OTHER_USER)
    assert history[1][1] == "mine@x.example"  # the other user's edit was lost


def test_concurrent_edit_on_a_collection(sf, sf_store, sf_app, add_fault):
    add_fault("concurrent_edit", route=r"/composite/sobjects", method="PATCH", count=1)
    results = sf.restful("composite/sobjects", method="PATCH", json={"allOrNone": False,
        "records": [{"attributes": {"type": "Contact"}, "id": contact_id(4), "FirstName": "E"},
                    {"attributes": {"type": "Contact"}, "id": contact_id(5), "FirstName": "B"}]})
    assert [r["success"] for r in results] == [True, True]
    edited = sf_app.concurrent_edits[-1]
    assert edited["id"] == contact_id(4)  # the first record of the batch
    assert sf_store.get("Contact", contact_id(4))["Email"] == edited["new"]
    assert sf_store.get("Contact", contact_id(5))["Email"] == "barbara@liskov.example"


def test_probability_is_seeded(sf_store, tls_material, sf_http):
    from core.sandbox.salesforce.app import client, start_salesforce

    patterns = []
    for _ in range(2):
        server = start_salesforce(sf_store, tls_material, seed=7)
        try:
            server.app.identity.default_user.view_setup = True  # /limits needs View Setup
            rule = server.app.faults.add("status", route=r"/limits", probability=0.5, status=503)
            sf = client(server, session=sf_http)
            outcome = []
            for _ in range(12):
                try:
                    sf.limits()
                    outcome.append(True)
                except SalesforceGeneralError:
                    outcome.append(False)
            patterns.append(outcome)
            assert rule.fired == outcome.count(False)
        finally:
            server.stop()
    assert patterns[0] == patterns[1] and 0 < patterns[0].count(False) < 12


def test_admin_routes(sf, sf_http, sf_server, sf_app):
    url = sf_server.base_url + "/__sandbox"
    assert sf_http.post(f"{url}/sessions/expire", json={}).status_code == 403  # no admin token
    admin = {"X-Sandbox-Admin": sf_server.admin_token}
    assert sf_http.post(f"{url}/sessions/expire", json={}, headers=admin).json()["expired"] >= 1
    with pytest.raises(SalesforceExpiredSession):
        sf.query(QUERY)
    token = sf_http.post(f"{url}/token", json={}, headers=admin).json()["access_token"]
    mine = sf_app.issue_token()
    assert sf_http.post(f"{url}/sessions/expire", json={"token": token},
                        headers=admin).json() == {"expired": 1}
    assert sf_http.get(f"{sf_server.base_url}/services/data/v59.0/sobjects/",
                       headers={"Authorization": f"Bearer {mine}"}).status_code == 200
    info = sf_http.get(f"{url}/info", headers=admin).json()
    assert info["instance_url"] == sf_server.base_url and info["client_id"] == sf_app.client_id
    assert sf_http.get(f"{url}/faults", headers=admin).json() == []
