"""The user's choices beside the recommendation, and the write plan they add up to."""

import dataclasses
from datetime import datetime, timezone

import pytest

from core import emails
from core.store.cache import Cache
from core.sync import choices
from core.sync.plan import SHARED_TYPED, plan
from core.sync.plan import plan as plan_writes
from core.sync.reconcile import reconcile
from tests.builders import contact, load, sf

NOW = datetime(2026, 11, 1, tzinfo=timezone.utc)


@pytest.fixture
def cache(tmp_path):
    """Three pairs: Apollo changed (strong), Salesforce blanked (Q_EMPTY, medium), agreeing."""
    with Cache(tmp_path / "c.sqlite") as c:
        load(c, [contact("a1", "jo@acme.com", sf="003A", contact_id="003A"),
                 contact("a2", "ann@acme.com", sf="003B", contact_id="003B", first="Ann"),
                 contact("a3", "bo@acme.com", sf="003C", contact_id="003C", first="Bo")],
             [sf("003A", "Contact", "jo@acme.com"), sf("003B", "Contact", "ann@acme.com", first="Ann"),
              sf("003C", "Contact", "bo@acme.com", first="Bo")])
        reconcile(c, now=NOW)
        load(c, [contact("a1", "jo.smith@acme.com", sf="003A", contact_id="003A",
                         updated="2026-10-30T00:00:00.000Z")],
             [sf("003B", "Contact", "", first="Ann", modified="2026-10-30T00:00:00.000+0000")],
             when="2026-10-30T00:00:00.000Z")
        reconcile(c, now=NOW)
        yield c


def link(cache, apollo_id):
    return cache.conn.execute("SELECT link_id FROM links WHERE apollo_id = ?", (apollo_id,)).fetchone()[0]


def test_strong_recommendations_are_planned_by_default(cache):
    plan = plan_writes(cache)
    assert [(w.system, w.record_id, w.old_email, w.new_email) for w in plan.writes] == [
        ("salesforce", "003A", "jo@acme.com", "jo.smith@acme.com")]
    assert plan.summary() == "1 pair: 1 write to Salesforce and 0 to Apollo."


def test_widening_to_medium_adds_the_guarded_pair(cache):
    plan = plan_writes(cache, strengths=("strong", "medium"))
    assert {(w.system, w.record_id, w.new_email) for w in plan.writes} == {
        ("salesforce", "003A", "jo.smith@acme.com"), ("salesforce", "003B", "ann@acme.com")}


CHOICES = [
    ("keep Apollo's address", "apollo", None, {("salesforce", "003A", "jo.smith@acme.com")}),
    ("keep Salesforce's address", "salesforce", None, {("apollo", "a1", "jo@acme.com")}),
    ("type a new address: both sides get it", "custom", "jo.s@acme.com",
     {("salesforce", "003A", "jo.s@acme.com"), ("apollo", "a1", "jo.s@acme.com")}),
    ("skip", "skip", None, set()),
]


@pytest.mark.parametrize("situation, choice, email, writes", CHOICES, ids=[c[0] for c in CHOICES])
def test_a_choice_is_stored_beside_the_recommendation_and_planned(cache, situation, choice, email, writes):
    a1 = link(cache, "a1")
    assert choices.set_choice(cache, [a1], choice, email) == [a1]
    row = cache.conn.execute("SELECT choice, rec_winner, status FROM decisions WHERE link_id = ?",
                             (a1,)).fetchone()
    assert row[0] == choice and row[1] == "apollo"
    assert row[2] == ("skipped" if choice == "skip" else "chosen")
    plan = plan_writes(cache)
    assert {(w.system, w.record_id, w.new_email) for w in plan.writes} == writes
    if choice == "skip":
        assert plan.not_written == {"skipped": 1}
    assert choices.revert(cache, [a1]) == [a1]
    assert cache.conn.execute("SELECT choice, status FROM decisions WHERE link_id = ?",
                              (a1,)).fetchone() == (None, "open")


def test_a_blank_winner_is_never_planned(cache):
    a2 = link(cache, "a2")
    choices.set_choice(cache, [a2], "salesforce")  # the user insists on Salesforce's blank
    plan = plan_writes(cache, link_ids=[a2])
    assert plan.writes == [] and plan.not_written == {"blank winner": 1}


def test_a_typed_address_is_validated_as_salesforce_would(cache):
    with pytest.raises(choices.ChoiceError, match="contains ' '"):
        choices.set_choice(cache, [link(cache, "a1")], "custom", "jo smith@acme.com")
    with pytest.raises(choices.ChoiceError, match="one of"):
        choices.set_choice(cache, [link(cache, "a1")], "both")


# (situation, Email Address Internationalization on, the typed address, accepted)
TYPED_EAI = [
    ("non-ASCII with EAI on", True, "jö@acme.com", True),
    ("non-ASCII with EAI off", False, "jö@acme.com", False),
    ("an internationalised domain with EAI on", True, "jo@bücher.de", True),
    ("a space is refused either way", True, "jo smith@acme.com", False),
    ("plain ASCII either way", False, "jo.smith@acme.com", True),
]


@pytest.mark.parametrize("situation, eai, typed, accepted", TYPED_EAI,
                         ids=[t[0] for t in TYPED_EAI])
def test_a_typed_address_follows_the_workspace_eai_setting(cache, situation, eai, typed,
                                                           accepted):
    from core.store.settings import load_settings, save_settings

    with cache.transaction():
        save_settings(cache, dataclasses.replace(load_settings(cache), unicode_emails=eai))
    # the same path every other address takes (the rules' check of an Apollo email)
    assert emails.check(typed, allow_unicode=eai).valid == accepted, situation
    if accepted:
        assert choices.set_choice(cache, [link(cache, "a1")], "custom", typed)
    else:
        with pytest.raises(choices.ChoiceError):
            choices.set_choice(cache, [link(cache, "a1")], "custom", typed)


def test_agreeing_pairs_take_no_choice(cache):
    assert choices.set_choice(cache, [link(cache, "a3")], "apollo") == []


def test_accepting_the_recommendation_chooses_its_winner(cache):
    ids = [link(cache, "a1"), link(cache, "a2")]
    assert sorted(choices.accept_recommendation(cache, ids)) == sorted(ids)
    assert {r[0] for r in cache.conn.execute("SELECT choice FROM decisions")} == {"apollo"}


def test_a_typed_address_is_for_one_pair_at_a_time(cache):
    # Four people selected, one address typed: refused before anything is stored.
    ids = [link(cache, "a1"), link(cache, "a2")]
    with pytest.raises(choices.ChoiceError, match="one pair at a time"):
        choices.set_choice(cache, ids, "custom", "jo.s@acme.com")
    assert {r[0] for r in cache.conn.execute("SELECT choice FROM decisions")} == {None}


def test_one_typed_address_for_two_people_is_never_planned(cache):
    a1, a2 = link(cache, "a1"), link(cache, "a2")
    choices.set_choice(cache, [a1], "custom", "team@acme.com")
    assert len(plan(cache, link_ids=[a1]).writes) == 2
    choices.set_choice(cache, [a2], "custom", "Team@Acme.com ")
    both = plan(cache, link_ids=[a1, a2])
    assert both.writes == []
    assert both.not_written == {SHARED_TYPED: 2} and {link for link, _ in both.refused} == {a1, a2}
    # Even a plan of one of them refuses: the other still holds the same address.
    assert plan(cache, link_ids=[a1]).not_written == {SHARED_TYPED: 1}


UNDO = [
    ("undo a key on a fresh pair", lambda c, ids: choices.set_choice(c, ids, "salesforce")),
    ("undo accepting the recommendation", lambda c, ids: choices.accept_recommendation(c, ids)),
    ("undo skipping", lambda c, ids: choices.set_choice(c, ids, "skip")),
    ("undo a revert that forgot a typed address",
     lambda c, ids: choices.revert(c, ids)),
]


@pytest.mark.parametrize("situation, action", UNDO, ids=[u[0] for u in UNDO])
def test_restoring_a_snapshot_undoes_a_choice_and_redo_does_it_again(cache, situation, action):
    a1, a2 = link(cache, "a1"), link(cache, "a2")
    choices.set_choice(cache, [a1], "custom", "jo.s@acme.com")
    before = choices.snapshot(cache, [a1, a2])
    action(cache, [a1, a2])
    after = choices.snapshot(cache, [a1, a2])
    assert after != before
    assert sorted(choices.restore(cache, before, only_if=after)) == sorted(
        s.link_id for s, t in zip(before, after) if s != t)
    assert choices.snapshot(cache, [a1, a2]) == before
    choices.restore(cache, after, only_if=before)
    assert choices.snapshot(cache, [a1, a2]) == after


def test_undo_leaves_a_pair_changed_since_alone(cache):
    a1 = link(cache, "a1")
    before = choices.snapshot(cache, [a1])
    choices.set_choice(cache, [a1], "apollo")
    after = choices.snapshot(cache, [a1])
    choices.mark(cache, [a1], "applied")  # written back meanwhile
    assert choices.restore(cache, before, only_if=after) == []
    assert choices.snapshot(cache, [a1])[0].status == "applied"


def test_typed_lists_the_pairs_holding_a_typed_address(cache):
    a1, a2 = link(cache, "a1"), link(cache, "a2")
    choices.set_choice(cache, [a1], "custom", "jo.s@acme.com")
    choices.set_choice(cache, [a2], "apollo")
    assert choices.typed(cache, [a1, a2]) == [a1]


def test_a_planned_write_names_the_person_and_both_addresses(cache):
    write = plan(cache).writes[0]
    assert write.person == "Jo Smith"
    assert (write.apollo_email, write.sf_email) == ("jo.smith@acme.com", "jo@acme.com")
