"""Apollo's Salesforce sync between the two emulators (DESIGN §3.1), through the real APIs.

Apollo is driven over HTTPS with requests, Salesforce with simple-salesforce; the stores are
read directly only to check what the other side now holds.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.model import CreatePolicy, Settings
from core.sandbox.apollo.store import default_stages
from core.sandbox.clock import SandboxClock, parse_iso
from core.sandbox.ids import APOLLO_SYNC_USER, OTHER_USER, apollo_id, salesforce_id, to18
from core.sandbox.integration import ApolloSync
from core.sandbox.salesforce.app import client, start_salesforce
from core.sandbox.salesforce.store import SalesforceStore
from tests.sandbox.apollo.harness import START, ApolloHarness, sample_contacts

SYNC = to18(APOLLO_SYNC_USER)
STAGES = default_stages()
STAGE = {s["name"]: s["id"] for s in STAGES}
ACCOUNT = salesforce_id("Account", 1)
LINKED_CONTACT = salesforce_id("Contact", 1)
LINKED_LEAD = salesforce_id("Lead", 1)
CONVERTED_LEAD = salesforce_id("Lead", 2)
CONVERTED_TO = salesforce_id("Contact", 2)
SF_TS = "2026-02-01T10:00:00.000+0000"


def sf_record(obj: str, record_id: str, first: str, last: str, email: str | None, **extra) -> dict:
    record = {"attributes": {"type": obj}, "Id": record_id, "FirstName": first, "LastName": last,
              "Email": email, "CreatedDate": SF_TS, "LastModifiedDate": SF_TS,
              "SystemModstamp": SF_TS, "CreatedById": to18(OTHER_USER),
              "LastModifiedById": to18(OTHER_USER)}
    if obj == "Lead":
        record["Company"] = extra.pop("Company", "Analytical Engines")
    else:
        record["AccountId"] = extra.pop("AccountId", ACCOUNT)
    record.update(extra)
    return record


def link(contact: dict, sf_id: str) -> dict:
    key = "salesforce_contact_id" if sf_id.startswith("003") else "salesforce_lead_id"
    return {**contact, "salesforce_id": sf_id, key: sf_id, "source": "crm",
            "crm_record_url": f"https://sandbox.my.salesforce.com/{sf_id}"}


class Setup:
    """Both emulators on HTTPS, one frozen clock, an ApolloSync attached to the Apollo app.

    Apollo contacts 1-40 come from ``sample_contacts``: contact 1 is linked to a Contact,
    2 to a Lead, 3 to a Lead that was converted; the rest are unlinked and never pushed.
    """

    def __init__(self, material, settings: Settings | dict | None = None):
        self.clock = SandboxClock(START, frozen=True)
        contacts = sample_contacts(40)
        self.emails = {i + 1: c["email"] for i, c in enumerate(contacts)}
        contacts[0] = link(contacts[0], LINKED_CONTACT)
        contacts[1] = link(contacts[1], LINKED_LEAD)
        contacts[2] = link(contacts[2], CONVERTED_LEAD)
        self.sf = SalesforceStore(clock=self.clock)
        self.sf.load_accounts([{"attributes": {"type": "Account"}, "Id": ACCOUNT,
                                "Name": "Analytical Engines"}])
        self.sf.load_records([
            sf_record("Contact", LINKED_CONTACT, "Ada", "Lovelace", self.emails[1]),
            sf_record("Lead", LINKED_LEAD, "Grace", "Lovelace", self.emails[2],
                      Company="Cobol Works"),
            sf_record("Lead", CONVERTED_LEAD, "Alan", "Lovelace", self.emails[3],
                      Company="Bletchley Labs", IsConverted=True, ConvertedContactId=CONVERTED_TO),
            sf_record("Contact", CONVERTED_TO, "Alan", "Lovelace", self.emails[3]),
        ])
        self.apollo = ApolloHarness(material, contacts, clock=self.clock,
                                    limits={"minute": 10_000, "hour": 10_000, "day": 100_000})
        self.sync = ApolloSync(self.sf, self.apollo.store, settings)
        self.sync.attach(self.apollo.app)
        self.sf_server = start_salesforce(self.sf, material)
        self.salesforce = client(self.sf_server)

    def contact(self, number_or_id) -> dict:
        """An Apollo contact read over HTTPS."""
        contact_id = apollo_id(number_or_id) if isinstance(number_or_id, int) else number_or_id
        response = self.apollo.request("GET", f"/api/v1/contacts/{contact_id}")
        assert response.status_code == 200, response.text
        return response.json()["contact"]

    def patch(self, number: int, body: dict) -> dict:
        response = self.apollo.request("PATCH", f"/api/v1/contacts/{apollo_id(number)}", json=body)
        assert response.status_code == 200, response.text
        return response.json()["contact"]

    def later(self, minutes: float = 31) -> None:
        self.clock.advance(minutes=minutes)

    def close(self) -> None:
        self.salesforce.session.close()
        self.sf_server.stop()
        self.apollo.close()
        self.sf.close()


@pytest.fixture
def setup(tls_material, request):
    harness = Setup(tls_material, getattr(request, "param", None))
    yield harness
    harness.close()


# -- S8: an Apollo email edit is pushed to the linked record at once ------------------------------

@pytest.mark.parametrize("number, obj, sf_id", [
    (1, "Contact", LINKED_CONTACT),
    (2, "Lead", LINKED_LEAD),
])
def test_s8_patch_pushes_the_email_to_the_linked_record(setup, number, obj, sf_id):
    contact = setup.patch(number, {"email": "New.Address@Example.com"})
    assert contact["crm_job"]["status"] == "completed"
    record = getattr(setup.salesforce, obj).get(sf_id)  # read back over the REST API
    assert record["Email"] == "new.address@example.com"  # Salesforce lower-cases
    assert record["LastModifiedById"] == SYNC
    history = setup.sf.history(obj, sf_id)
    assert history[-1]["NewValue"] == "new.address@example.com"
    assert history[-1]["CreatedById"] == SYNC


def test_s8_converted_lead_push_fails_on_the_crm_job(setup):
    response = setup.apollo.request("PATCH", f"/api/v1/contacts/{apollo_id(3)}",
                                    json={"email": "alan@new.example"})
    assert response.status_code == 200  # Apollo takes the edit; only the push fails
    contact = response.json()["contact"]
    assert contact["email"] == "alan@new.example"
    assert contact["crm_job"]["status"] == "failed"
    assert contact["crm_job"]["error_code"] == "CANNOT_UPDATE_CONVERTED_LEAD"
    assert setup.sf.get("Lead", CONVERTED_LEAD)["Email"] == setup.emails[3]
    assert setup.contact(3)["crm_job"]["status"] == "failed"  # kept on the contact


def test_s8_missing_record_fails_without_crashing(setup):
    setup.sf.delete("Contact", LINKED_CONTACT)
    contact = setup.patch(1, {"email": "ada@new.example"})
    assert contact["crm_job"]["status"] == "failed"
    assert contact["crm_job"]["error_code"] == "NOT_FOUND"


def test_s8_bulk_update_pushes_every_linked_contact(setup):
    answer = setup.apollo.request("POST", "/api/v1/contacts/bulk_update", json={
        "contact_attributes": [{"id": apollo_id(1), "email": "one@bulk.example"},
                               {"id": apollo_id(2), "email": "two@bulk.example"},
                               {"id": apollo_id(9), "email": "nine@bulk.example"}]}).json()
    assert [c["email"] for c in answer["contacts"]] == ["one@bulk.example", "two@bulk.example",
                                                        "nine@bulk.example"]
    assert setup.sf.get("Contact", LINKED_CONTACT)["Email"] == "one@bulk.example"
    assert setup.sf.get("Lead", LINKED_LEAD)["Email"] == "two@bulk.example"


def test_s8_other_fields_are_not_pushed(setup):
    before = setup.sf.get("Contact", LINKED_CONTACT)
    contact = setup.patch(1, {"title": "Countess"})
    assert "crm_job" not in contact
    assert setup.sf.get("Contact", LINKED_CONTACT) == before


def test_s8_case_only_change_is_not_pushed(setup):
    before = setup.sf.get("Contact", LINKED_CONTACT)
    setup.patch(1, {"email": setup.emails[1].upper()})
    assert setup.sf.get("Contact", LINKED_CONTACT)["SystemModstamp"] == before["SystemModstamp"]


# -- S1/S5: a Salesforce edit reaches Apollo on the next pull ------------------------------------

@pytest.mark.parametrize("number, obj, sf_id", [
    (1, "Contact", LINKED_CONTACT),
    (2, "Lead", LINKED_LEAD),
])
def test_s1_salesforce_edit_arrives_on_the_next_pull(setup, number, obj, sf_id):
    getattr(setup.salesforce, obj).update(sf_id, {"Email": "edited@salesforce.example"})
    assert setup.contact(number)["email"] == setup.emails[number]  # not before Apollo pulls
    setup.later(31)
    report = setup.sync.pull_tick()
    assert report.updated == [apollo_id(number)]
    contact = setup.contact(number)
    assert contact["email"] == "edited@salesforce.example"
    assert contact["email_from_customer"] is True
    assert contact["updated_at"] > "2026-03-02T09:31"


def test_s1_pull_through_the_admin_route(setup):
    setup.salesforce.Contact.update(LINKED_CONTACT, {"Email": "admin@salesforce.example"})
    setup.later()
    answer = setup.apollo.admin("POST", "/__sandbox/pull_tick").json()
    assert answer["updated"] == [apollo_id(1)]
    assert setup.contact(1)["email"] == "admin@salesforce.example"


def test_s1_apollos_own_push_is_not_pulled_back(setup):
    setup.patch(1, {"email": "mine@apollo.example"})
    setup.later()
    report = setup.sync.pull_tick()
    assert report.echoes == 1 and report.updated == []
    assert setup.contact(1)["email"] == "mine@apollo.example"


def test_s1_each_change_is_pulled_once(setup):
    setup.salesforce.Contact.update(LINKED_CONTACT, {"Email": "once@salesforce.example"})
    setup.later()
    assert setup.sync.pull_tick().updated == [apollo_id(1)]
    setup.later()
    assert setup.sync.pull_tick().updated == []


def test_s1_a_change_at_the_edge_of_a_tick_is_not_pulled_twice(setup):
    setup.salesforce.Contact.update(LINKED_CONTACT, {"Email": "edge@salesforce.example"})
    assert setup.sync.pull_tick().updated == [apollo_id(1)]  # within the same second
    again = setup.sync.pull_tick()
    assert again.records_seen == 0 and again.updated == []


def test_s1_records_there_when_the_sync_starts_count_as_pulled(setup):
    """A sync started just after an edit (a loaded dataset's state) has pulled it at
    ``last_pull``, even inside the overlap the next tick re-reads; Apollo missed it."""
    setup.salesforce.Contact.update(LINKED_CONTACT, {"Email": "before@salesforce.example"})
    stamp = parse_iso(setup.sf.get("Contact", LINKED_CONTACT)["SystemModstamp"])
    started = ApolloSync(setup.sf, setup.apollo.store, last_pull=stamp + timedelta(milliseconds=500))
    setup.later()
    assert started.pull_tick().updated == []
    assert setup.contact(1)["email"] == setup.emails[1]
    setup.salesforce.Contact.update(LINKED_CONTACT, {"Email": "after@salesforce.example"})
    setup.later()
    assert started.pull_tick().updated == [apollo_id(1)]

def test_converted_lead_is_followed_to_its_contact(setup):
    converted = setup.sf.convert_lead(LINKED_LEAD, user_id=OTHER_USER)
    setup.later()
    report = setup.sync.pull_tick()
    assert report.relinked == [apollo_id(2)]
    contact = setup.contact(2)
    assert contact["salesforce_contact_id"] == converted["ConvertedContactId"]
    assert contact["salesforce_id"] == converted["ConvertedContactId"]
    # Later edits go to the Contact, not to the converted Lead.
    assert setup.patch(2, {"email": "grace@new.example"})["crm_job"]["status"] == "completed"
    assert setup.sf.get("Contact", converted["ConvertedContactId"])["Email"] == "grace@new.example"


# -- S4 and S6: records linked by email, imported when new ---------------------------------------

def test_s4_new_record_with_the_same_email_links_the_contact(setup):
    record = setup.salesforce.Contact.create({"FirstName": "Someone", "LastName": "Else",
                                              "Email": setup.emails[10], "AccountId": ACCOUNT})
    setup.later()
    report = setup.sync.pull_tick()
    assert report.linked == [apollo_id(10)]
    contact = setup.contact(10)
    assert contact["salesforce_contact_id"] == record["id"]
    assert contact["email"] == setup.emails[10]


def test_s4_lead_and_contact_for_one_person_link_the_contact(setup):
    email = setup.emails[11]
    setup.sf.create("Lead", {"LastName": "Lovelace", "Company": "Bletchley Labs", "Email": email},
                    user_id=OTHER_USER)
    contact_record = setup.sf.create("Contact", {"LastName": "Lovelace", "Email": email},
                                     user_id=OTHER_USER)
    setup.later()
    setup.sync.pull_tick()
    contact = setup.contact(11)
    assert contact["salesforce_contact_id"] == contact_record["Id"]
    assert contact["salesforce_lead_id"] is None


def test_s4_contact_created_for_a_lead_linked_person_takes_over_the_link(setup):
    record = setup.sf.create("Contact", {"LastName": "Lovelace", "Email": setup.emails[2]},
                             user_id=OTHER_USER)
    setup.later()
    assert setup.sync.pull_tick().relinked == [apollo_id(2)]
    assert setup.contact(2)["salesforce_contact_id"] == record["Id"]


@pytest.mark.parametrize("setup, imported", [
    ({"manage_crm_as_contacts": True}, True),
    ({"manage_crm_as_contacts": False}, False),
], indirect=["setup"])
def test_s6_new_salesforce_record_is_imported(setup, imported):
    record = setup.sf.create("Lead", {"FirstName": "Radia", "LastName": "Newcomer",
                                      "Company": "Spanning Trees", "Email": "radia@trees.example"},
                             user_id=OTHER_USER)
    setup.later()
    report = setup.sync.pull_tick()
    found = setup.apollo.search({"q_keywords": "radia@trees.example"}).json()
    if imported:
        assert len(report.imported) == 1
        contact = found["contacts"][0]
        assert contact["source"] == "crm"
        assert contact["salesforce_lead_id"] == record["Id"]
        assert contact["organization_name"] == "Spanning Trees"
    else:
        assert report.in_crm_only == 1 and found["contacts"] == []


# -- S9: a never-pushed contact takes the email of a record created for it later -----------------

@pytest.mark.parametrize("case, apollo_number, sf_fields, overwritten", [
    ("same person, new record", 14, {"FirstName": "edsger", "LastName": "HOPPER",
                                     "Company": "COBOL WORKS"}, True),
    ("name differs", 14, {"FirstName": "Eddie", "LastName": "Hopper",
                          "Company": "Cobol Works"}, False),
    ("company differs", 14, {"FirstName": "Edsger", "LastName": "Hopper",
                             "Company": "Other Co"}, False),
])
def test_s9_late_salesforce_create(setup, case, apollo_number, sf_fields, overwritten):
    before = setup.contact(apollo_number)
    assert (before["name"], before["organization_name"]) == ("Edsger Hopper", "Cobol Works")
    setup.later(5)
    record = setup.sf.create("Lead", {**sf_fields, "Email": "edsger@late.example"},
                             user_id=OTHER_USER)
    setup.later()
    report = setup.sync.pull_tick()
    contact = setup.contact(apollo_number)
    if overwritten:
        assert report.late_created == [apollo_id(apollo_number)]
        assert contact["email"] == "edsger@late.example"
        assert contact["salesforce_lead_id"] == record["Id"]
    else:
        assert contact["email"] == before["email"]
        assert contact["salesforce_id"] is None


def test_s9_does_not_touch_a_contact_apollo_pushed(setup):
    setup.apollo.store.mark_pushed(apollo_id(14))
    setup.sf.create("Lead", {"FirstName": "Edsger", "LastName": "Hopper", "Company": "Cobol Works",
                             "Email": "edsger@late.example"}, user_id=OTHER_USER)
    setup.later()
    setup.sync.pull_tick()
    assert setup.contact(14)["email"] == setup.emails[14]


# -- S7: new Apollo contacts create Salesforce records when the push settings say so -------------

def create_contact(setup, **fields) -> dict:
    body = {"first_name": "Barbara", "last_name": "Newperson", "organization_name": "Clu Systems",
            "title": "Architect", "email": "barbara@clu.example", **fields}
    response = setup.apollo.request("POST", "/api/v1/contacts", json=body)
    assert response.status_code == 200, response.text
    return response.json()["contact"]


@pytest.mark.parametrize("setup, stage, obj", [
    (Settings(create_policy=CreatePolicy.ON, create_as="Lead"), "Cold", "Lead"),
    (Settings(create_policy=CreatePolicy.ON, create_as="Contact"), "Cold", "Contact"),
    ({"create_policy": "stages", "create_stages": ["interested"]}, "Interested", "Lead"),
    ({"create_policy": "stages", "create_stages": [STAGE["Interested"]]}, "Interested", "Lead"),
    ({"create_policy": "stages", "create_stages": ["Interested"]}, "Cold", None),
    ({"create_policy": "off"}, "Interested", None),
], indirect=["setup"])
def test_s7_creation_push(setup, stage, obj):
    contact = create_contact(setup, contact_stage_id=STAGE[stage])
    found = setup.sf.find_by_email("barbara@clu.example")
    if obj is None:
        assert found == [] and contact["salesforce_id"] is None
        return
    assert len(found) == 1
    record = found[0]
    assert record["attributes"]["type"] == obj
    assert record["CreatedById"] == SYNC
    assert contact["salesforce_id"] == record["Id"]
    key = "salesforce_lead_id" if obj == "Lead" else "salesforce_contact_id"
    assert contact[key] == record["Id"]
    assert contact["crm_job"]["status"] == "completed"
    # Apollo's own record coming back in the next pull changes nothing and imports nothing.
    setup.later()
    report = setup.sync.pull_tick()
    assert report.imported == [] and report.linked == []
    assert setup.apollo.search({"q_keywords": "barbara@clu.example"}).json()["pagination"]["total_entries"] == 1


@pytest.mark.parametrize("setup", [{"create_policy": "stages", "create_stages": ["Interested"]}],
                         indirect=True)
def test_s7_moving_to_a_chosen_stage_creates_the_record(setup):
    created = create_contact(setup, contact_stage_id=STAGE["Cold"])
    assert setup.sf.find_by_email("barbara@clu.example") == []
    moved = setup.apollo.request("PATCH", f"/api/v1/contacts/{created['id']}",
                                 json={"contact_stage_id": STAGE["Interested"]}).json()["contact"]
    record = setup.sf.find_by_email("barbara@clu.example")[0]
    assert moved["salesforce_lead_id"] == record["Id"]
    # A later edit of the email is then an update push (S8), not a second record.
    setup.apollo.request("PATCH", f"/api/v1/contacts/{created['id']}",
                         json={"email": "barbara@new.example"})
    assert setup.sf.get("Lead", record["Id"])["Email"] == "barbara@new.example"
    assert setup.sf.count("Lead") == 3  # the two loaded ones and this one


@pytest.mark.parametrize("setup", [{"create_policy": "on"}], indirect=True)
def test_s7_refused_create_is_recorded(setup):
    contact = create_contact(setup, last_name=None, organization_name=None,
                             email="x" * 90 + "@long.example")
    # Apollo ignored nothing: Salesforce refuses the 80+ character address.
    assert contact["crm_job"]["status"] == "failed"
    assert contact["salesforce_id"] is None


# -- starting everything ------------------------------------------------------------------------

def test_spawn_serves_generated_data(tmp_path):
    import json

    from simple_salesforce import Salesforce

    from core.sandbox import spawn

    with spawn(records=300, seed=3, tls_dir=tmp_path / "tls") as sandbox:
        info = json.loads(json.dumps(sandbox.info()))
        session = requests_session(info["ca_path"])
        answer = session.post(info["apollo"]["api_url"] + "/contacts/search", json={"per_page": 100},
                              headers={"x-api-key": info["apollo"]["api_key"]}).json()
        assert answer["pagination"]["total_entries"] == sandbox.loaded["apollo_contacts"] > 0
        sf = Salesforce(instance_url=info["salesforce"]["instance_url"], version="59.0",
                        session_id=info["salesforce"]["access_token"], session=session)
        total = sf.query("SELECT COUNT() FROM Contact")["totalSize"]
        assert total == sandbox.sf_store.count("Contact") > 0
        tick = session.post(info["apollo"]["pull_tick_url"],
                            headers={"X-Sandbox-Admin": info["admin_token"]})
        assert tick.status_code == 200 and "updated" in tick.json()
        assert info["salesforce"]["client_id"] == sandbox.salesforce_client_id


def requests_session(ca_path):
    import requests

    session = requests.Session()
    session.trust_env = False
    session.verify = ca_path
    return session


def test_serve_writes_a_private_info_file_and_stops_on_sigterm(tmp_path):
    import os
    import stat

    from core.sandbox import spawn
    from core.sandbox.apollo.api import UNLIMITED

    with spawn(records=200, seed=5, tls_dir=tmp_path / "tls", apollo_limits=UNLIMITED,
               in_child=True) as child:
        assert stat.S_IMODE(os.stat(child.info_path).st_mode) == 0o600
        info = child.info()
        assert info["pid"] == child.process.pid and info["records"] == 200
        session = requests_session(info["ca_path"])
        health = session.get(info["apollo"]["api_url"] + "/auth/health",
                             headers={"x-api-key": info["apollo"]["api_key"]})
        assert health.status_code == 200
        assert "x-rate-limit-minute" in health.headers and health.headers["x-rate-limit-minute"] == ""
        tick = session.post(info["apollo"]["pull_tick_url"],
                            headers={"X-Sandbox-Admin": info["admin_token"]})
        assert tick.status_code == 200
        child.stop()  # SIGTERM
        assert child.process.returncode == 0
        assert not child.info_path.exists()


@pytest.mark.parametrize("limits", [{"minute": None, "hour": None, "day": None},
                                    {"minute": 200, "hour": None, "day": 2000}])
def test_a_child_sandbox_gets_the_limits_asked_for(limits):
    from core.sandbox.child import limits_argument
    from core.sandbox.standalone import parse_limits

    assert parse_limits(limits_argument(limits)) == limits


def test_a_child_sandbox_takes_only_what_its_command_line_can_say():
    from core.sandbox import spawn

    with pytest.raises(ValueError, match="child process"):
        spawn(records=10, seed=1, in_child=True, settings={"create_policy": "on"})
