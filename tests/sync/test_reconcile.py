"""Reconciling a whole cache: every generated situation gets its rule; incremental = full."""

import json
import random
import shutil
import threading
from datetime import datetime, timezone

import pytest

from core import rules
from core.sandbox.dataset import SITUATION_NAMES
from core.store.cache import Cache
from core.store.ingest import upsert_apollo, upsert_salesforce
from core.sync import choices
from core.sync.reconcile import Cancelled, reconcile
from tests.builders import contact, load, sf
from tests.conftest import NOW


def native_rules(cache) -> dict[str, str]:
    """Each pair's native rule by its key (Apollo id, else Salesforce id); SAME has no row."""
    return {key: rule or rules.SAME for key, rule in cache.conn.execute(
        "SELECT coalesce(l.apollo_id, l.sf_id), d.native_rule FROM links l "
        "LEFT JOIN decisions d USING (link_id)")}


def test_every_generated_situation_gets_the_rule_it_was_built_for(generated):
    path, dataset, summary = generated
    with Cache(path) as cache:
        found = native_rules(cache)
        wrong = {}
        for scenario in dataset.scenarios():
            if found.get(scenario.key) != scenario.expected_rule:
                wrong.setdefault(scenario.situation, (scenario.key, found.get(scenario.key)))
        assert wrong == {}
        assert {s.situation for s in dataset.scenarios()} == set(SITUATION_NAMES)
        suggested = {r[0] for r in cache.conn.execute("SELECT apollo_id FROM link_suggestions")}
        for scenario in dataset.scenarios():
            if scenario.suggestion:
                assert scenario.key in suggested
    assert summary.decide.by_rule[rules.SAME] == sum(
        n for s, n in dataset.counts.items() if dataset.report()["situations"][s]["expected_rule"] == rules.SAME)


def test_counts_add_up(generated):
    path, dataset, summary = generated
    with Cache(path) as cache:
        pairs = cache.conn.execute("SELECT count(*) FROM links").fetchone()[0]
    assert sum(summary.decide.by_rule.values()) == pairs
    assert sum(summary.decide.by_strength.values()) == pairs


def _mutate(cache: Cache, rng: random.Random, when: str) -> None:
    """Edits as a day of real work makes them: emails changed on both sides, new records,
    deletions, a Lead converted."""
    raw_a = [r[0] for r in cache.conn.execute("SELECT raw FROM apollo_raw ORDER BY id")]
    raw_s = [(r[0], r[1]) for r in cache.conn.execute(
        "SELECT r.raw, s.object FROM sf_raw r JOIN sf_records s USING (id) ORDER BY id")]
    changed_a, changed_s = [], []
    for raw in rng.sample(raw_a, 60):
        c = json.loads(raw)
        c["email"] = rng.choice([f"new{rng.randrange(99)}@{c['email'].split('@')[-1]}" if c.get("email") else "x@y.com",
                                 "", (c.get("email") or "").upper()])
        c["updated_at"] = when
        changed_a.append(c)
    for raw, obj in rng.sample(raw_s, 60):
        r = json.loads(raw)
        r["attributes"] = {"type": obj}
        kind = rng.random()
        if kind < 0.6:
            r["Email"] = f"moved{rng.randrange(99)}@example.org"
        elif kind < 0.8:
            r["IsDeleted"] = True
        elif obj == "Lead":
            r["IsConverted"], r["ConvertedContactId"] = True, None
        r["LastModifiedDate"] = r["SystemModstamp"] = when.replace("Z", "+0000")
        changed_s.append(r)
    for i in range(10):
        changed_a.append(contact(f"new{i}", f"fresh{i}@example.org", updated=when))
        changed_s.append(sf(f"003NEW{i:012d}", "Contact", f"fresh{i}@example.org"))
    with cache.transaction():
        upsert_apollo(cache, changed_a, when)
        upsert_salesforce(cache, changed_s, when)


def _state(cache: Cache):
    linked = set(cache.conn.execute("SELECT apollo_id, sf_id, method, twin_id FROM links"))
    decided = set(cache.conn.execute(
        "SELECT l.apollo_id, l.sf_id, d.native_rule, d.rec_rule, d.strength, d.reason, d.status "
        "FROM decisions d JOIN links l USING (link_id)"))
    base = set(cache.conn.execute("SELECT * FROM base"))
    suggestions = set(cache.conn.execute("SELECT apollo_id, sf_id FROM link_suggestions"))
    return linked, decided, base, suggestions


@pytest.mark.parametrize("seed", [1, 2, 3] + [pytest.param(s, marks=pytest.mark.long)
                                              for s in range(4, 40)])
def test_an_incremental_run_ends_where_a_full_run_does(generated, tmp_path, seed):
    source = generated[0]
    incremental, full = tmp_path / "inc.sqlite", tmp_path / "full.sqlite"
    shutil.copyfile(source, incremental)
    when = "2026-11-02T08:00:00.000Z"
    later = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
    with Cache(incremental) as cache:
        _mutate(cache, random.Random(seed), when)
        cache.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copyfile(incremental, full)
    with Cache(incremental) as a, Cache(full) as b:
        summary = reconcile(a, now=later)
        assert not summary.full and summary.decide.decided < 600
        reconcile(b, now=later, full=True)
        assert _state(a) == _state(b)


def test_a_users_choice_survives_until_an_email_changes(tmp_path):
    with Cache(tmp_path / "c.sqlite") as cache:
        load(cache, [contact("a1", "jo.smith@acme.com", sf="003A", contact_id="003A")],
             [sf("003A", "Contact", "jo@acme.com")])
        reconcile(cache, now=NOW)
        link_id = cache.conn.execute("SELECT link_id FROM links").fetchone()[0]
        assert choices.set_choice(cache, [link_id], "salesforce") == [link_id]
        reconcile(cache, now=NOW, full=True)
        assert cache.conn.execute("SELECT choice, status FROM decisions").fetchone() == ("salesforce", "chosen")
        load(cache, [contact("a1", "jo.s@acme.com", sf="003A", contact_id="003A",
                             updated="2026-10-01T00:00:00.000Z")], when="2026-10-01T00:00:00.000Z")
        reconcile(cache, now=NOW)
        assert cache.conn.execute("SELECT choice, status FROM decisions").fetchone() == (None, "open")


def test_when_one_side_moves_the_value_they_agreed_on_becomes_the_base(tmp_path):
    with Cache(tmp_path / "c.sqlite") as cache:
        load(cache, [contact("a1", "jo@acme.com", sf="003A", contact_id="003A")],
             [sf("003A", "Contact", "jo@acme.com")])
        reconcile(cache, now=NOW)
        assert cache.conn.execute("SELECT count(*) FROM decisions").fetchone()[0] == 0
        assert cache.conn.execute("SELECT count(*) FROM base").fetchone()[0] == 0
        load(cache, records=[sf("003A", "Contact", "jsmith@acme.com",
                                modified="2026-10-30T00:00:00.000+0000")], when="2026-10-30T00:00:00.000Z")
        assert cache.conn.execute("SELECT email FROM base").fetchone()[0] == "jo@acme.com"
        reconcile(cache, now=NOW)
        row = cache.conn.execute("SELECT native_rule, native_winner, strength FROM decisions").fetchone()
        assert row == (rules.ONE_SIDED, "salesforce", "strong")
        # They agree again (say Apollo pulled it): the pair leaves the list, the base row goes.
        load(cache, [contact("a1", "jsmith@acme.com", sf="003A", contact_id="003A",
                             updated="2026-10-31T00:00:00.000Z")], when="2026-10-31T00:00:00.000Z")
        summary = reconcile(cache, now=NOW)
        assert cache.conn.execute("SELECT count(*) FROM decisions").fetchone()[0] == 0
        assert cache.conn.execute("SELECT count(*) FROM base").fetchone()[0] == 0
        assert summary.decide.base_settled == 1


def test_a_renamed_contact_shows_its_new_name_and_keeps_the_choice(tmp_path):
    with Cache(tmp_path / "c.sqlite") as cache:
        load(cache, [contact("a1", "jo.smith@acme.com", sf="003A", contact_id="003A")],
             [sf("003A", "Contact", "jo@acme.com")])
        reconcile(cache, now=NOW)
        link_id = cache.conn.execute("SELECT link_id FROM decisions").fetchone()[0]
        choices.set_choice(cache, [link_id], "salesforce")
        load(cache, [contact("a1", "jo.smith@acme.com", sf="003A", contact_id="003A",
                             first="Joanna", org="Acme Global")],  # the email's times as they were
             when="2026-10-01T00:00:00.000Z")
        reconcile(cache, now=NOW)
        assert cache.conn.execute("SELECT name, company, choice FROM decisions").fetchone() == \
            ("Joanna Smith", "Acme Global", "salesforce")


def test_the_latest_agreement_is_the_base_even_without_a_run_between_pulls(tmp_path):
    with Cache(tmp_path / "c.sqlite") as cache:
        load(cache, [contact("a1", "jo@acme.com", sf="003A", contact_id="003A")],
             [sf("003A", "Contact", "jo@acme.com")])
        reconcile(cache, now=NOW)
        load(cache, [contact("a1", "jo.smith@acme.com", sf="003A", contact_id="003A",
                             updated="2026-10-29T00:00:00.000Z")], when="2026-10-29T00:00:00.000Z")
        reconcile(cache, now=NOW)  # base: jo@acme.com
        # Pulls only: Salesforce catches up, then Apollo moves on again.
        load(cache, records=[sf("003A", "Contact", "jo.smith@acme.com",
                                modified="2026-10-30T00:00:00.000+0000")],
             when="2026-10-30T00:00:00.000Z")
        load(cache, [contact("a1", "joanna@acme.com", sf="003A", contact_id="003A",
                             updated="2026-10-31T00:00:00.000Z")], when="2026-10-31T00:00:00.000Z")
        assert cache.conn.execute("SELECT email FROM base").fetchone()[0] == "jo.smith@acme.com"
        reconcile(cache, now=NOW)
        row = cache.conn.execute("SELECT native_rule, native_winner, strength FROM decisions").fetchone()
        assert row == (rules.ONE_SIDED, "apollo", "strong")


def test_cancel_leaves_a_consistent_cache_and_the_next_run_finishes(generated, tmp_path):
    path = tmp_path / "c.sqlite"
    shutil.copyfile(generated[0], path)
    with Cache(path) as cache:
        cancel = threading.Event()
        cancel.set()
        with pytest.raises(Cancelled):
            reconcile(cache, now=NOW, full=True, cancel=cancel)
        assert cache.conn.execute("SELECT status FROM runs ORDER BY run_id DESC").fetchone()[0] == "cancelled"
        assert cache.check_integrity() == []
        reconcile(cache, now=NOW, full=True)
        assert cache.conn.execute("SELECT status FROM runs ORDER BY run_id DESC").fetchone()[0] == "done"


def test_a_cancel_between_decide_batches_resumes_to_the_full_result(generated, tmp_path,
                                                                     monkeypatch):
    reference, path = tmp_path / "ref.sqlite", tmp_path / "c.sqlite"
    shutil.copyfile(generated[0], reference)
    shutil.copyfile(generated[0], path)
    with Cache(reference) as cache:
        reconcile(cache, now=NOW, full=True)
        expected = _state(cache)
    monkeypatch.setattr("core.sync.reconcile.BATCH", 200)  # several batches, so one can be cut
    with Cache(path) as cache:
        with cache.transaction():
            cache.conn.execute("DELETE FROM decisions")  # everything to decide again
        cancel = threading.Event()

        def cut_after_the_first_batch(phase, done, total):
            if phase == "decide" and done > 0:
                cancel.set()

        with pytest.raises(Cancelled):
            reconcile(cache, now=NOW, full=True, cancel=cancel, progress=cut_after_the_first_batch)
        written = cache.conn.execute("SELECT count(*) FROM decisions").fetchone()[0]
        assert 0 < written < len(expected[1])  # stopped part-way through deciding
        assert cache.check_integrity() == []
        reconcile(cache, now=NOW)
        assert _state(cache) == expected


def test_progress_is_reported(generated, tmp_path):
    path = tmp_path / "c.sqlite"
    shutil.copyfile(generated[0], path)
    seen = []
    with Cache(path) as cache:
        reconcile(cache, now=NOW, full=True, progress=lambda *p: seen.append(p))
    phases = [p[0] for p in seen]
    assert phases[0] == "match" and "decide" in phases
    assert seen[-1][1] == seen[-1][2]
