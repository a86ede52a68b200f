"""The write plan's refusals and redirections, from a small cache: what never leaves the
machine, and where a converted Lead's write goes."""

from datetime import datetime, timezone

import pytest

from core.store.cache import Cache
from core.sync import choices
from core.sync.plan import plan
from core.sync.reconcile import reconcile
from tests.builders import contact, load, sf

NOW = datetime(2026, 11, 1, tzinfo=timezone.utc)
LATER = "2026-10-30T00:00:00.000Z"


@pytest.fixture
def cache(tmp_path):
    """Four people who differ: Apollo moved for each (strong, Salesforce gets Apollo's)."""
    with Cache(tmp_path / "c.sqlite") as c:
        people = [("a1", "003A", "jo"), ("a2", "003B", "ann"), ("a3", "003C", "bo"),
                  ("a4", "003D", "cy")]
        load(c, [contact(a, f"{n}@acme.com", sf=s, contact_id=s, first=n) for a, s, n in people],
             [sf(s, "Contact", f"{n}@acme.com", first=n) for a, s, n in people])
        reconcile(c, now=NOW)
        load(c, [contact(a, f"{n}.new@acme.com", sf=s, contact_id=s, first=n, updated=LATER)
                 for a, s, n in people], when=LATER)
        reconcile(c, now=NOW)
        yield c


def link(cache, apollo_id):
    return cache.conn.execute("SELECT link_id FROM links WHERE apollo_id = ?",
                              (apollo_id,)).fetchone()[0]


def test_one_typed_address_for_several_people_is_refused_for_all_of_them(cache):
    a1, a2 = link(cache, "a1"), link(cache, "a2")
    for one in (a1, a2):
        choices.set_choice(cache, [one], "custom", "shared@acme.com")
    the_plan = plan(cache)
    assert {w.link_id for w in the_plan.writes} == {link(cache, "a3"), link(cache, "a4")}
    assert {link_id for link_id, _ in the_plan.refused} == {a1, a2}
    assert the_plan.not_written == {"one typed address for several people": 2}
    choices.revert(cache, [a2])
    assert any(w.new_email == "shared@acme.com" for w in plan(cache).writes)  # one person: fine


def test_an_address_salesforce_would_refuse_never_leaves_the_machine(cache):
    load(cache, [contact("a1", "jo smith@acme", sf="003A", contact_id="003A", first="jo",
                         updated="2026-10-31T00:00:00.000Z")], when="2026-10-31T00:00:00.000Z")
    reconcile(cache, now=NOW)
    choices.set_choice(cache, [link(cache, "a1")], "apollo")  # the user insists on Apollo's
    the_plan = plan(cache)
    assert all(w.link_id != link(cache, "a1") for w in the_plan.writes)
    assert the_plan.not_written == {"address Salesforce would refuse": 1}


def test_a_pair_changed_since_it_was_decided_waits_for_the_next_reconcile(cache):
    load(cache, [], [sf("003B", "Contact", "ann.elsewhere@acme.com", first="ann",
                        modified="2026-10-31T00:00:00.000+0000")], when="2026-10-31T00:00:00.000Z")
    the_plan = plan(cache)
    assert all(w.link_id != link(cache, "a2") for w in the_plan.writes)
    assert the_plan.not_written == {"changed since decided (reconcile again)": 1}


def test_a_converted_lead_is_never_written_its_contact_is(tmp_path):
    with Cache(tmp_path / "c.sqlite") as c:
        load(c, [contact("a1", "jo@acme.com", sf="00QL", lead="00QL")],
             [sf("00QL", "Lead", "jo@acme.com")])
        reconcile(c, now=NOW)
        load(c, [contact("a1", "jo.new@acme.com", sf="00QL", lead="00QL", updated=LATER)], when=LATER)
        reconcile(c, now=NOW)
        choices.set_choice(c, [link(c, "a1")], "apollo")
        assert [w.record_id for w in plan(c).writes] == ["00QL"]
        # The Lead is converted after the decision; without its Contact nothing is written.
        load(c, [], [sf("00QL", "Lead", "jo@acme.com", converted_to="003K")], when=LATER)
        assert plan(c).writes == [] and plan(c).not_written == {"converted lead without its contact": 1}
        load(c, [], [sf("003K", "Contact", "jo@acme.com")], when=LATER)
        assert [(w.object, w.record_id, w.new_email) for w in plan(c).writes] == [
            ("Contact", "003K", "jo.new@acme.com")]


def test_the_plan_hash_names_exactly_what_would_be_written(cache):
    first = plan(cache)
    assert plan(cache).digest() == first.digest()
    choices.set_choice(cache, [link(cache, "a1")], "skip")
    assert plan(cache).digest() != first.digest()
