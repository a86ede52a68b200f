"""Reconciliation stores each pair's outcome (pending until ``due``, missed with its cause,
or none) where the window, the CLI and reports read it, and keeps it current as time passes."""

import shutil
from datetime import timedelta

from core.sandbox.dataset import Dataset, write_cache
from core.store.cache import SCHEMA_VERSION, Cache, parse_time
from core.sync.reconcile import reconcile
from tests.builders import contact, load, sf
from tests.conftest import NOW
from tests.sync.test_reconcile import _state

PULL = timedelta(minutes=30)


def outcomes(cache) -> dict[str, tuple]:
    """Each decided pair's (rule, outcome, due, cause, in_flight) by its key."""
    return {key: tuple(row) for key, *row in cache.conn.execute(
        "SELECT coalesce(l.apollo_id, l.sf_id), d.native_rule, d.outcome, d.due, d.missed_cause, "
        "d.in_flight FROM decisions d JOIN links l USING (link_id)")}


def test_generated_situations_are_stored_with_their_outcome(generated):
    path, dataset, _ = generated
    with Cache(path) as cache:
        stored = outcomes(cache)
    by_situation: dict[str, set] = {}
    for scenario in dataset.scenarios():
        row = stored.get(scenario.key)
        by_situation.setdefault(scenario.situation, set()).add(row[1] if row else "no row")
        if row and row[1] == "pending":
            due = parse_time(row[2])
            assert NOW < due <= NOW + PULL, (scenario.situation, row)
            assert row[3] is None
        elif row:
            assert row[2] is None and (row[3] is not None) == (row[1] == "missed"), row
    # Salesforce edits made minutes ago wait for Apollo's pull; days-old ones were missed.
    assert by_situation["in_flight_salesforce"] == {"pending"}
    for situation in ("one_sided_apollo", "one_sided_salesforce", "both_changed", "sfdc_only"):
        assert by_situation[situation] == {"missed"}, situation
    for situation in ("unknown_order", "converted_lead_unresolved", "apollo_only_no_push"):
        assert by_situation[situation] == {"none"}, situation
    assert by_situation["same"] == {"no row"}
    # The window's older flag stays: a pending Salesforce change is "in flight".
    with Cache(path) as cache:
        assert cache.conn.execute(
            "SELECT count(*) FROM decisions WHERE in_flight != "
            "(outcome = 'pending' AND native_winner = 'salesforce')").fetchone()[0] == 0
    assert any(row[4] for row in stored.values())


def test_pending_outcomes_become_missed_when_their_time_passes(generated, tmp_path):
    path = tmp_path / "c.sqlite"
    shutil.copyfile(generated[0], path)
    full = tmp_path / "full.sqlite"
    shutil.copyfile(generated[0], full)
    later = NOW + PULL + timedelta(minutes=1)
    with Cache(path) as cache, Cache(full) as reference:
        pending = [k for k, row in outcomes(cache).items() if row[1] == "pending"]
        assert pending
        summary = reconcile(cache, now=later)  # nothing changed but the time
        assert not summary.full and summary.decide.decided == len(pending)
        after = outcomes(cache)
        assert all(after[k][1] == "missed" and after[k][2] is None for k in pending)
        reconcile(reference, now=later, full=True)
        assert outcomes(reference) == after and _state(reference) == _state(cache)


def test_a_duplicate_address_appearing_or_leaving_is_seen_by_an_incremental_run(tmp_path):
    """Apollo's edit missed its push; a Lead with the same address explains why."""
    with Cache(tmp_path / "c.sqlite") as cache:
        load(cache, [contact("a1", "jo@acme.com", sf="003A", contact_id="003A")],
             [sf("003A", "Contact", "jo@acme.com")])
        reconcile(cache, now=NOW)
        load(cache, [contact("a1", "jo.new@acme.com", sf="003A", contact_id="003A",
                             updated="2026-10-01T00:00:00.000Z")], when="2026-10-01T00:00:00.000Z")
        reconcile(cache, now=NOW)
        assert outcomes(cache)["a1"][1:4] == ("missed", None, "unknown")
        twin = sf("00QB", "Lead", "jo.new@acme.com", first="Joanna")
        load(cache, records=[twin], when="2026-10-02T00:00:00.000Z")
        reconcile(cache, now=NOW)
        stored = outcomes(cache)["a1"]
        assert stored[1:4] == ("missed", None, "duplicate")
        reason = cache.conn.execute("SELECT reason FROM decisions d JOIN links l USING (link_id) "
                                    "WHERE l.apollo_id = 'a1'").fetchone()[0]
        assert "Salesforce 00QB already holds jo.new@acme.com" in reason
        load(cache, records=[{**twin, "Email": "joanna@acme.com",
                              "SystemModstamp": "2026-10-03T00:00:00.000+0000"}],
             when="2026-10-03T00:00:00.000Z")
        reconcile(cache, now=NOW)
        assert outcomes(cache)["a1"][1:4] == ("missed", None, "unknown")


def test_a_cache_decided_before_outcomes_existed_is_decided_again_in_full(tmp_path):
    """Opening an older cache adds the columns; the next run decides every pair and keeps
    the user's choices."""
    path = tmp_path / "c.sqlite"
    with Cache(path) as cache:
        write_cache(cache, Dataset(300, seed=5, now=NOW))
        reconcile(cache, now=NOW)
        link_id, in_flight = cache.conn.execute(
            "SELECT link_id, in_flight FROM decisions WHERE outcome = 'pending' "
            "AND native_winner = 'salesforce'").fetchone()
        with cache.transaction():
            cache.conn.execute("UPDATE decisions SET choice = 'apollo', status = 'chosen' "
                               "WHERE link_id = ?", (link_id,))
        expected = outcomes(cache)
        # Back to version 3, as a cache written before this change was.
        cache.conn.execute("DROP INDEX decisions_pending")
        cache.conn.execute("DROP INDEX decisions_missed")
        cache.conn.execute("DROP TABLE journal")  # version 5
        for column in ("outcome", "due", "missed_cause"):
            cache.conn.execute(f"ALTER TABLE decisions DROP COLUMN {column}")
        cache.conn.execute("PRAGMA user_version = 3")
    assert in_flight == 1
    with Cache(path) as cache:
        assert cache.version() == SCHEMA_VERSION and cache.get_state("decided_seq") is None
        assert set(r[0] for r in cache.conn.execute("SELECT outcome FROM decisions")) == {"none"}
        summary = reconcile(cache, now=NOW)
        assert summary.full
        assert outcomes(cache) == expected
        assert cache.conn.execute("SELECT choice, status FROM decisions WHERE link_id = ?",
                                  (link_id,)).fetchone() == ("apollo", "chosen")
