"""Linking Apollo contacts to Salesforce records: ids, then email, then suggestions only."""

import pytest

from core import matching
from core.store.cache import Cache
from tests.builders import contact, links, load, sf


@pytest.fixture
def cache(tmp_path):
    with Cache(tmp_path / "cache.sqlite") as c:
        yield c


def test_the_salesforce_id_apollo_holds_links_first(cache):
    load(cache, [contact("a1", "jo@acme.com", sf="003A", contact_id="003A")],
         [sf("003A", "Contact", "other@acme.com"), sf("003B", "Contact", "jo@acme.com", first="X")])
    matching.match(cache)
    assert ("a1", "003A", "crm_id") in links(cache)
    assert (None, "003B", "sf_only") in links(cache)


def test_a_converted_lead_is_followed_to_its_contact(cache):
    load(cache, [contact("a1", "jo@acme.com", sf="00QL", lead="00QL")],
         [sf("00QL", "Lead", "jo@acme.com", converted_to="003C"), sf("003C", "Contact", "jo@acme.com")])
    counts = matching.match(cache)
    assert links(cache) == {("a1", "003C", "crm_id")}
    assert counts.converted_followed == 1
    note = cache.conn.execute("SELECT note FROM links").fetchone()[0]
    assert "00QL" in note


def test_s4_a_contact_is_preferred_over_a_lead_with_the_same_email(cache):
    # "When a Lead and a Contact exist for one person Apollo links the Contact (its only dedupe)."
    load(cache, [contact("a1", "Jo@Acme.com")],
         [sf("00QL", "Lead", "jo@acme.com"), sf("003C", "Contact", "jo@acme.com")])
    counts = matching.match(cache)
    assert links(cache) == {("a1", "003C", "email")}
    assert cache.conn.execute("SELECT twin_id FROM links").fetchone()[0] == "00QL"
    assert counts.twins == 1


def test_a_lead_linked_by_id_notes_its_contact_twin(cache):
    load(cache, [contact("a1", "jo@acme.com", sf="00QL", lead="00QL")],
         [sf("00QL", "Lead", "jo@acme.com"), sf("003C", "Contact", "jo@acme.com")])
    matching.match(cache)
    assert ("a1", "00QL", "crm_id") in links(cache)
    assert cache.conn.execute("SELECT twin_id FROM links WHERE apollo_id='a1'").fetchone()[0] == "003C"
    assert (None, "003C", "sf_only") in links(cache)


def test_similar_people_are_only_suggested(cache):
    load(cache, [contact("a1", "jo.smith99@gmail.com", first="Jo", last="Smith", org="Acme Logistics")],
         [sf("003C", "Contact", "jsmith@acmelogistics.com", first="Jo", last="Smith",
             company="Acme Logistics Inc")])
    counts = matching.match(cache)
    assert links(cache) == {("a1", None, "apollo_only"), (None, "003C", "sf_only")}
    assert counts.suggestions == 1
    apollo_id, sf_id, score, reason = cache.conn.execute("SELECT * FROM link_suggestions").fetchone()
    assert (apollo_id, sf_id) == ("a1", "003C") and score >= 85 and "alike" in reason
    link_id = matching.confirm_suggestion(cache, "a1", "003C")
    assert ("a1", "003C", "fuzzy") in links(cache)
    matching.match(cache)
    assert ("a1", "003C", "fuzzy") in links(cache), "a confirmed link survives re-matching"
    assert cache.conn.execute("SELECT count(*) FROM links WHERE link_id = ?", (link_id,)).fetchone()[0] == 1


def test_different_people_at_one_company_are_not_suggested(cache):
    load(cache, [contact("a1", "ana@gmail.com", first="Ana", last="Lopez", org="Acme")],
         [sf("003C", "Contact", "jo@acme.com", first="Jo", last="Smith", company="Acme")])
    assert matching.match(cache).suggestions == 0


def test_deleted_records_are_not_linked(cache):
    load(cache, [contact("a1", "jo@acme.com", sf="003A", contact_id="003A")],
         [sf("003A", "Contact", "jo@acme.com", deleted=True)])
    matching.match(cache)
    assert links(cache) == {("a1", None, "apollo_only")}


def test_a_manual_link_is_kept(cache):
    load(cache, [contact("a1", "jo@acme.com")], [sf("003A", "Contact", "x@y.com"),
                                                sf("003B", "Contact", "jo@acme.com")])
    matching.match(cache)
    matching.link_manually(cache, "a1", "003A")
    matching.match(cache)
    assert ("a1", "003A", "manual") in links(cache)
    assert (None, "003B", "sf_only") in links(cache)


def test_incremental_matching_follows_an_email_change(cache):
    load(cache, [contact("a1", "jo@acme.com"), contact("a2", "ann@acme.com", first="Ann")],
         [sf("003A", "Contact", "jo@acme.com"), sf("003B", "Contact", "zed@acme.com", first="Ann")])
    matching.match(cache)
    assert ("a1", "003A", "email") in links(cache) and ("a2", None, "apollo_only") in links(cache)
    seq = int(cache.get_state("seq"))
    link_a1 = cache.conn.execute("SELECT link_id FROM links WHERE apollo_id='a1'").fetchone()[0]
    load(cache, records=[sf("003B", "Contact", "ann@acme.com", first="Ann",
                            modified="2026-02-01T00:00:00.000+0000")], when="2026-02-01T00:00:00.000Z")
    matching.match(cache, since_seq=seq)
    assert links(cache) == {("a1", "003A", "email"), ("a2", "003B", "email")}
    assert cache.conn.execute("SELECT link_id FROM links WHERE apollo_id='a1'").fetchone()[0] == link_a1


def test_a_manual_link_follows_its_emails_agreeing_or_not(cache):
    from core.sync.reconcile import reconcile

    load(cache, [contact("a1", "jo@acme.com")], [sf("003A", "Contact", "x@y.com")])
    reconcile(cache)
    matching.link_manually(cache, "a1", "003A")
    reconcile(cache)
    assert cache.conn.execute("SELECT count(*) FROM decisions").fetchone()[0] == 1
    load(cache, records=[sf("003A", "Contact", "jo@acme.com", modified="2026-02-01T00:00:00.000+0000")],
         when="2026-02-01T00:00:00.000Z")
    reconcile(cache)
    assert cache.conn.execute("SELECT count(*) FROM decisions").fetchone()[0] == 0, "now in sync"
    load(cache, [contact("a1", "jo.smith@acme.com", updated="2026-03-01T00:00:00.000Z")],
         when="2026-03-01T00:00:00.000Z")
    reconcile(cache, full=True)
    rule = cache.conn.execute("SELECT native_rule FROM decisions").fetchone()[0]
    assert rule == "ONE_SIDED", "differs again, and the full run sees it"
