"""Write-back against the sandbox: the chosen email reaches both systems, never over an edit
Concord has not seen, never twice, and a lost answer is re-read before anything is resent.
The sandbox's request log is the oracle (tests/sync/writeback.py)."""

from __future__ import annotations

import pytest

from core.sources.apollo import ApolloSource
from core.sync import apply as apply_module
from core.sync.apply import apply_plan
from core.sync.plan import plan
from core.sync.pull import pull_all
from core.sync.reconcile import reconcile
from tests.harness import sandbox
from tests.sync.writeback import (
    applied,
    events,
    pulled,
    remote_email,
    sends,
    sources,
    unread_resends,
)

STRENGTHS = ("strong", "medium")


@pytest.fixture
def world(tls_dir, tmp_path):
    """A 400-pair sandbox, pulled and decided, and the plan for strong and medium pairs."""
    running = sandbox(400, 5, tls_dir=tls_dir)
    cache = pulled(running, tmp_path / "cache.sqlite")
    yield running, cache, plan(cache, strengths=STRENGTHS)
    cache.close()
    running.stop()


def journal_states(cache) -> dict[tuple[str, str], str]:
    return {(s, r): st for s, r, st in cache.conn.execute(
        "SELECT system, record_id, state FROM journal")}


def test_every_planned_write_lands_once_and_the_pairs_converge(world, tmp_path):
    running, cache, the_plan = world
    assert the_plan.count("salesforce") and the_plan.count("apollo")
    sf, apollo = sources(running)
    summary = apply_plan(cache, sf, apollo, the_plan, out_dir=tmp_path / "runs")
    assert (summary.planned, summary.done) == (len(the_plan.writes), len(the_plan.writes))
    for w in the_plan.writes:
        assert remote_email(running, w.system, w.record_id).lower() == w.new_email.lower()
    log = events(running)
    assert max(applied(log).values()) == 1 and max(sends(log).values()) == 1
    assert cache.conn.execute("SELECT count(*) FROM decisions WHERE status = 'applied'").fetchone()[0] \
        == len({w.link_id for w in the_plan.writes})
    # Apollo's own sync runs, Concord pulls again: nothing moves and nothing is left to write.
    running.pull_tick()
    pull_all(cache, sf, apollo)
    reconcile(cache)
    assert plan(cache, strengths=STRENGTHS).writes == []
    # Accounting: the success CSV lists every write, the error CSV none.
    assert len(open(summary.success_csv).read().splitlines()) == summary.done + 1
    assert len(open(summary.error_csv).read().splitlines()) == 1


def _edit(running, system, record_id, email):
    if system == "salesforce":
        obj = "Lead" if record_id.startswith("00Q") else "Contact"
        running.sf_store.external_edit(obj, record_id, {"Email": email})
    else:
        running.sync.contact_changed(running.apollo_store.update(record_id, {"email": email}))


def _other(system):
    return "apollo" if system == "salesforce" else "salesforce"


# (situation, what happens after the pull, the target's journal state, its code)
SITUATIONS = [
    ("someone edits the target after the pull",
     lambda r, w: _edit(r, w.system, w.record_id, "edited.later@example.org"), "conflict",
     {"CHANGED"}),
    ("the address being copied moves after the pull",
     lambda r, w: _edit(r, _other(w.system), w.partner_id, "moved.later@example.org"),
     "conflict", {"PARTNER_CHANGED", "CHANGED"}),  # an Apollo edit is pushed on at once
    ("someone already made the same change",
     lambda r, w: _edit(r, w.system, w.record_id, w.new_email), "done", {None}),
]


@pytest.mark.parametrize("situation, change, state, code", SITUATIONS, ids=[s[0] for s in SITUATIONS])
@pytest.mark.parametrize("system", ["salesforce", "apollo"])
def test_a_target_that_moved_since_the_pull_is_never_overwritten(world, system, situation,
                                                                 change, state, code):
    """``code``: the journal codes that are right (an Apollo edit reaches Salesforce at once,
    so moving the Apollo side also moves a Salesforce target)."""
    running, cache, the_plan = world
    write = next(w for w in the_plan.writes if w.system == system
                 and len([x for x in the_plan.writes if x.link_id == w.link_id]) == 1)
    change(running, write)
    before = remote_email(running, write.system, write.record_id)
    sf, apollo = sources(running)
    apply_plan(cache, sf, apollo, the_plan)
    row = cache.conn.execute("SELECT state, error_code FROM journal WHERE record_id = ?",
                             (write.record_id,)).fetchone()
    assert row[0] == state and row[1] in code
    assert sends(events(running))[(write.system, _wire_id(write))] == 0
    assert remote_email(running, write.system, write.record_id) == before
    if state == "conflict":
        status, error = cache.conn.execute("SELECT status, error FROM decisions WHERE link_id = ?",
                                           (write.link_id,)).fetchone()
        assert status == "conflict" and "not overwritten" in error


def _wire_id(write):
    from core.sandbox.ids import to18
    return to18(write.record_id) if write.system == "salesforce" else write.record_id


def test_concurrent_edits_on_a_fifth_of_the_targets_are_all_reported_none_overwritten(world):
    running, cache, the_plan = world
    edited = {}
    for i, w in enumerate(the_plan.writes):
        if i % 5 == 0:
            _edit(running, w.system, w.record_id, f"concurrent{i}@example.org")
            edited[(w.system, w.record_id)] = f"concurrent{i}@example.org"
    sf, apollo = sources(running)
    apply_plan(cache, sf, apollo, the_plan)
    states = journal_states(cache)
    for (system, record_id), email in edited.items():
        assert states[(system, record_id)] == "conflict"
        assert remote_email(running, system, record_id).lower() == email
    untouched_links = {w.link_id for w in the_plan.writes} - {
        w.link_id for w in the_plan.writes if (w.system, w.record_id) in edited}
    for w in the_plan.writes:
        if w.link_id in untouched_links and (w.system, w.record_id) not in edited:
            # Pairs whose other record was edited are conflicts too (the copy moved).
            assert states[(w.system, w.record_id)] in ("done", "conflict")


FAULTS = [("drop", 0.1), ("drop_after", 0.05), ("truncate", 0.05)]


def test_lost_answers_are_re_read_before_any_resend(world, monkeypatch):
    running, cache, the_plan = world
    monkeypatch.setattr(apply_module, "ROUND", 2)  # many small requests, so many faults
    monkeypatch.setattr(apply_module, "APOLLO_BATCH", 2)
    for kind, probability in FAULTS:
        running.salesforce_app.faults.add(kind, method="PATCH", probability=probability)
        running.apollo_app.faults.add(kind, route="bulk_update", method="POST",
                                      probability=probability)
    sf, apollo = sources(running)
    summary = apply_plan(cache, sf, apollo, the_plan)
    log = events(running)
    struck = sum(r.fired for app in (running.salesforce_app, running.apollo_app)
                 for r in app.faults.rules())
    assert struck >= 5  # the faults really struck
    assert unread_resends(log) == []
    assert max(sends(log).values()) <= 2 and max(applied(log).values()) == 1
    states = journal_states(cache)
    for w in the_plan.writes:
        held = (remote_email(running, w.system, w.record_id) or "").lower()
        if states[(w.system, w.record_id)] == "done":
            assert held == w.new_email.lower()
        else:  # sent twice, lost twice: untouched, and the next run retries it
            assert states[(w.system, w.record_id)] == "failed" and held == (w.old_email or "").lower()
    assert summary.done + summary.failed == summary.planned
    # The next run (the network is fine again) retries what failed: the remotes equal the plan.
    for app in (running.salesforce_app, running.apollo_app):
        app.faults.clear()
    apply_plan(cache, sf, apollo, plan(cache, strengths=STRENGTHS))
    for w in the_plan.writes:
        assert remote_email(running, w.system, w.record_id).lower() == w.new_email.lower()
    assert max(applied(events(running)).values()) == 1


def test_a_refused_address_fails_with_the_apis_code_and_the_rest_is_written(world, tmp_path):
    running, cache, the_plan = world
    target = next(w for w in the_plan.writes if w.system == "salesforce")
    running.salesforce_app.faults.add("status", method="PATCH", count=1, status=400, body=[
        {"errorCode": "INVALID_EMAIL_ADDRESS", "message": "Email: invalid email address"}])
    sf, apollo = sources(running)
    summary = apply_plan(cache, sf, apollo, the_plan, out_dir=tmp_path)
    assert summary.failed >= 1 and summary.done + summary.failed == summary.planned
    errors = open(summary.error_csv).read()
    assert "INVALID_EMAIL_ADDRESS" in errors or "QueryRefused" in errors
    assert target.record_id in open(summary.error_csv).read() + open(summary.success_csv).read()


# (fault on the first write request, the most sends any record of that system needed)
LOST_ANSWERS = [
    ("the connection drops before the server handles it", "drop", 2),
    ("the connection drops after the write was applied", "drop_after", 1),
    ("the answer is cut short after the write was applied", "truncate", 1),
]


@pytest.mark.parametrize("situation, fault, expected_sends", LOST_ANSWERS,
                         ids=[s[0] for s in LOST_ANSWERS])
@pytest.mark.parametrize("system", ["salesforce", "apollo"])
def test_one_lost_answer_is_re_read_and_resent_only_if_it_did_not_land(
        world, system, situation, fault, expected_sends):
    running, cache, the_plan = world
    if system == "salesforce":
        running.salesforce_app.faults.add(fault, route="composite/sobjects", method="PATCH", count=1)
    else:
        running.apollo_app.faults.add(fault, route="bulk_update", method="POST", count=1)
    sf, apollo = sources(running)
    summary = apply_plan(cache, sf, apollo, the_plan)
    assert summary.done == summary.planned
    # The journal counts every send (a request dropped unhandled never reaches the log).
    assert cache.conn.execute("SELECT max(sends) FROM journal WHERE system = ?",
                              (system,)).fetchone()[0] == expected_sends
    log = events(running)
    assert unread_resends(log) == [] and max(applied(log).values()) == 1


def test_an_edit_between_the_re_read_and_a_single_row_write_is_refused_by_salesforce(
        world, monkeypatch):
    """One record per request goes as a row PATCH with If-Unmodified-Since: an edit landing
    after Concord's re-read makes Salesforce answer 412, and the row becomes a conflict."""
    running, cache, the_plan = world
    monkeypatch.setattr(apply_module, "ROUND", 1)
    target = next(w for w in the_plan.writes if w.system == "salesforce")
    running.salesforce_app.faults.add("concurrent_edit", method="PATCH",
                                      route=target.record_id[:15], count=1,
                                      email="just.now@example.org")
    sf, apollo = sources(running)
    apply_plan(cache, sf, apollo, the_plan)
    assert remote_email(running, "salesforce", target.record_id) == "just.now@example.org"
    state, seen = cache.conn.execute("SELECT state, seen_email FROM journal WHERE record_id = ?",
                                     (target.record_id,)).fetchone()
    assert (state, seen) == ("conflict", "just.now@example.org")


def test_too_many_apollo_changes_to_page_through_are_read_one_by_one(world, monkeypatch):
    """When the changes since the pull are too many for the search walk, each contact of a
    round is read on its own: an edit made since the pull is still seen."""
    running, cache, the_plan = world
    target = next(w for w in the_plan.writes if w.system == "apollo"
                  and len([x for x in the_plan.writes if x.link_id == w.link_id]) == 1)
    # An Apollo edit whose push has not reached Salesforce yet: only Apollo shows it.
    running.apollo_store.update(target.record_id, {"email": "edited.later@example.org"})
    monkeypatch.setattr(ApolloSource, "changed_since", lambda self, since, **kw: ([], False))
    sf, apollo = sources(running)
    summary = apply_plan(cache, sf, apollo, the_plan)
    assert cache.conn.execute("SELECT state FROM journal WHERE record_id = ?",
                              (target.record_id,)).fetchone() == ("conflict",)
    assert summary.done + summary.conflict == summary.planned and summary.done > 0
    assert remote_email(running, "apollo", target.record_id) == "edited.later@example.org"
