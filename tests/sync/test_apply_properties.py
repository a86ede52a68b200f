"""Stateful properties of write-back against the sandbox (Hypothesis): people edit either
system, Apollo's sync runs, Concord pulls, decides and applies, in any order.

- Applying twice plans nothing the second time (only failed rows are retried).
- After an apply, Apollo's sync tick and a re-pull, every pair Concord applied agrees.
- A pair changed on both sides since its base is never written automatically (strong).
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from core.store.cache import Cache
from core.sync.apply import apply_plan
from core.sync.plan import plan
from core.sync.pull import pull_all
from core.sync.reconcile import reconcile
from tests.harness import sandbox
from tests.sync.writeback import sources

_serial = itertools.count()


class WriteBack(RuleBasedStateMachine):
    tls_dir = None
    tmp_dir = None

    @initialize(seed=st.integers(0, 5))
    def start(self, seed):
        self.running = sandbox(120, seed, tls_dir=self.tls_dir)
        self.cache = Cache(self.tmp_dir / f"cache-{next(_serial)}.sqlite")
        self.sf, self.apollo = sources(self.running)
        self.applied_links: set[int] = set()
        self.pulled = False
        self._pull()

    def teardown(self):
        if hasattr(self, "cache"):
            self.cache.close()
            self.running.stop()

    def _pull(self):
        pull_all(self.cache, self.sf, self.apollo)
        reconcile(self.cache)
        self.pulled = True

    def _linked(self, index: int):
        rows = self.cache.conn.execute(
            "SELECT apollo_id, sf_id FROM links WHERE apollo_id IS NOT NULL AND sf_id IS NOT NULL "
            "ORDER BY link_id").fetchall()
        return rows[index % len(rows)]

    @rule(index=st.integers(0, 200), local=st.sampled_from(["jo", "ann.lee", "bo+x", "cy"]))
    def someone_edits_salesforce(self, index, local):
        _, sf_id = self._linked(index)
        obj = "Lead" if sf_id.startswith("00Q") else "Contact"
        if (self.running.sf_store.get(obj, sf_id) or {}).get("IsConverted"):
            return
        self.running.sf_store.external_edit(obj, sf_id, {"Email": f"{local}{next(_serial)}@sf.example.org"})
        self.pulled = False

    @rule(index=st.integers(0, 200), local=st.sampled_from(["jo", "ann.lee", "bo+x", "cy"]))
    def someone_edits_apollo(self, index, local):
        apollo_id, _ = self._linked(index)
        change = self.running.apollo_store.update(apollo_id,
                                                  {"email": f"{local}{next(_serial)}@ap.example.org"})
        self.running.sync.contact_changed(change)  # Apollo pushes it on (S8)
        self.pulled = False

    @rule()
    def apollo_syncs(self):
        self.running.pull_tick()
        self.pulled = False

    @rule()
    def concord_pulls_and_decides(self):
        self._pull()

    @precondition(lambda self: self.pulled)
    @rule(wide=st.booleans())
    def concord_applies(self, wide):
        strengths = ("strong", "medium") if wide else ("strong",)
        the_plan = plan(self.cache, strengths=strengths)
        self._never_both_sides(plan(self.cache, strengths=("strong",)))
        summary = apply_plan(self.cache, self.sf, self.apollo, the_plan)
        assert summary.done + summary.conflict + summary.failed + summary.skipped == summary.planned
        # Applying twice plans nothing the second time, except failed rows (retried).
        failed = {r[0] for r in self.cache.conn.execute(
            "SELECT link_id FROM decisions WHERE status = 'failed'")}
        assert {w.link_id for w in plan(self.cache, strengths=strengths).writes} <= failed
        self.applied_links = {r[0] for r in self.cache.conn.execute(
            "SELECT link_id FROM decisions WHERE status = 'applied'")}
        # Apollo's sync runs, Concord pulls: every applied pair agrees on both sides.
        self.running.pull_tick()
        self._pull()
        for link_id in self.applied_links:
            row = self.cache.conn.execute(
                "SELECT a.email_key, s.email_key FROM links l JOIN apollo_contacts a ON "
                "a.id = l.apollo_id JOIN sf_records s ON s.id = l.sf_id WHERE l.link_id = ?",
                (link_id,)).fetchone()
            assert row is None or row[0] == row[1], (link_id, row)

    def _never_both_sides(self, strong) -> None:
        """No strong write for a pair whose two records both moved away from the base."""
        for w in strong.writes:
            row = self.cache.conn.execute(
                "SELECT a.email_key, s.email_key, b.email_key FROM links l "
                "JOIN apollo_contacts a ON a.id = l.apollo_id JOIN sf_records s ON s.id = l.sf_id "
                "LEFT JOIN base b ON b.apollo_id = l.apollo_id AND b.sf_id = l.sf_id "
                "WHERE l.link_id = ?", (w.link_id,)).fetchone()
            if row is None or w.rule == "USER_CHOICE":
                continue
            a_key, s_key, base = row
            assert base is not None and (a_key == base or s_key == base), (w, row)

    @invariant()
    def journal_is_final(self):
        if hasattr(self, "cache"):
            assert self.cache.conn.execute(
                "SELECT count(*) FROM journal WHERE state IN ('planned', 'sent')").fetchone()[0] == 0


def _run(tls_dir, tmp_path, examples: int, steps: int):
    WriteBack.tls_dir, WriteBack.tmp_dir = tls_dir, tmp_path
    test = WriteBack.TestCase
    test.settings = settings(max_examples=examples, stateful_step_count=steps, deadline=None,
                             suppress_health_check=list(HealthCheck))
    test().runTest()


def test_write_back_properties(tls_dir, tmp_path):
    _run(tls_dir, tmp_path, examples=8, steps=8)


@pytest.mark.long
def test_write_back_properties_many(tls_dir, tmp_path):
    _run(tls_dir, tmp_path, examples=200, steps=15)

