"""Every fault kind happens on the Apollo emulator, set in-process or through the admin route."""

from __future__ import annotations

import time

import pytest
import requests

from core.sandbox.ids import apollo_id
from core.sandbox.server import admin_headers

CONTACT = f"/api/v1/contacts/{apollo_id(7)}"


def add_fault(harness, via: str, kind: str, **spec):
    """Add a fault in-process or through ``POST /__sandbox/faults``."""
    if via == "admin":
        response = harness.admin("POST", "/__sandbox/faults", {"kind": kind, **spec})
        assert response.status_code == 201, response.text
        return response.json()
    params = spec.pop("params", {})
    return harness.app.faults.add(kind, **spec, **params).as_dict()


VIAS = ["in_process", "admin"]


@pytest.mark.parametrize("via", VIAS)
def test_latency(apollo, via):
    add_fault(apollo, via, "latency", route="contacts/search", params={"seconds": 0.3})
    started = time.monotonic()
    assert apollo.search({}).status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    apollo.request("GET", CONTACT)  # another route: no delay
    assert time.monotonic() - started < 0.3


@pytest.mark.parametrize("via", VIAS)
def test_status(apollo, via):
    add_fault(apollo, via, "status", route="contacts/search", count=1,
              params={"status": 503, "body": {"error": "Service Unavailable"}})
    first = apollo.search({})
    assert first.status_code == 503
    assert first.json() == {"error": "Service Unavailable"}
    assert apollo.search({}).status_code == 200  # count=1: it struck once


def test_status_without_a_body_answers_in_apollos_shape(apollo):
    apollo.app.faults.add("status", route="contacts/search", count=1, status=502)
    response = apollo.search({})
    assert response.status_code == 502
    assert response.json() == {"error": "Bad Gateway"}


@pytest.mark.parametrize("via", VIAS)
def test_drop_before_the_request_is_handled(apollo, via):
    add_fault(apollo, via, "drop", method="PATCH", count=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        apollo.request("PATCH", CONTACT, json={"email": "dropped@new.example"})
    assert apollo.store.get(apollo_id(7))["email"] != "dropped@new.example"  # never applied


@pytest.mark.parametrize("via", VIAS)
def test_drop_after_the_request_was_applied(apollo, via):
    add_fault(apollo, via, "drop_after", method="PATCH", count=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        apollo.request("PATCH", CONTACT, json={"email": "applied@new.example"})
    # The write happened although the client saw no answer: an ambiguous failure.
    assert apollo.request("GET", CONTACT).json()["contact"]["email"] == "applied@new.example"


@pytest.mark.parametrize("via", VIAS)
def test_truncate(apollo, via):
    add_fault(apollo, via, "truncate", route="contacts/search", count=1, params={"fraction": 0.3})
    with pytest.raises((requests.exceptions.ChunkedEncodingError,
                        requests.exceptions.ConnectionError)):
        apollo.search({"per_page": 100})
    assert apollo.search({}).status_code == 200


@pytest.mark.parametrize("via", VIAS)
@pytest.mark.parametrize("window, retry_after", [("minute", 60), ("hour", 3600), ("day", 86400)])
def test_rate_limit(apollo, via, window, retry_after):
    add_fault(apollo, via, "rate_limit", route="contacts/search", count=1,
              params={"window": window})
    response = apollo.search({})
    assert response.status_code == 429
    limit = apollo.app.limiter.limits[window]
    assert response.json()["message"].startswith(
        f"The maximum number of api calls allowed for api/v1/contacts/search is {limit} times "
        f"per {window}.")
    assert response.headers["Retry-After"] == str(retry_after)  # no window open yet: a full one
    assert apollo.search({}).status_code == 200


def test_rate_limit_fault_retry_after_follows_the_open_window(apollo):
    apollo.search({})  # opens the minute window
    apollo.clock.advance(seconds=25)
    apollo.app.faults.add("rate_limit", route="contacts/search", count=1, window="minute")
    assert apollo.search({}).headers["Retry-After"] == "35"


@pytest.mark.parametrize("via", VIAS)
def test_unauthorized(apollo, via):
    add_fault(apollo, via, "unauthorized", count=1)
    response = apollo.request("GET", CONTACT)
    assert response.status_code == 401
    assert response.text == "Invalid access credentials."
    assert apollo.request("GET", CONTACT).status_code == 200


@pytest.mark.parametrize("via", VIAS)
def test_concurrent_edit_before_a_patch(apollo, via):
    before = apollo.request("GET", CONTACT).json()["contact"]
    add_fault(apollo, via, "concurrent_edit", method="PATCH", count=1,
              params={"email": "someone.else@other.example"})
    apollo.clock.advance(seconds=1)
    # The client changes the title only; someone else changed the email just before.
    after = apollo.request("PATCH", CONTACT, json={"title": "Director"}).json()["contact"]
    assert after["title"] == "Director"
    assert after["email"] == "someone.else@other.example"
    assert after["updated_at"] > before["updated_at"]


def test_concurrent_edit_before_a_bulk_update(apollo):
    apollo.app.faults.add("concurrent_edit", route="bulk_update", count=1)
    before = {i: apollo.store.get(apollo_id(i))["email"] for i in (1, 2)}
    answer = apollo.request("POST", "/api/v1/contacts/bulk_update", json={
        "contact_attributes": [{"id": apollo_id(1), "title": "A"},
                               {"id": apollo_id(2), "title": "B"}]}).json()
    for contact, i in zip(answer["contacts"], (1, 2)):
        assert contact["email"] != before[i]  # someone else's edit landed first
        assert contact["email"].endswith(before[i].split("@")[1])


def test_admin_lists_and_clears_faults(apollo):
    add_fault(apollo, "admin", "latency", params={"seconds": 0.01})
    add_fault(apollo, "admin", "rate_limit", route="no-such-route", params={"window": "day"})
    rules = apollo.admin("GET", "/__sandbox/faults").json()
    assert [r["kind"] for r in rules] == ["latency", "rate_limit"]
    assert rules[1]["params"] == {"window": "day"}
    assert apollo.admin("DELETE", "/__sandbox/faults").status_code == 204
    assert apollo.admin("GET", "/__sandbox/faults").json() == []


def test_admin_needs_its_token(apollo):
    response = apollo.session.post(apollo.base_url + "/__sandbox/faults", json={"kind": "drop"},
                                   headers={"X-Sandbox-Admin": "wrong"})
    assert response.status_code == 403
    assert apollo.app.faults.rules() == []


def test_admin_answers_a_body_that_is_not_json_with_a_400(apollo):
    response = apollo.session.post(apollo.base_url + "/__sandbox/faults", data=b"{bad",
                                   headers={**admin_headers(apollo.server.admin_token),
                                            "Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 400
    assert apollo.app.faults.rules() == []
