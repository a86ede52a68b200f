"""The Apollo store on its own: materialised searches, writes seen by later pages, threads."""

from __future__ import annotations

import threading

import pytest

from core.sandbox.apollo.store import (
    ApolloStore,
    ContactNotFound,
    ContactQuery,
    InvalidValue,
    default_stages,
)
from core.sandbox.clock import SandboxClock
from core.sandbox.ids import apollo_id
from tests.sandbox.apollo.harness import START, sample_contacts


@pytest.fixture
def store():
    clock = SandboxClock(START, frozen=True)
    with ApolloStore(clock=clock) as store:
        store.load_stages(default_stages())
        store.load_contacts(sample_contacts(300))
        yield store


def test_pages_follow_writes_like_offset_paging(store):
    query = ContactQuery(sort_by="contact_updated_at", ascending=False)
    _, first = store.search(query, 1, 10)
    store.update(first[5]["id"], {"title": "moved"})  # now the most recently updated
    total, again = store.search(query, 1, 10)
    assert total == 300
    assert again[0]["id"] == first[5]["id"]


def test_loading_in_bulk_builds_indexes_once(tmp_path):
    with ApolloStore(tmp_path / "a.sqlite") as store:
        rows = sample_contacts(50)
        with store.bulk_load():
            store.load_contacts(rows[:20])
            store.load_contacts(rows[20:])
        assert store.count() == 50
        assert store.find_by_email(rows[33]["email"].upper())[0]["id"] == rows[33]["id"]
        plan = store._db.execute("EXPLAIN QUERY PLAN SELECT rowid FROM contacts WHERE email_key = 'x'")
        assert "contacts_email" in " ".join(str(r) for r in plan)


@pytest.mark.parametrize("call, error", [
    (lambda s: s.update(apollo_id(9999), {"title": "x"}), ContactNotFound),
    (lambda s: s.update(apollo_id(1), {"contact_stage_id": "nope"}), InvalidValue),
    (lambda s: s.set_email(apollo_id(9999), "a@b.co", how="crm"), ContactNotFound),
])
def test_refusals(store, call, error):
    with pytest.raises(error):
        call(store)


def test_stage_by_name_or_id(store):
    stages = default_stages()
    assert store.stage("interested")["id"] == stages[3]["id"]
    assert store.stage(stages[3]["id"])["name"] == "Interested"
    assert store.stage("no such stage") is None


def test_email_from_the_crm_is_not_a_manual_edit(store):
    change = store.set_email(apollo_id(3), "crm@example.com", how="crm")
    assert change.email_changed
    contact = change.contact
    assert contact["email_source"] == "crm"
    assert contact.get("email_manually_changed") in (None, False)
    assert contact["contact_emails"][0]["source"] == "crm"


def test_concurrent_writers_and_readers(store):
    errors = []

    def writer(n):
        try:
            for i in range(50):
                store.update(apollo_id(1 + (n * 50 + i) % 300), {"email": f"w{n}.{i}@threads.example"})
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def reader():
        try:
            for page in range(1, 30):
                total, contacts = store.search(ContactQuery(sort_by="contact_updated_at"), page % 3 + 1, 100)
                assert total == 300 and len(contacts) == 100
        except Exception as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    threads += [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(store.find_by_email("w3.49@threads.example")) == 1
