"""The window's operations on the cache, one function each.

Each builds a :class:`gui.tasks.CacheOp` or :class:`gui.tasks.QueryOp` around a core call and
returns it; the caller adds what to do on success. Workers see core objects only. Every
operation that changes the cache produces a :class:`core.sync.changes.Changes` (alone or in
its result), from which the window refreshes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core.model import Strength
from core.report.export import Exported, export
from core.report.rows import conflict_report
from core.store.cache import Cache
from core.store.details import load_details
from core.store.pairs import PairQuery
from core.store.settings import load_settings, save_settings
from core.sync import choices, connections
from core.sync.changes import Changes
from core.sync.choices import ChoiceState
from core.sync.plan import WritePlan
from core.sync.plan import plan as build_plan
from core.sync.reconcile import ReconcileSummary, link_pair, reconcile
from gui.tasks import PRIO_PAGE, CacheOp, QueryOp, TaskManager


@dataclass(frozen=True)
class ChoiceOutcome:
    """A change of choices: what changed, and the pairs' states before and after (undo)."""

    changes: Changes
    before: tuple[ChoiceState, ...] | None  # None: too many pairs to keep for undo
    after: tuple[ChoiceState, ...] | None
    asked: int  # pairs the command was given


UNDO_LIMIT = 50_000  # pairs one change may hold for undo (about 100 bytes each, twice)


def _change_choices(tasks: TaskManager, link_ids: Sequence[int],
                    change: Callable[[Cache, Sequence[int]], list[int]], parent,
                    undo_limit: int = UNDO_LIMIT) -> CacheOp:
    def run(cache):
        if len(link_ids) > undo_limit:
            return ChoiceOutcome(Changes.of_pairs(change(cache, link_ids)), None, None,
                                 len(link_ids))
        before = choices.snapshot(cache, link_ids)
        changed = set(change(cache, link_ids))
        return ChoiceOutcome(Changes.of_pairs(changed),
                             tuple(s for s in before if s.link_id in changed),
                             choices.snapshot(cache, sorted(changed)), len(link_ids))
    return CacheOp(tasks, run, parent)


def set_direction(tasks: TaskManager, link_ids: list[int], choice: str,
                  email: str | None = None, parent=None, undo_limit: int = UNDO_LIMIT) -> CacheOp:
    """Store the user's direction for pairs (``apollo``, ``salesforce``, ``skip``, ``custom``)."""
    return _change_choices(tasks, link_ids,
                           lambda cache, ids: choices.set_choice(cache, ids, choice, email), parent,
                           undo_limit)


def accept_recommendation(tasks: TaskManager, link_ids: list[int], parent=None,
                          undo_limit: int = UNDO_LIMIT) -> CacheOp:
    return _change_choices(tasks, link_ids, choices.accept_recommendation, parent, undo_limit)


def revert(tasks: TaskManager, link_ids: list[int], parent=None,
           undo_limit: int = UNDO_LIMIT) -> CacheOp:
    return _change_choices(tasks, link_ids, choices.revert, parent, undo_limit)


def restore_choices(tasks: TaskManager, states: tuple[ChoiceState, ...],
                    only_if: tuple[ChoiceState, ...], parent=None) -> CacheOp:
    """Undo or redo: put choices back where they still hold ``only_if``."""
    return CacheOp(tasks, lambda cache: Changes.of_pairs(choices.restore(cache, states, only_if)),
                   parent)


def typed_among(tasks: TaskManager, link_ids: list[int], parent=None) -> CacheOp:
    """The pairs among ``link_ids`` holding a typed address (on the writer: it sees every
    choice just made)."""
    return CacheOp(tasks, lambda cache: choices.typed(cache, link_ids), parent)


def plan_selection(tasks: TaskManager, link_ids: list[int], parent=None) -> CacheOp:
    """The write plan of selected pairs (on the writer, so it sees every choice just made)."""
    return CacheOp(tasks, lambda cache: build_plan(cache, link_ids=link_ids), parent)


def write_plan(tasks: TaskManager, connection: connections.Connection, plan: WritePlan,
               parent=None) -> CacheOp:
    """The last step of Apply, Go and Reconcile all: write a confirmed plan to both systems
    (progress; Cancel stops after the current batch)."""
    return CacheOp(tasks, lambda cache, job: connections.write_plan(cache, connection, plan, job),
                   parent).with_progress("Writing")


def undo_run(tasks: TaskManager, connection: connections.Connection, run_id: int,
             parent=None) -> CacheOp:
    """Undo a write-back run from the run history."""
    return CacheOp(tasks, lambda cache, job: connections.undo_run(cache, connection, run_id, job),
                   parent).with_progress("Undoing")


def auto_apply_strengths(auto_apply: Strength) -> tuple[str, ...]:
    """The strengths Reconcile all applies for a threshold (``strong`` applies strong only)."""
    return tuple(s.value for s in (Strength.STRONG, Strength.MEDIUM, Strength.REVIEW)
                 if s.rank >= auto_apply.rank)


@dataclass
class ReconcileAllResult:
    """Pull, match and decide done; the plan awaits the user's confirmation."""

    pull: connections.PullOutcome
    summary: ReconcileSummary
    plan: WritePlan
    strengths: tuple[str, ...]
    changes: Changes = Changes.redecided(runs=True)


def reconcile_all(tasks: TaskManager, connection: connections.Connection, *, plan: bool = True,
                  parent=None) -> CacheOp:
    """Pull → match → decide → plan (the write needs a confirmation first)."""
    def run(cache, job):
        pulled = connections.pull(cache, connection, job)
        job.progress("match", 0, 0)
        summary = reconcile(cache, progress=job.progress, cancel=job.cancel)
        strengths = auto_apply_strengths(load_settings(cache).auto_apply)
        job.progress("plan", 0, 0)
        result = build_plan(cache, strengths=strengths) if plan else WritePlan()
        return ReconcileAllResult(pulled, summary, result, strengths)
    return CacheOp(tasks, run, parent).with_progress("Reconcile all")


def save_settings_and_redecide(tasks: TaskManager, settings, parent=None) -> CacheOp:
    """Save settings and decide every pair again with them (choices are kept); returns the
    summary and the changes."""
    def run(cache, job):
        with cache.transaction():
            save_settings(cache, settings)
        summary = reconcile(cache, full=True, settings=settings, progress=job.progress,
                            cancel=job.cancel)
        return summary, Changes.redecided(settings=True, runs=True)
    return CacheOp(tasks, run, parent).with_progress("Re-deciding with the new settings")


def link_suggestion(tasks: TaskManager, apollo_id: str, sf_id: str, parent=None) -> CacheOp:
    """Link a suggested pair and decide it: two one-sided pairs become one."""
    def run(cache):
        return Changes(link_ids=frozenset({link_pair(cache, apollo_id, sf_id)}), membership=True)
    return CacheOp(tasks, run, parent)


def details(tasks: TaskManager, link_id: int, connection: connections.Connection,
            parent=None) -> QueryOp:
    """Everything the panel shows about a pair (the instance URL is read on the worker: a
    workspace's comes from its profile file)."""
    return QueryOp(tasks, lambda r: load_details(r.cache, link_id, connection.instance_url),
                   parent, priority=PRIO_PAGE, tag=("details",))


def settings_and_stages(tasks: TaskManager, parent=None) -> QueryOp:
    def run(r):
        stages = r.cache.get_state("apollo_stages", {}) or {}
        return load_settings(r.cache), sorted(set(stages.values()))
    return QueryOp(tasks, run, parent)


def counts(tasks: TaskManager, parent=None) -> QueryOp:
    return QueryOp(tasks, lambda r: r.list.counts(), parent, tag=("counts",))


def export_report(tasks: TaskManager, query: PairQuery, fmt: str, path: str, *, bom: bool = False,
                  previous: str | None = None, connection: connections.Connection | None = None,
                  parent=None) -> CacheOp:
    """Write the pairs of the list's ``query`` as a report (progress, Cancel); the result is
    :class:`core.report.export.Exported`. Runs on the writer, so choices just made are in it."""
    def run(cache, job) -> Exported:
        url = connection.instance_url if connection is not None else ""
        report = conflict_report(cache, query, instance_url=url, progress=job.progress,
                                 cancel=job.cancel)
        return export(report, fmt, path, bom=bom, previous=previous or None)
    return CacheOp(tasks, run, parent).with_progress("Exporting report")
