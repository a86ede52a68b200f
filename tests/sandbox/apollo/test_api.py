"""The Apollo emulator over real HTTPS with requests: keys, search, contacts, bulk updates."""

from __future__ import annotations

import pytest

from core.sandbox.apollo.store import default_stages
from core.sandbox.ids import apollo_id
from tests.sandbox.apollo.harness import API_KEY, LABEL_ID, ApolloHarness, sample_contacts

STAGES = default_stages()


# -- keys ----------------------------------------------------------------------------------

@pytest.mark.parametrize("headers, logged_in", [
    ({}, False),
    ({"x-api-key": "not-the-key"}, False),
    ({"x-api-key": API_KEY}, True),
])
def test_health_answers_200_and_says_in_the_body_whether_the_key_works(apollo, headers,
                                                                        logged_in):
    response = apollo.request("GET", "/api/v1/auth/health", key=None, headers=headers)
    assert response.status_code == 200 and response.json()["is_logged_in"] is logged_in

@pytest.mark.parametrize("headers, status", [
    ({}, 401),  # no key at all
    ({"x-api-key": "not-the-key"}, 401),
    ({"X-Api-Key": API_KEY}, 200),  # header names are case-insensitive
    ({"X-API-KEY": API_KEY}, 200),
])
def test_api_key_header(apollo, headers, status):
    response = apollo.request("GET", "/api/v1/contact_stages", key=None, headers=headers)
    assert response.status_code == status
    if status == 401:
        assert response.headers["Content-Type"].startswith("text/plain")
        assert response.text == "Invalid access credentials."
        assert "x-minute-usage" not in response.headers
    else:
        assert "contact_stages" in response.json()


@pytest.fixture
def restricted(tls_material):
    harness = ApolloHarness(tls_material, sample_contacts(5),
                            key_routes={"search-only": ["contacts/search"],
                                        "second-master": None})
    yield harness
    harness.close()


@pytest.mark.parametrize("key, method, path, status", [
    ("search-only", "POST", "/api/v1/contacts/search", 200),
    ("search-only", "GET", f"/api/v1/contacts/{apollo_id(1)}", 403),
    ("search-only", "GET", "/api/v1/contact_stages", 403),
    ("second-master", "GET", f"/api/v1/contacts/{apollo_id(1)}", 200),
    (API_KEY, "GET", f"/api/v1/contacts/{apollo_id(1)}", 200),
    (API_KEY, "DELETE", f"/api/v1/contacts/{apollo_id(1)}", 403),  # Apollo refuses deletes
])
def test_key_routes(restricted, key, method, path, status):
    response = restricted.request(method, path, key=key, json={} if method == "POST" else None)
    assert response.status_code == status
    if status == 403:
        route = {"GET": "contacts/show", "DELETE": "contacts/destroy"}[method]
        if "contact_stages" in path:
            route = "contact_stages/index"
        assert response.json() == {"error": f"api/v1/{route} is not accessible with this api_key",
                                   "error_code": "API_INACCESSIBLE"}


def test_legacy_v1_prefix_is_an_alias(apollo):
    assert apollo.request("GET", f"/v1/contacts/{apollo_id(3)}").json()["contact"]["id"] == apollo_id(3)
    assert apollo.request("POST", "/v1/contacts/search", json={}).json()["pagination"]["total_entries"] == 40


# -- the 50,000 display cap at 60,000 contacts -------------------------------------------------

@pytest.fixture(scope="module")
def big(tls_material):
    harness = ApolloHarness(tls_material, sample_contacts(60_000),
                            limits={"minute": 10_000, "hour": 10_000, "day": 100_000})
    yield harness
    harness.close()


@pytest.mark.parametrize("body, page, per_page, total_pages, returned", [
    ({"per_page": 100}, 1, 100, 500, 100),
    ({"per_page": 100, "page": 500}, 500, 100, 500, 100),
    ({"per_page": 100, "page": 501}, 501, 100, 500, 0),  # beyond the cap: empty
    ({"per_page": 100, "page": 9999}, 9999, 100, 500, 0),
    ({"per_page": 1000}, 1, 100, 500, 100),  # clamped to 100
    ({}, 1, 25, 500, 25),  # default per_page 25; still at most 500 pages
    ({"per_page": 25, "page": 501}, 501, 25, 500, 0),
    ({"per_page": 0}, 1, 1, 500, 1),
])
@pytest.mark.parametrize("capped, total", [(True, 50_000), (False, 60_000)],
                         ids=["total_entries capped", "total_entries as counted"])
def test_display_cap(big, body, page, per_page, total_pages, returned, capped, total):
    big.app.cap_total_entries = capped  # undocumented beyond 50,000: a switch
    try:
        answer = big.search(body).json()
    finally:
        big.app.cap_total_entries = True
    assert answer["pagination"] == {"page": page, "per_page": per_page,
                                    "total_entries": total, "total_pages": total_pages}
    assert len(answer["contacts"]) == returned


def test_last_page_under_the_cap_holds_the_50000th_record(big):
    body = {"per_page": 100, "sort_by_field": "contact_created_at", "sort_ascending": True}
    last = big.search({**body, "page": 500}).json()["contacts"]
    # created_at ascending follows the load order, so the 50,000th record is contact 50,000.
    assert last[-1]["id"] == apollo_id(50_000)
    assert big.search({**body, "page": 501}).json()["contacts"] == []


def test_filtered_slice_under_the_cap_is_complete(big):
    stage = STAGES[0]["id"]
    answer = big.search({"per_page": 100, "contact_stage_ids": [stage], "page": 200}).json()
    assert answer["pagination"]["total_entries"] == 20_000
    assert answer["pagination"]["total_pages"] == 200
    assert len(answer["contacts"]) == 100


# -- search ---------------------------------------------------------------------------------

@pytest.mark.parametrize("sort_by_field, ascending, key", [
    ("contact_updated_at", True, "updated_at"),
    ("contact_updated_at", False, "updated_at"),
    ("contact_created_at", True, "created_at"),
    ("contact_created_at", False, "created_at"),
])
def test_sort(apollo, sort_by_field, ascending, key):
    contacts = apollo.search({"per_page": 100, "sort_by_field": sort_by_field,
                              "sort_ascending": ascending}).json()["contacts"]
    values = [c[key] for c in contacts]
    assert len(values) == 40
    assert values == sorted(values, reverse=not ascending)
    assert len(set(values)) == 40  # the sample has distinct times, so the order is total


def test_walking_every_page_sees_every_contact_once(apollo):
    seen = []
    page = 1
    while True:
        answer = apollo.search({"per_page": 7, "page": page,
                                "sort_by_field": "contact_updated_at"}).json()
        seen += [c["id"] for c in answer["contacts"]]
        if page >= answer["pagination"]["total_pages"]:
            break
        page += 1
    assert page == 6
    assert sorted(seen) == sorted(apollo_id(i + 1) for i in range(40))


@pytest.mark.parametrize("body, expected_total, check", [
    ({"contact_stage_ids": [STAGES[0]["id"]]}, 14, lambda c: c["contact_stage_id"] == STAGES[0]["id"]),
    ({"contact_stage_ids": [STAGES[0]["id"], STAGES[1]["id"]]}, 27,
     lambda c: c["contact_stage_id"] in (STAGES[0]["id"], STAGES[1]["id"])),
    ({"contact_stage_ids[]": [STAGES[2]["id"]]}, 13, lambda c: c["contact_stage_id"] == STAGES[2]["id"]),
    ({"contact_stage_ids": STAGES[2]["id"]}, 13, lambda c: c["contact_stage_id"] == STAGES[2]["id"]),
    ({"contact_label_ids": [LABEL_ID]}, 8, lambda c: LABEL_ID in c["label_ids"]),
    ({"q_keywords": "ada.lovelace0@engines.example"}, 1, lambda c: c["id"] == apollo_id(1)),
    ({"q_keywords": "ADA.Lovelace0@Engines.Example"}, 1, lambda c: c["id"] == apollo_id(1)),
    ({"q_keywords": "lovelace0@engines"}, 1, lambda c: c["id"] == apollo_id(1)),  # a fragment
    ({"q_keywords": "a.lovelace0@engines.example"}, 0, None),  # a whole address must be it
    ({"q_keywords": "HOPPER"}, 10, lambda c: c["last_name"] == "Hopper"),  # case-insensitive
    ({"q_keywords": "cobol works"}, 10, lambda c: c["organization_name"] == "Cobol Works"),
    ({"q_keywords": "cto"}, 4, lambda c: c["title"] == "CTO"),
    ({"q_keywords": "grace turing"}, 1, lambda c: c["name"] == "Grace Turing"),
    ({"q_keywords": "nobody-by-this-name"}, 0, None),
    # Unknown keys are ignored, as Apollo does: the answer is the unfiltered list.
    ({"person_titles": ["CEO"], "updated_after": "2030-01-01", "bogus": 1}, 40, None),
    ({"sort_by_field": "no_such_field"}, 40, None),
])
def test_filters(apollo, body, expected_total, check):
    answer = apollo.search({"per_page": 100, **body}).json()
    assert answer["pagination"]["total_entries"] == expected_total
    assert len(answer["contacts"]) == expected_total
    if check:
        assert all(check(c) for c in answer["contacts"])


def test_filters_in_the_query_string(apollo):
    stage = STAGES[1]["id"]
    response = apollo.request("POST", f"/api/v1/contacts/search?contact_stage_ids[]={stage}&per_page=5",
                              json={})
    answer = response.json()
    assert answer["pagination"]["total_entries"] == 13
    assert answer["pagination"]["per_page"] == 5


def test_search_answer_shape(apollo):
    answer = apollo.search({"page": "2", "per_page": "10", "q_keywords": "Ada"}).json()
    assert answer["pagination"] == {"page": "2", "per_page": 10, "total_entries": 4, "total_pages": 1}
    assert answer["contacts"] == []
    assert answer["partial_results_only"] is False
    assert answer["breadcrumbs"][0]["signal_field_name"] == "q_keywords"
    plain = apollo.search({}).json()
    assert plain["breadcrumbs"] == []
    assert plain["pagination"]["page"] == 1


# -- single contacts ------------------------------------------------------------------------------

def test_get_contact(apollo):
    response = apollo.request("GET", f"/api/v1/contacts/{apollo_id(2)}")
    assert response.status_code == 200
    contact = response.json()["contact"]
    assert contact["id"] == apollo_id(2)
    assert contact["email"] == "grace.lovelace1@cobol.example"


def test_get_missing_contact(apollo):
    response = apollo.request("GET", f"/api/v1/contacts/{apollo_id(999)}")
    assert response.status_code == 404
    assert response.json()["error"] == "Contact not found"


def test_patch_email_is_a_manual_verified_edit(apollo):
    before = apollo.request("GET", f"/api/v1/contacts/{apollo_id(4)}").json()["contact"]
    apollo.clock.advance(minutes=5)
    response = apollo.request("PATCH", f"/api/v1/contacts/{apollo_id(4)}",
                              json={"email": "edsger@new.example", "favourite_colour": "blue"})
    assert response.status_code == 200
    contact = response.json()["contact"]
    assert contact["email"] == "edsger@new.example"
    assert contact["email_status"] == "verified"
    assert contact["email_true_status"] == "User Managed"
    assert contact["email_manually_changed"] is True
    assert contact["email_from_customer"] is True
    assert contact["contact_emails"][0]["email"] == "edsger@new.example"
    assert contact["updated_at"] > before["updated_at"]
    assert "favourite_colour" not in contact
    assert "crm_job" not in contact  # not linked: nothing to push
    again = apollo.request("GET", f"/api/v1/contacts/{apollo_id(4)}").json()["contact"]
    assert again == contact


@pytest.mark.parametrize("body, status, field, value", [
    ({"first_name": "Edna"}, 200, "name", "Edna Lovelace"),
    ({"title": "Chief Scientist"}, 200, "title", "Chief Scientist"),
    ({"contact_stage_id": STAGES[4]["id"]}, 200, "contact_stage_id", STAGES[4]["id"]),
    ({"label_names": ["Webinar"]}, 200, "label_ids", [apollo_id(2, 0x4)]),
    ({"email": "not an email"}, 200, "email", "edsger.lovelace3@paths.example"),  # ignored
    ({"contact_stage_id": apollo_id(77, 0x5)}, 422, None, None),
])
def test_patch_fields(apollo, body, status, field, value):
    response = apollo.request("PATCH", f"/api/v1/contacts/{apollo_id(4)}", json=body)
    assert response.status_code == status
    if field:
        assert response.json()["contact"][field] == value


def test_patch_missing_contact(apollo):
    response = apollo.request("PATCH", f"/api/v1/contacts/{apollo_id(999)}", json={"email": "a@b.co"})
    assert response.status_code == 404


def test_patch_of_a_linked_contact_queues_a_crm_job_without_a_crm(apollo):
    apollo.store.set_fields(apollo_id(5), {"salesforce_id": "003000000000001AAA",
                                           "salesforce_contact_id": "003000000000001AAA"})
    contact = apollo.request("PATCH", f"/api/v1/contacts/{apollo_id(5)}",
                             json={"email": "b@new.example"}).json()["contact"]
    assert contact["crm_job"]["job_type"] == "push_contacts"
    assert contact["crm_job"]["status"] == "pending"


def test_create_never_dedupes(apollo):
    body = {"first_name": "Ada", "last_name": "Lovelace", "organization_name": "Analytical Engines",
            "email": "ada.lovelace0@engines.example"}
    first = apollo.request("POST", "/api/v1/contacts", json=body)
    second = apollo.request("POST", "/api/v1/contacts", json=body)
    assert first.status_code == second.status_code == 200
    a, b = first.json()["contact"], second.json()["contact"]
    assert a["id"] != b["id"]
    assert a["source"] == "api" and a["email"] == body["email"]
    assert a["contact_stage_id"] == STAGES[0]["id"]  # the first stage by default
    assert apollo.search({"q_keywords": body["email"]}).json()["pagination"]["total_entries"] == 3


def test_create_with_run_dedupe_updates_the_match(apollo):
    body = {"email": "ada.lovelace0@engines.example", "title": "Countess", "run_dedupe": True}
    contact = apollo.request("POST", "/api/v1/contacts", json=body).json()["contact"]
    assert contact["id"] == apollo_id(1)
    assert contact["title"] == "Countess"


# -- bulk_update -------------------------------------------------------------------------------

def test_bulk_update_small_batch_answers_with_the_contacts(apollo):
    items = [{"id": apollo_id(i), "email": f"bulk{i}@new.example"} for i in (1, 2, 3)]
    answer = apollo.request("POST", "/api/v1/contacts/bulk_update",
                            json={"contact_attributes": items}).json()
    assert [c["email"] for c in answer["contacts"]] == [f"bulk{i}@new.example" for i in (1, 2, 3)]
    assert all(c["email_status"] == "verified" for c in answer["contacts"])


def test_bulk_update_accepts_the_contacts_key(apollo):
    answer = apollo.request("POST", "/api/v1/contacts/bulk_update",
                            json={"contacts": [{"id": apollo_id(6), "title": "Boss"}]}).json()
    assert answer["contacts"][0]["title"] == "Boss"


def test_bulk_update_over_100_is_queued_but_applied(apollo):
    items = [{"id": apollo_id(1 + i % 40), "title": f"T{i}"} for i in range(101)]
    answer = apollo.request("POST", "/api/v1/contacts/bulk_update",
                            json={"contact_attributes": items}).json()
    assert answer["async"] is True and "contacts" not in answer
    assert apollo.store.get(apollo_id(21))["title"] == "T100"


@pytest.mark.parametrize("body", [
    {"contact_attributes": [{"id": apollo_id(1), "title": "x"}] * 1001},
    {"contact_attributes": []},
    {"contact_attributes": [{"title": "no id"}]},
    {"nothing": True},
])
def test_bulk_update_refusals(apollo, body):
    response = apollo.request("POST", "/api/v1/contacts/bulk_update", json=body)
    assert response.status_code == 422
    assert response.json()["error_code"] == "VALIDATION_ERROR"
    assert apollo.store.get(apollo_id(1))["title"] == "CTO"  # nothing applied


def test_bulk_update_of_1000_is_accepted(apollo):
    items = [{"id": apollo_id(1 + i % 40), "title": f"T{i}"} for i in range(1000)]
    response = apollo.request("POST", "/api/v1/contacts/bulk_update", json={"contact_attributes": items})
    assert response.status_code == 200


def test_update_stages(apollo):
    answer = apollo.request("POST", "/api/v1/contacts/update_stages",
                            json={"contact_ids": [apollo_id(1), apollo_id(2)],
                                  "contact_stage_id": STAGES[3]["id"]}).json()
    assert {c["contact_stage_id"] for c in answer["contacts"]} == {STAGES[3]["id"]}


# -- stages and health ------------------------------------------------------------------------

def test_contact_stages(apollo):
    stages = apollo.request("GET", "/api/v1/contact_stages").json()["contact_stages"]
    assert [s["name"] for s in stages][:3] == ["Cold", "Approaching", "Replied"]
    assert set(stages[0]) >= {"id", "name", "display_name", "display_order", "category"}
    assert {s["category"] for s in stages} <= {None, "in_progress", "succeeded", "failed"}


def test_unknown_route(apollo):
    assert apollo.request("GET", "/api/v1/no_such_thing").status_code == 404
