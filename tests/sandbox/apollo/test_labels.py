"""Lists (labels) in the Apollo emulator over real HTTPS: ``GET /labels`` for a master key
only, and searches filtered by ``contact_label_ids[]`` that agree with the contacts' lists."""

from __future__ import annotations

import pytest
import requests

from core.sandbox.apollo.labels import MASK_BITS
from core.sandbox.apollo.store import ApolloStore, ContactQuery, default_stages
from core.sandbox.ids import apollo_id
from tests.sandbox.apollo.harness import LABEL_ID, ApolloHarness, sample_contacts

STAGES = default_stages()
WEBINAR, TRADE_SHOW = apollo_id(1, 0x8), apollo_id(2, 0x8)


def listed_contacts(n: int) -> list[dict]:
    """``sample_contacts`` in lists: Conference every 5th, Webinar every 3rd, Trade show every
    7th (so some contacts are in two or three lists, some in none)."""
    rows = sample_contacts(n)
    for i, row in enumerate(rows):
        row["label_ids"] = [label for label, every in ((LABEL_ID, 5), (WEBINAR, 3),
                                                       (TRADE_SHOW, 7)) if i % every == 0]
    return rows


@pytest.fixture
def listed(tls_material):
    harness = ApolloHarness(tls_material, listed_contacts(60),
                            key_routes={"search-and-lists": ["contacts/search", "labels/index"],
                                        "second-master": None})
    harness.store.load_labels([
        {"id": WEBINAR, "name": "Q3 Webinar", "modality": "contacts",
         "created_at": "2025-07-01T09:00:00.000Z"},
        {"id": TRADE_SHOW, "name": "Trade show 2026", "modality": "contacts",
         "cached_count": 12345}])  # a stale count is not served: it is counted afresh
    yield harness
    harness.close()


def expected(rows: list[dict], labels: set[str], stage: str | None = None) -> list[dict]:
    return [r for r in rows if labels & set(r["label_ids"])
            and (stage is None or r["contact_stage_id"] == stage)]


# -- GET /labels ---------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/v1/labels", "/v1/labels", "/api/v1/labels/"])
def test_every_list_with_its_count_for_a_master_key(listed, path):
    response = listed.request("GET", path)
    assert response.status_code == 200
    answer = response.json()
    assert isinstance(answer, list)  # a bare array, as documented
    by_name = {label["name"]: label for label in answer}
    assert set(by_name) == {"Conference", "Q3 Webinar", "Trade show 2026"}
    assert by_name["Conference"]["cached_count"] == 12  # 0, 5, ..., 55
    assert by_name["Q3 Webinar"]["cached_count"] == 20
    assert by_name["Trade show 2026"]["cached_count"] == 9
    assert by_name["Q3 Webinar"]["created_at"] == "2025-07-01T09:00:00.000Z"
    assert all(label["modality"] == "contacts" and label["id"] for label in answer)
    assert "x-minute-usage" in response.headers  # counted like every route


@pytest.mark.parametrize("key", ["search-and-lists", "second-master"])
def test_lists_need_a_master_key(listed, key):
    response = listed.request("GET", "/api/v1/labels", key=key)
    if key == "second-master":
        assert response.status_code == 200
        return
    # A key given the route is still refused: the route is for master keys only.
    assert response.status_code == 403
    assert response.json() == {"error": "api/v1/labels/index is not accessible with this api_key",
                               "error_code": "API_INACCESSIBLE"}
    assert listed.search({}, key=key).status_code == 200


def test_lists_can_answer_as_an_object(tls_material):
    harness = ApolloHarness(tls_material, listed_contacts(10), labels_shape="object")
    try:
        answer = harness.request("GET", "/api/v1/labels").json()
        assert [label["name"] for label in answer["labels"]] == ["Conference"]
        assert answer["labels"][0]["cached_count"] == 2
    finally:
        harness.close()


def test_counts_follow_a_change_of_a_contacts_lists(listed):
    response = listed.request("PATCH", f"/api/v1/contacts/{apollo_id(2)}",
                              json={"label_names": ["Q3 Webinar", "Brand new list"]})
    assert response.status_code == 200
    by_name = {label["name"]: label for label in listed.request("GET", "/api/v1/labels").json()}
    assert by_name["Q3 Webinar"]["cached_count"] == 21
    assert by_name["Brand new list"]["cached_count"] == 1


# -- searching by list ---------------------------------------------------------------------

@pytest.mark.parametrize("labels, stage", [
    ({LABEL_ID}, None),
    ({WEBINAR}, None),
    ({WEBINAR, TRADE_SHOW}, None),  # several lists: contacts in any of them
    ({TRADE_SHOW}, STAGES[0]["id"]),  # the stage filter leaves some of the list out
    ({LABEL_ID, WEBINAR, TRADE_SHOW}, STAGES[1]["id"]),
    ({apollo_id(50, 0x8)}, None),  # a list nobody is in
])
@pytest.mark.parametrize("sort_by, ascending", [("contact_created_at", True),
                                                ("contact_updated_at", False)])
def test_list_filters_match_the_contacts_lists(listed, labels, stage, sort_by, ascending):
    rows = listed_contacts(60)
    body = {"per_page": 100, "contact_label_ids": sorted(labels), "sort_by_field": sort_by,
            "sort_ascending": ascending}
    if stage:
        body["contact_stage_ids"] = [stage]
    answer = listed.search(body).json()
    want = sorted(expected(rows, labels, stage), key=lambda r: r[sort_by[len("contact_"):]],
                  reverse=not ascending)
    assert answer["pagination"]["total_entries"] == len(want)
    assert [c["id"] for c in answer["contacts"]] == [r["id"] for r in want]


def test_list_filter_in_the_query_string(listed):
    answer = listed.request("POST", f"/api/v1/contacts/search?contact_label_ids[]={TRADE_SHOW}",
                            json={"per_page": 100}).json()
    assert answer["pagination"]["total_entries"] == 9
    assert all(TRADE_SHOW in c["label_ids"] for c in answer["contacts"])


def test_a_search_sees_a_contact_moved_between_lists(listed):
    before = listed.search({"contact_label_ids": [WEBINAR], "per_page": 100}).json()
    assert apollo_id(2) not in {c["id"] for c in before["contacts"]}
    listed.request("PATCH", f"/api/v1/contacts/{apollo_id(2)}",
                   json={"label_names": ["Q3 Webinar"]})
    listed.request("PATCH", f"/api/v1/contacts/{apollo_id(1)}", json={"label_names": []})
    after = listed.search({"contact_label_ids": [WEBINAR], "per_page": 100}).json()
    ids = {c["id"] for c in after["contacts"]}
    assert apollo_id(2) in ids and apollo_id(1) not in ids
    assert after["pagination"]["total_entries"] == 20


def test_lists_beyond_the_masks_bits_are_still_found(tmp_path):
    # Given more lists than the mask has bits, each contact in one of them
    count = MASK_BITS + 7
    lists = [apollo_id(i + 1, 0x8) for i in range(count)]
    rows = sample_contacts(count * 2)
    for i, row in enumerate(rows):
        row["label_ids"] = [lists[i % count]]
    with ApolloStore(tmp_path / "apollo.sqlite") as store:
        store.load_contacts(rows)
        # Then a list with a bit and one without are both searched right, also together
        for wanted in ([lists[0]], [lists[-1]], [lists[1], lists[-2]]):
            total, found = store.search(ContactQuery(label_ids=tuple(wanted)))
            assert total == 2 * len(wanted)
            assert all(set(c["label_ids"]) & set(wanted) for c in found)
    # And a store opened again knows which list has which bit
    with ApolloStore(tmp_path / "apollo.sqlite") as store:
        assert store.search(ContactQuery(label_ids=(lists[0],)))[0] == 2
        assert store.search(ContactQuery(label_ids=(lists[-1],)))[0] == 2


def test_a_started_sandbox_serves_the_generated_lists(tmp_path):
    from core.sandbox import spawn
    from core.sandbox.dataset import Dataset

    dataset = Dataset(300, seed=3)
    with spawn(records=300, seed=3, tls_dir=tmp_path / "tls", dataset=dataset) as sandbox:
        info = sandbox.info()
        session = requests.Session()
        session.trust_env = False  # REQUESTS_CA_BUNDLE would override verify
        session.verify = info["ca_path"]
        answer = session.get(info["apollo"]["api_url"] + "/labels", timeout=10,
                                     headers={"x-api-key": info["apollo"]["api_key"]}).json()
        assert sandbox.loaded["labels"] == 24
        assert ({l["id"]: l["cached_count"] for l in answer}
                == {l["id"]: l["cached_count"] for l in dataset.labels()})
        biggest = max(answer, key=lambda l: l["cached_count"])
        found = session.post(info["apollo"]["api_url"] + "/contacts/search", timeout=10,
                                     json={"contact_label_ids": [biggest["id"]]},
                                     headers={"x-api-key": info["apollo"]["api_key"]}).json()
        assert found["pagination"]["total_entries"] == biggest["cached_count"]
