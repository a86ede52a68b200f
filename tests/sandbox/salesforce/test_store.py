"""The Salesforce store: the rules an org applies on save, history, loading, lookups."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import orjson
import pytest

from core.sandbox.ids import CONCORD_USER, OTHER_USER, salesforce_id, to18
from core.sandbox.salesforce.store import SalesforceStore, StoreError
from core.sandbox.salesforce.values import parse_wire_datetime
from tests.sandbox.salesforce.org import MODIFIED, START, contact_id, lead_id

ME = to18(CONCORD_USER)


def history(store, object_name, record_id):
    return [(h["Field"], h["OldValue"], h["NewValue"]) for h in
            store.history(object_name, record_id)]


# -- saves the org refuses: one row per rule ---------------------------------------------------

@pytest.mark.parametrize("action, args, status, code", [
    ("update", ("Contact", contact_id(99), {"Email": "a@b.example"}), 404, "NOT_FOUND"),
    ("update", ("Contact", "not-an-id", {"Email": "a@b.example"}), 400, "MALFORMED_ID"),
    ("update", ("Contact", contact_id(1)[:15] + "XXX", {"Email": "a@b.example"}), 400,
     "MALFORMED_ID"),  # 18-character id whose checksum is wrong
    ("update", ("Lead", lead_id(3), {"Email": "a@b.example"}), 400,
     "CANNOT_UPDATE_CONVERTED_LEAD"),
    ("update", ("Lead", lead_id(3), {"FirstName": "Al"}), 400, "CANNOT_UPDATE_CONVERTED_LEAD"),
    ("delete", ("Lead", lead_id(3)), 400, "CANNOT_UPDATE_CONVERTED_LEAD"),
    ("update", ("Contact", contact_id(1), {"Email": "not an email"}), 400,
     "INVALID_EMAIL_ADDRESS"),
    ("update", ("Contact", contact_id(1), {"Email": "x" * 75 + "@a.example"}), 400,
     "INVALID_EMAIL_ADDRESS"),
    ("update", ("Contact", contact_id(1), {"Email": "Ada <ada@acme.example>"}), 400,
     "INVALID_EMAIL_ADDRESS"),
    ("update", ("Contact", contact_id(1), {"Email": "mailto:ada@acme.example"}), 400,
     "INVALID_EMAIL_ADDRESS"),
    ("update", ("Contact", contact_id(1), {"LastName": ""}), 400, "REQUIRED_FIELD_MISSING"),
    ("update", ("Lead", lead_id(1), {"Company": None}), 400, "REQUIRED_FIELD_MISSING"),
    ("create", ("Contact", {"FirstName": "No", "Email": "no@last.example"}), 400,
     "REQUIRED_FIELD_MISSING"),
    ("create", ("Lead", {"LastName": "Nocompany"}), 400, "REQUIRED_FIELD_MISSING"),
    ("update", ("Contact", contact_id(1), {"Shoe_Size__c": 42}), 400, "INVALID_FIELD"),
    ("update", ("Contact", contact_id(1), {"LastModifiedDate": "2020-01-01T00:00:00Z"}), 400,
     "INVALID_FIELD_FOR_INSERT_UPDATE"),
    ("update", ("Contact", contact_id(1), {"AccountId": salesforce_id("Account", 77)}), 400,
     "INVALID_CROSS_REFERENCE_KEY"),
    ("update", ("Contact", contact_id(1), {"HasOptedOutOfEmail": "yes"}), 400,
     "JSON_PARSER_ERROR"),
    ("create", ("ContactHistory", {"Field": "Email"}), 400,
     "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY"),
])
def test_refused_saves(sf_store, action, args, status, code):
    with pytest.raises(StoreError) as err:
        if action == "delete":
            sf_store.delete(*args)
        else:
            getattr(sf_store, action)(*args, user_id=ME)
    assert (err.value.status, err.value.error_code) == (status, code)
    assert err.value.message


def test_create_assigns_id_audit_fields_and_created_history(sf_store, sf_clock):
    record = sf_store.create("Lead", {"LastName": "Hamilton", "Company": "MIT",
                                      "Email": " Margaret@MIT.example "}, user_id=ME)
    assert record["Id"].startswith("00Q") and len(record["Id"]) == 18
    assert record["Email"] == "margaret@mit.example"  # trimmed and lower-cased
    assert record["Status"] == "Open - Not Contacted"
    assert record["CreatedById"] == record["LastModifiedById"] == record["OwnerId"] == ME
    assert record["CreatedDate"] == record["LastModifiedDate"] == record["SystemModstamp"]
    assert record["CreatedDate"].startswith("2026-03-02T09:00:00.") and \
        record["CreatedDate"].endswith("+0000")
    assert record["IsConverted"] is False and record["Name"] == "Hamilton"
    assert history(sf_store, "Lead", record["Id"]) == [("created", None, None)]
    assert sf_store.get("Lead", record["Id"]) == record


def test_email_change_bumps_timestamps_and_writes_history(sf_store, sf_clock):
    sf_clock.advance(minutes=5)
    after = sf_store.update("Contact", contact_id(1), {"Email": "ADA@Engines.example"},
                            user_id=ME)
    assert after["Email"] == "ada@engines.example"
    assert after["LastModifiedById"] == ME
    assert after["LastModifiedDate"] == after["SystemModstamp"] > MODIFIED
    assert parse_wire_datetime(after["LastModifiedDate"]) >= START + timedelta(minutes=5)
    rows = sf_store.history("Contact", contact_id(1))
    assert [(r["Field"], r["OldValue"], r["NewValue"], r["DataType"]) for r in rows] == [
        ("Email", "ada@acme.example", "ada@engines.example", "Email")]
    assert rows[0]["CreatedById"] == ME and rows[0]["CreatedDate"] == after["LastModifiedDate"]


@pytest.mark.parametrize("change, rows", [
    ({"Email": "ada@acme.example"}, 0),   # same value: no history
    ({"Email": "ADA@ACME.EXAMPLE"}, 0),   # a case-only change is no change once lower-cased
    ({"FirstName": "Augusta"}, 0),        # only Email is tracked
    ({"Email": None}, 1),                 # clearing is a change
    ({"Email": "ada@x.example"}, 1),
])
def test_which_saves_leave_history(sf_store, change, rows):
    sf_store.update("Contact", contact_id(1), change, user_id=ME)
    assert len(sf_store.history("Contact", contact_id(1))) == rows


def test_no_history_when_tracking_is_off(sf_store):
    sf_store.set_track_history(False)
    sf_store.update("Contact", contact_id(1), {"Email": "ada@off.example"}, user_id=ME)
    created = sf_store.create("Contact", {"LastName": "Quiet"}, user_id=ME)
    assert sf_store.history("Contact", contact_id(1)) == []
    assert sf_store.history("Contact", created["Id"]) == []
    sf_store.set_track_history(True)
    sf_store.update("Contact", contact_id(1), {"Email": "ada@on.example"}, user_id=ME)
    assert history(sf_store, "Contact", contact_id(1)) == [
        ("Email", "ada@off.example", "ada@on.example")]


def test_new_email_clears_bounce(sf_store):
    bounced = sf_store.update("Contact", contact_id(2), {
        "EmailBouncedDate": "2026-02-20T08:00:00Z", "EmailBouncedReason": "550 no such user"},
        user_id=ME)
    assert bounced["IsEmailBounced"] is True
    assert bounced["EmailBouncedDate"] == "2026-02-20T08:00:00.000+0000"
    fixed = sf_store.update("Contact", contact_id(2), {"Email": "grace@navy.example"}, user_id=ME)
    assert fixed["IsEmailBounced"] is False
    assert fixed["EmailBouncedDate"] is None and fixed["EmailBouncedReason"] is None


def test_if_unmodified_since_compares_whole_seconds(sf_store):
    stamp = parse_wire_datetime(MODIFIED)
    sf_store.update("Contact", contact_id(1), {"FirstName": "A"}, user_id=ME,
                    if_unmodified_since=stamp.replace(microsecond=0) + timedelta(seconds=3600))
    with pytest.raises(StoreError) as err:
        sf_store.update("Contact", contact_id(1), {"FirstName": "B"}, user_id=ME,
                        if_unmodified_since=stamp)
    assert (err.value.status, err.value.error_code) == (412, "PRECONDITION_FAILED")
    assert sf_store.get("Contact", contact_id(1))["FirstName"] == "A"


def test_external_edit_moves_at_least_a_second(sf_store):
    before = sf_store.get("Contact", contact_id(4))
    after = sf_store.external_edit("Contact", contact_id(4), {"Email": "e@elsewhere.example"})
    gap = parse_wire_datetime(after["LastModifiedDate"]) - \
        parse_wire_datetime(before["LastModifiedDate"])
    assert gap >= timedelta(seconds=1)
    assert after["LastModifiedById"] == to18(OTHER_USER)


def test_delete_is_soft(sf_store):
    sf_store.delete("Contact", contact_id(5), user_id=ME)
    assert sf_store.get("Contact", contact_id(5)) is None
    assert sf_store.get("Contact", contact_id(5), include_deleted=True)["IsDeleted"] is True
    assert sf_store.count("Contact") == 5
    with pytest.raises(StoreError) as err:
        sf_store.update("Contact", contact_id(5), {"FirstName": "B"}, user_id=ME)
    assert err.value.error_code == "ENTITY_IS_DELETED"


def test_convert_lead_then_writes_are_refused(sf_store):
    lead = sf_store.convert_lead(lead_id(1), user_id=ME)
    assert lead["IsConverted"] is True and lead["ConvertedDate"] == "2026-03-02"
    contact = sf_store.get("Contact", lead["ConvertedContactId"])
    assert contact["Email"] == "don@taocp.example"
    with pytest.raises(StoreError, match="CANNOT_UPDATE_CONVERTED_LEAD"):
        sf_store.update("Lead", lead_id(1), {"Email": "don@new.example"}, user_id=ME)


def test_find_by_email_and_changed_since(sf_store, sf_clock):
    found = sf_store.find_by_email("  ALAN@acme.example ")
    assert sorted((r["attributes"]["type"], r["Id"]) for r in found) == [
        ("Contact", contact_id(3)), ("Lead", lead_id(3))]
    assert sf_store.find_by_email("") == []
    since = sf_clock()
    assert sf_store.changed_since(since) == []
    sf_clock.advance(seconds=1)
    sf_store.update("Lead", lead_id(2), {"Email": "frances@ibm.example"}, user_id=ME)
    sf_store.delete("Contact", contact_id(6), user_id=ME)
    changed = sf_store.changed_since(since)
    assert [(r["Id"], r["IsDeleted"]) for r in changed] == [(contact_id(6), True),
                                                            (lead_id(2), False)]


def test_transaction_rolls_back_everything(sf_store):
    with pytest.raises(RuntimeError):
        with sf_store.transaction():
            sf_store.update("Contact", contact_id(1), {"Email": "gone@x.example"}, user_id=ME)
            with pytest.raises(StoreError):
                with sf_store.transaction():  # an inner failure rolls back only itself
                    sf_store.update("Contact", contact_id(2), {"Email": "bad"}, user_id=ME)
            raise RuntimeError("abort the outer transaction")
    assert sf_store.get("Contact", contact_id(1))["Email"] == "ada@acme.example"
    assert sf_store.history("Contact", contact_id(1)) == []


def test_load_rules(sf_clock):
    with SalesforceStore(clock=sf_clock) as store:
        store.load_records([{"attributes": {"type": "Contact"}, "LastName": "Bare",
                             "Email": "Bare@X.example", "IsDeleted": False,
                             "CreatedDate": "2026-01-01T10:00:00Z"}])
        (row,) = store.query("SELECT Id, Email, CreatedDate, LastModifiedDate, SystemModstamp, "
                             "OwnerId, IsEmailBounced FROM Contact")
        assert row["Email"] == "bare@x.example"
        assert row["CreatedDate"] == row["LastModifiedDate"] == row["SystemModstamp"] == \
            "2026-01-01T10:00:00.000+0000"
        assert row["IsEmailBounced"] is False and row["Id"].startswith("003")
        with pytest.raises(StoreError, match="INVALID_FIELD"):
            store.load_records([{"attributes": {"type": "Contact"}, "LastName": "x", "Bogus": 1}])
        with pytest.raises(StoreError, match="INVALID_TYPE"):
            store.load_records([{"attributes": {"type": "Opportunity"}, "Name": "x"}])
        with pytest.raises(StoreError, match="DUPLICATE_VALUE"):
            store.load_records([{"attributes": {"type": "Contact"}, "Id": row["Id"],
                                 "LastName": "again"}])
        assert store.count("Contact") == 1  # a failed load leaves nothing behind


def test_duplicate_ids_within_one_load_are_refused_whole(sf_clock):
    with SalesforceStore(clock=sf_clock) as store:
        rows = [{"attributes": {"type": "Lead"}, "Id": lead_id(1), "LastName": "x",
                 "Company": "y"}] * 2
        with pytest.raises(StoreError, match="DUPLICATE_VALUE"):
            store.load_records(rows)
        assert store.count("Lead") == 0
        store.load_records(rows[:1])
        assert store.get("Lead", lead_id(1))["LastName"] == "x"  # indexes are back


def test_bulk_load_speed_and_lookup(sf_clock):
    n = 20_000
    rows = ({"attributes": {"type": "Contact" if i % 2 else "Lead"},
             "Id": salesforce_id("Contact" if i % 2 else "Lead", i), "LastName": f"P{i}",
             "Company": None if i % 2 else "Co", "Email": f"Person{i}@Example.com",
             "CreatedDate": "2026-01-05T00:00:00.000+0000"} for i in range(1, n + 1))
    rows = [{k: v for k, v in r.items() if v is not None} for r in rows]
    with SalesforceStore(clock=sf_clock) as store:
        started = datetime.now(timezone.utc)
        assert store.load_records(rows) == n
        seconds = (datetime.now(timezone.utc) - started).total_seconds()
        assert seconds < 2.0, f"{n} rows took {seconds:.2f}s"
        assert store.count("Contact") == n // 2 and store.count("Lead") == n // 2
        assert [r["Id"] for r in store.find_by_email("PERSON77@example.com")] == [
            salesforce_id("Contact", 77)]


def test_concurrent_writers_are_serialised(sf_store):
    errors = []

    def edit(n: int) -> None:
        try:
            for i in range(20):
                sf_store.update("Contact", contact_id(n), {"Email": f"p{n}.{i}@x.example"},
                                user_id=ME)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=edit, args=(n,)) for n in (1, 2, 4, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert [sf_store.get("Contact", contact_id(n))["Email"] for n in (1, 2, 4, 5)] == [
        f"p{n}.19@x.example" for n in (1, 2, 4, 5)]
    assert len(sf_store.history("Contact", contact_id(1))) == 20


# -- query pages: records as JSON built by SQLite are the records built in Python ------------

@pytest.mark.parametrize("soql", [
    "SELECT Id, FirstName, LastName, Email, AccountId, Account.Name, EmailBouncedDate, "
    "CreatedDate, LastModifiedDate, SystemModstamp, IsDeleted FROM Contact",
    "SELECT Id, Company, Email, IsConverted, ConvertedContactId, IsDeleted FROM Lead",
    "SELECT Account.Name, Email, Account.Id, Id FROM Contact ORDER BY Email DESC",
    "SELECT Id FROM Lead WHERE IsConverted = true",
])
def test_json_pages_equal_python_records(sf_store, soql):
    sf_store.create("Contact", {"FirstName": "Zoë \"Q\" \\ O'Brien", "LastName": "Ünal\t😀",
                                "Email": "zoe@bucher.example"}, user_id=OTHER_USER)
    plan = sf_store.compile(soql)
    ids = sf_store.query_ids(plan)
    assert len(ids) > 0
    expected = [orjson.dumps(r).decode() for r in sf_store.fetch_records(plan, ids, "60.0")]
    assert sf_store.fetch_records_json(plan, ids, "60.0") == expected
    assert sf_store.fetch_records_json(plan, ids[::-1], "60.0") == expected[::-1]  # page order


def test_emptying_the_recycle_bin(sf_store):
    record = contact_id(1)
    with pytest.raises(StoreError) as err:
        sf_store.purge("Contact", record)  # still live: not in the recycle bin
    assert err.value.error_code == "INVALID_ID_FIELD"
    sf_store.update("Contact", record, {"Email": "moved@acme.example"}, user_id=OTHER_USER)
    assert sf_store.query(f"SELECT Id FROM ContactHistory WHERE ContactId = '{record}'")
    sf_store.delete("Contact", record, user_id=OTHER_USER)
    assert sf_store.query(f"SELECT Id FROM Contact WHERE Id = '{record}'", include_deleted=True)
    sf_store.purge("Contact", record)
    assert not sf_store.query(f"SELECT Id FROM Contact WHERE Id = '{record}'",
                              include_deleted=True)
    early, late = START - timedelta(days=1), datetime.now(timezone.utc) + timedelta(days=1)
    assert [r[0] for r in sf_store.deleted_ids("Contact", early, late)] == [record]
    assert not sf_store.query(f"SELECT Id FROM ContactHistory WHERE ContactId = '{record}'")


def test_a_purge_rolled_back_leaves_no_trace(sf_store):
    record = contact_id(2)
    sf_store.delete("Contact", record, user_id=OTHER_USER)
    with pytest.raises(RuntimeError), sf_store.transaction():
        sf_store.purge("Contact", record)
        raise RuntimeError("rolled back")
    early, late = START - timedelta(days=1), datetime.now(timezone.utc) + timedelta(days=1)
    assert [r[0] for r in sf_store.deleted_ids("Contact", early, late)] == [record]


@pytest.mark.parametrize("eai, accepted", [(False, False), (True, True)],
                         ids=["EAI off (the default)", "EAI on (an org setting)"])
def test_non_ascii_emails_need_email_address_internationalization(eai, accepted):
    from core.sandbox.ids import OTHER_USER
    from core.sandbox.salesforce.store import SalesforceStore

    store = SalesforceStore(eai=eai)
    try:
        if accepted:
            created = store.create("Contact", {"LastName": "Jö", "Email": "jö@acme.example"},
                                   user_id=OTHER_USER)
            assert store.get("Contact", created["Id"])["Email"] == "jö@acme.example"
        else:
            with pytest.raises(StoreError) as err:
                store.create("Contact", {"LastName": "Jö", "Email": "jö@acme.example"},
                             user_id=OTHER_USER)
            assert err.value.error_code == "INVALID_EMAIL_ADDRESS"
    finally:
        store.close()
