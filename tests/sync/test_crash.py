"""Crash safety: ``apply`` (and ``undo``) run in a subprocess that SIGKILLs itself at a named
instant of the protocol; then the next run finishes the journal. The sandbox's request log
must show no lost write, no write applied twice and no write that was not planned; the
journal ends final and the cache passes SQLite's integrity check. A bounded slice runs in
``make test``; ``make test-long`` runs many seeds."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from core.store.cache import Cache
from core.sync.apply import apply_plan, resume
from core.sync.journal import CRASH_ENV, CRASH_POINTS
from core.sync.plan import plan
from tests.harness import sandbox
from tests.sync.writeback import applied, events, pulled, remote_email, sources

REPO = Path(__file__).resolve().parents[2]
STRENGTHS = ("strong", "medium")
APPLY_POINTS = [p for p in CRASH_POINTS if not p.startswith("undo")]
UNDO_POINTS = ["undo_after_journal_commit", "after_mark_sent", "after_send", "mid_round",
               "during_readback", "after_round_commit"]


def _child(running, tmp_path: Path, env: dict, *args: str) -> subprocess.Popen:
    info = tmp_path / "info.json"
    info.write_text(json.dumps(running.info()))
    env = dict(os.environ, CRASH_ROUND="10", PYTHONPATH=str(REPO), **env)
    return subprocess.Popen([sys.executable, "-m", "tests.sync.crash_child", str(info),
                             str(tmp_path / "cache.sqlite"), *args], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _kill_at(running, tmp_path: Path, point: str, nth: int, *args: str) -> int:
    child = _child(running, tmp_path, {CRASH_ENV: f"{point}:{nth}"}, *args)
    _, err = child.communicate(timeout=300)
    assert child.returncode in (-9, 0), err[-2000:]  # 0: fewer than nth passes
    return child.returncode


def _kill_after(running, tmp_path: Path, seconds: float) -> None:
    """SIGKILL the child at a moment of the clock's choosing, wherever it is."""
    child = _child(running, tmp_path, {})
    try:
        child.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)


def _finish(running, tmp_path: Path):
    """What the next ``concord apply`` does: finish the journal, then apply what is left."""
    sf, apollo = sources(running)
    cache = Cache(tmp_path / "cache.sqlite")
    resume(cache, sf, apollo)
    apply_plan(cache, sf, apollo, plan(cache, strengths=STRENGTHS))
    return cache


def _check_journal(cache) -> None:
    assert cache.check_integrity() == []
    assert cache.conn.execute(
        "SELECT count(*) FROM journal WHERE state IN ('planned', 'sent')").fetchone()[0] == 0
    assert cache.conn.execute("SELECT count(*) FROM runs WHERE status = 'running'").fetchone()[0] == 0


def crash_apply(tls_dir, tmp_path, seed: int, point: str | None, nth: int) -> None:
    """Kill at ``point`` (its ``nth`` pass), or with no point after ``nth`` milliseconds."""
    running = sandbox(300, seed, tls_dir=tls_dir)
    try:
        with pulled(running, tmp_path / "cache.sqlite") as cache:
            the_plan = plan(cache, strengths=STRENGTHS)
        assert the_plan.writes
        if point is None:
            _kill_after(running, tmp_path, nth / 1000)
        else:
            _kill_at(running, tmp_path, point, nth)
        with _finish(running, tmp_path) as cache:
            _check_journal(cache)
            log = events(running)
            planned = {(w.system, _wire(w)) for w in the_plan.writes}
            assert set(applied(log)) <= planned  # nothing unplanned
            assert max(applied(log).values()) == 1  # nothing twice
            for w in the_plan.writes:  # nothing lost
                assert (remote_email(running, w.system, w.record_id) or "").lower() == \
                    w.new_email.lower(), (point, nth, w)
    finally:
        running.stop()


def crash_undo(tls_dir, tmp_path, seed: int, point: str, nth: int) -> None:
    running = sandbox(300, seed, tls_dir=tls_dir)
    try:
        sf, apollo = sources(running)
        with pulled(running, tmp_path / "cache.sqlite") as cache:
            the_plan = plan(cache, strengths=STRENGTHS)
            before = {(w.system, w.record_id): remote_email(running, w.system, w.record_id)
                      for w in the_plan.writes}
            run_id = apply_plan(cache, sf, apollo, the_plan).run_id
        _kill_at(running, tmp_path, point, nth, "undo", str(run_id))
        with Cache(tmp_path / "cache.sqlite") as cache:
            resume(cache, sf, apollo)
            _check_journal(cache)
            undo_run = cache.conn.execute("SELECT max(run_id) FROM runs WHERE kind = 'undo'").fetchone()[0]
            if undo_run is None:  # killed before the undo run began: undo now
                from core.sync.undo import undo
                undo(cache, sf, apollo, run_id)
            # Undone pairs are marked skipped; a pair whose earlier value Salesforce would
            # refuse is not written back and stays applied.
            undone = {link for link, in cache.conn.execute(
                "SELECT link_id FROM decisions WHERE status = 'skipped'")}
            assert max(applied(events(running)).values()) <= 2  # the run's write and its undo
            restored = [w for w in the_plan.writes if w.link_id in undone]
            assert len(restored) > len(the_plan.writes) // 2
            for w in restored:
                assert (remote_email(running, w.system, w.record_id) or "").lower() == \
                    (before[(w.system, w.record_id)] or "").lower(), (point, nth, w)
    finally:
        running.stop()


def _wire(w):
    from core.sandbox.ids import to18
    return to18(w.record_id) if w.system == "salesforce" else w.record_id


@pytest.mark.parametrize("point", APPLY_POINTS)
def test_a_killed_apply_finishes_exactly_once(tls_dir, tmp_path, point):
    crash_apply(tls_dir, tmp_path, 1, point, 2 if point in ("after_send", "after_round_commit") else 1)


@pytest.mark.parametrize("point", ["undo_after_journal_commit", "after_send", "during_readback"])
def test_a_killed_undo_finishes_exactly_once(tls_dir, tmp_path, point):
    crash_undo(tls_dir, tmp_path, 1, point, 1)


@pytest.mark.long
@pytest.mark.parametrize("seed", range(2, 52))
@pytest.mark.parametrize("point", APPLY_POINTS)
@pytest.mark.parametrize("nth", [1, 3])
def test_many_seeds_killed_apply(tls_dir, tmp_path, seed, point, nth):
    crash_apply(tls_dir, tmp_path, seed, point, nth)


@pytest.mark.long
@pytest.mark.parametrize("seed", range(2, 22))
@pytest.mark.parametrize("point", UNDO_POINTS)
def test_many_seeds_killed_undo(tls_dir, tmp_path, seed, point):
    crash_undo(tls_dir, tmp_path, seed, point, 1 + seed % 3)


@pytest.mark.parametrize("seed", [1])
def test_a_randomly_timed_kill_is_finished_exactly_once(tls_dir, tmp_path, seed):
    crash_apply(tls_dir, tmp_path, seed, None, random.Random(seed).randint(300, 2500))


@pytest.mark.long
@pytest.mark.parametrize("seed", range(2, 102))
def test_many_randomly_timed_kills(tls_dir, tmp_path, seed):
    crash_apply(tls_dir, tmp_path, seed, None, random.Random(seed).randint(300, 2500))
