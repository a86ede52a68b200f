"""``concord apply``: write decided pairs back to both systems.

``apply`` first finishes any run a crash left open, then plans (``--only`` picks the
strengths and whether the user's own choices go too) and writes; ``--dry-run`` prints the
exact plan and its hash and writes nothing. Exit codes: 0 everything written, 1 conflicts,
failures or refusals to review, 2 bad usage, 3 could not run (the journal keeps what was
done; the next run finishes it).
"""

from __future__ import annotations

import argparse
import json
import threading

from core.cli.errors import EXIT_COULD_NOT_RUN, EXIT_OK, EXIT_REVIEW, CouldNotRun, RemoteProblem
from core.cli.pull import reachable_sources, redacted_logging
from core.cli.target import add_target_options, connection_from_args
from core.sources.errors import SourceError
from core.store.cache import Cache
from core.sync.apply import ApplySummary, apply_plan, resume
from core.sync.plan import WritePlan, plan

ONLY = ("strong", "medium", "review", "chosen")
DEFAULT_ONLY = ("strong", "chosen")


def add_targets(parser: argparse.ArgumentParser) -> None:
    """``--workspace NAME`` or ``--sandbox-info PATH`` (with ``--cache``), and ``--json``."""
    add_target_options(parser)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def add_parser(subparsers) -> None:
    """Add ``apply`` to ``concord``'s subparsers."""
    p = subparsers.add_parser("apply", help="write decided pairs back to both systems",
                              description="Write the chosen emails back, journaled and checked.")
    add_targets(p)
    p.add_argument("--only", nargs="+", choices=ONLY, metavar="{strong,medium,review,chosen}",
                   help="what to write: recommendations of these strengths and/or the pairs "
                        "you chose (default: strong chosen)")
    p.add_argument("--dry-run", action="store_true",
                   help="print the exact plan and its hash; write nothing")
    p.set_defaults(func=run_apply)


def plan_dict(the_plan: WritePlan, *, rows: bool) -> dict:
    """The dry-run answer: counts per system and per rule, the hash, and the rows."""
    out = {"planned": len(the_plan.writes), "plan_hash": the_plan.digest(),
           "pairs": the_plan.pairs,
           "systems": {"salesforce": the_plan.count("salesforce"),
                       "apollo": the_plan.count("apollo")},
           "rules": the_plan.by_rule(), "not_written": the_plan.not_written,
           "refused": [{"link_id": link, "reason": why} for link, why in the_plan.refused]}
    if rows:
        out["rows"] = [w.as_dict() for w in the_plan.writes]
    return out


def summary_dict(summary: ApplySummary, the_plan: WritePlan | None = None) -> dict:
    out = summary.as_dict()
    if the_plan is not None:
        out["not_written"] = the_plan.not_written
        out["refused"] = [{"link_id": link, "reason": why} for link, why in the_plan.refused]
    return out


def exit_code(summary: ApplySummary, the_plan: WritePlan | None = None) -> int:
    if summary.status == "stopped":
        return EXIT_COULD_NOT_RUN
    if summary.conflict or summary.failed or summary.cancelled or (the_plan and the_plan.refused):
        return EXIT_REVIEW
    return EXIT_OK


def describe(summary: ApplySummary, the_plan: WritePlan | None = None) -> str:
    calls = summary.api_calls
    lines = [f"{summary.kind.capitalize()} run {summary.run_id}: {summary.status}. "
             f"{summary.planned} planned: {summary.done} done, {summary.conflict} conflict, "
             f"{summary.failed} failed, {summary.skipped} skipped. API calls: Salesforce "
             f"{calls.get('salesforce', 0)}, Apollo {calls.get('apollo', 0)}. Apollo has no "
             f"conditional write: the longest gap between re-reading a contact and writing it "
             f"was {summary.apollo_race_window:.2f} s."]
    if summary.resumed:
        lines.append(f"First finished the interrupted run(s) {', '.join(map(str, summary.resumed))}.")
    if the_plan is not None:
        for link, why in the_plan.refused:
            lines.append(f"Refused pair {link}: {why}.")
    if summary.error_csv and (summary.conflict or summary.failed or summary.skipped):
        lines.append(f"Conflicts and failures: {summary.error_csv}")
    if summary.success_csv:
        lines.append(f"Written: {summary.success_csv}")
    return "\n".join(lines)


def describe_counts(summary: dict) -> str:
    """A write-back run's accounting and its CSVs, for ``concord runs``."""
    return (f"       {summary.get('planned', 0):,} planned: {summary.get('done', 0):,} done, "
            f"{summary.get('conflict', 0):,} conflict, {summary.get('failed', 0):,} failed, "
            f"{summary.get('skipped', 0):,} skipped; CSVs: {summary.get('success_csv') or '-'}, "
            f"{summary.get('error_csv') or '-'}")


def _describe_plan(the_plan: WritePlan) -> str:
    lines = [the_plan.summary(), f"Plan hash: {the_plan.digest()}"]
    for rule, systems in the_plan.by_rule().items():
        lines.append(f"  {rule:<20} " + ", ".join(f"{s} {n}" for s, n in sorted(systems.items())))
    for w in the_plan.writes:
        lines.append(f"  {w.system:<10} {w.object:<7} {w.record_id:<24} "
                     f"{w.old_email or '(blank)'} -> {w.new_email}  [{w.rule}]")
    for link, why in the_plan.refused:
        lines.append(f"  refused pair {link}: {why}")
    return "\n".join(lines)


def both_sources(args, connection, command: str):
    """Both systems' clients: a write-back needs both (each write is checked on both)."""
    sources = reachable_sources(args, connection)
    if sources.salesforce is None or sources.apollo is None:
        raise CouldNotRun(" ".join(sources.problems) + f" Both systems must be connected to "
                          f"{command}; nothing was written.")
    return sources


def write_back(cache: Cache, sources, *, strengths, include_chosen: bool,
               cancel: threading.Event | None = None) -> tuple[ApplySummary, WritePlan]:
    """Finish any open run, plan, and write; the one path ``apply`` and ``reconcile
    --apply`` share."""
    out_dir = cache.path.parent / "runs"
    resumed = resume(cache, sources.salesforce, sources.apollo, out_dir=out_dir)
    the_plan = plan(cache, strengths=strengths, include_chosen=include_chosen)
    summary = apply_plan(cache, sources.salesforce, sources.apollo, the_plan, out_dir=out_dir,
                         cancel=cancel)
    summary.resumed = [r.run_id for r in resumed] + summary.resumed
    return summary, the_plan


def reconcile_apply(cache: Cache, sources, args):
    """``reconcile --apply``: write back; (summary as JSON, exit code, text), or None."""
    if not args.apply:
        return None
    if sources is None:
        sources = both_sources(args, connection_from_args(args), "write back")
    elif sources.salesforce is None or sources.apollo is None:
        raise CouldNotRun(" ".join(sources.problems) + " Both systems must be connected to "
                          "write back; nothing was written.")
    strengths = ("strong",) if args.apply == "strong" else ("strong", "medium")
    summary, the_plan = _write(cache, sources, strengths=strengths, include_chosen=True)
    return (summary_dict(summary, the_plan), exit_code(summary, the_plan),
            describe(summary, the_plan))


def _write(cache: Cache, sources, **options) -> tuple[ApplySummary, WritePlan]:
    try:
        return write_back(cache, sources, **options)
    except SourceError as exc:
        raise RemoteProblem(f"{exc} What was written is journaled; run the command again to "
                            f"finish.") from None


def run_apply(args) -> int:
    """Handle ``concord apply``."""
    only = tuple(args.only or DEFAULT_ONLY)
    strengths = tuple(s for s in only if s != "chosen")
    with redacted_logging():
        connection = connection_from_args(args)
        if args.dry_run:
            with connection.open_cache() as cache:
                the_plan = plan(cache, strengths=strengths, include_chosen="chosen" in only)
            if args.json:
                print(json.dumps(plan_dict(the_plan, rows=True), indent=2))
            else:
                print(_describe_plan(the_plan))
            return EXIT_REVIEW if the_plan.refused else EXIT_OK
        sources = both_sources(args, connection, "apply")
        with connection.open_cache() as cache:
            summary, the_plan = _write(cache, sources, strengths=strengths,
                                       include_chosen="chosen" in only)
    print_result(args, summary, the_plan)
    return exit_code(summary, the_plan)


def print_result(args, summary: ApplySummary, the_plan: WritePlan | None = None) -> None:
    if args.json:
        print(json.dumps(summary_dict(summary, the_plan), indent=2))
    else:
        print(describe(summary, the_plan))


__all__ = ["add_parser", "add_targets", "both_sources", "describe", "describe_counts",
           "exit_code", "print_result", "reconcile_apply", "summary_dict", "write_back"]
