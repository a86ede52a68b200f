"""Undo of a write-back run against the sandbox: both systems get their earlier values back,
records changed since are reported and left alone, and undoing twice writes nothing."""

from __future__ import annotations

import pytest

from core.sync import choices
from core.sync.apply import apply_plan
from core.sync.plan import plan
from core.sync.undo import UndoRefused, undo
from tests.harness import sandbox
from tests.sync.writeback import applied, events, pulled, remote_email, sources


@pytest.fixture
def applied_run(tls_dir, tmp_path):
    """A run that wrote Salesforce for some pairs, Apollo for others, and both for one pair
    whose address the user typed; with every pair's emails as they were before it."""
    running = sandbox(400, 7, tls_dir=tls_dir)
    cache = pulled(running, tmp_path / "cache.sqlite")
    first = plan(cache, strengths=("strong", "medium"))
    typed_link = next(w.link_id for w in first.writes)
    choices.set_choice(cache, [typed_link], "custom", "typed.by.user@example.org")
    the_plan = plan(cache, strengths=("strong", "medium"))
    before = {}
    for w in the_plan.writes:
        partner = "apollo" if w.system == "salesforce" else "salesforce"
        before[(w.system, w.record_id)] = remote_email(running, w.system, w.record_id)
        before[(partner, w.partner_id)] = remote_email(running, partner, w.partner_id)
    sf, apollo = sources(running)
    summary = apply_plan(cache, sf, apollo, the_plan)
    assert summary.done == summary.planned
    systems = {w.link_id: {x.system for x in the_plan.writes if x.link_id == w.link_id}
               for w in the_plan.writes}
    assert {"salesforce"} in systems.values() and {"apollo"} in systems.values()
    assert systems[typed_link] == {"salesforce", "apollo"}
    yield running, cache, summary.run_id, the_plan, before
    cache.close()
    running.stop()


def test_undo_gives_both_systems_their_earlier_values_back(applied_run):
    running, cache, run_id, the_plan, before = applied_run
    sf, apollo = sources(running)
    summary = undo(cache, sf, apollo, run_id)
    assert summary.kind == "undo" and summary.conflict == summary.failed == 0
    kept = _invalid_earlier(cache, run_id)  # never written, not even to undo
    for (system, record_id), email in before.items():
        if record_id in kept:
            continue
        assert (remote_email(running, system, record_id) or "").lower() == (email or "").lower(), \
            (system, record_id)
    assert max(applied(events(running)).values()) <= 2  # once by the run, once by its undo
    with pytest.raises(UndoRefused):
        undo(cache, sf, apollo, run_id)  # nothing left to reverse


def test_a_record_changed_since_the_run_is_reported_not_reverted(applied_run):
    running, cache, run_id, the_plan, before = applied_run
    target = next(w for w in the_plan.writes if w.system == "salesforce"
                  and len([x for x in the_plan.writes if x.link_id == w.link_id]) == 1)
    obj = "Lead" if target.record_id.startswith("00Q") else "Contact"
    running.sf_store.external_edit(obj, target.record_id, {"Email": "changed.after@example.org"})
    sf, apollo = sources(running)
    summary = undo(cache, sf, apollo, run_id)
    assert summary.conflict == 1
    state, seen = cache.conn.execute(
        "SELECT state, seen_email FROM journal WHERE run_id = ? AND record_id = ?",
        (summary.run_id, target.record_id)).fetchone()
    assert (state, seen) == ("conflict", "changed.after@example.org")
    assert remote_email(running, "salesforce", target.record_id) == "changed.after@example.org"
    kept = _invalid_earlier(cache, run_id)
    others = [w for w in the_plan.writes if w.link_id != target.link_id and w.record_id not in kept
              and w.partner_id not in kept]
    for w in others:
        assert (remote_email(running, w.system, w.record_id) or "").lower() == \
            (before[(w.system, w.record_id)] or "").lower()


def _invalid_earlier(cache, run_id) -> set[str]:
    """Records of pairs whose earlier value was an address Salesforce would refuse."""
    from core.sync.undo import unwritable

    links = {link for link, old in cache.conn.execute(
        "SELECT link_id, old_email FROM journal WHERE run_id = ?", (run_id,)) if unwritable(old)}
    return {r for link in links for r in cache.conn.execute(
        "SELECT record_id FROM journal WHERE link_id = ? UNION SELECT partner_id FROM journal "
        "WHERE link_id = ?", (link, link)).fetchall() for r in r}


def test_only_write_back_runs_can_be_undone(applied_run):
    running, cache, run_id, the_plan, before = applied_run
    sf, apollo = sources(running)
    with pytest.raises(UndoRefused):
        undo(cache, sf, apollo, 999)
    pull_run = cache.conn.execute("SELECT run_id FROM runs WHERE kind = 'pull'").fetchone()[0]
    with pytest.raises(UndoRefused):
        undo(cache, sf, apollo, pull_run)
