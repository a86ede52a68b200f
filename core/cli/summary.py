"""A readable terminal summary of a reconciled cache: counts and example pairs."""

from __future__ import annotations

import textwrap

from core import rules
from core.cli.words import count
from core.labels import arrow
from core.model import Outcome
from core.store.cache import Cache
from core.sync.reconcile import ReconcileSummary

# Rules worth showing first in examples: the interesting ones before the plain ones.
_EXAMPLE_ORDER = (rules.Q_BOUNCED, rules.Q_EMPTY, rules.Q_INVALID, rules.Q_UNVERIFIED,
                  rules.LATE_SFDC_CREATE, rules.LAST_EDIT, rules.UNKNOWN_ORDER,
                  rules.CONVERTED_LEAD, rules.ONE_SIDED, rules.APOLLO_ONLY_CREATE,
                  rules.SFDC_ONLY_IMPORT, rules.APOLLO_ONLY_NO_PUSH)


def _table(title: str, counts: dict[str, int]) -> list[str]:
    total = sum(counts.values()) or 1
    lines = [title]
    for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"  {key:<22} {n:>9,}  {100 * n / total:5.1f}%")
    return lines


def print_summary(cache: Cache, summary: ReconcileSummary, dataset=None, examples: int = 12,
                  out=print) -> None:
    """Print counts per rule and strength, and ``examples`` pairs with their reasons."""
    decide, match = summary.decide, summary.match
    if dataset is not None:
        out(f"Sandbox dataset: {count(dataset.records, 'pair')}, seed {dataset.seed}, "
            f"generated as of {dataset.now:%Y-%m-%d %H:%M} UTC.")
    scope = "full" if summary.full else "incremental: only what changed since the last run"
    out(f"This run ({scope}) took {summary.seconds:.2f} s and linked "
        f"{match.crm_id:,} by Salesforce id, {match.email:,} by email, {match.apollo_only:,} "
        f"Apollo-only, {match.sf_only:,} Salesforce-only; suggested "
        f"{count(match.suggestions, 'fuzzy link')}; found "
        f"{count(match.twins, 'Lead/Contact twin')}; followed "
        f"{count(match.converted_followed, 'converted Lead')}.")
    pairs = sum(decide.by_rule.values())
    out(f"The tables below count all {count(pairs, 'pair')} in the cache.")
    out("")
    for line in _table("What Apollo's sync will do (native prediction):", decide.by_rule):
        out(line)
    out("")
    for line in _table("What Concord recommends:", decide.by_recommendation):
        out(line)
    out("")
    for line in _table("Strength:", decide.by_strength):
        out(line)
    out("")
    pending = decide.by_outcome.get(Outcome.PENDING, 0)
    missed = decide.by_outcome.get(Outcome.MISSED, 0)
    out(f"Apollo's sync will still act on {pending:,} pair{'s' if pending != 1 else ''}; it "
        f"missed {missed:,} that stay different until someone edits one side.")
    out("")
    if examples <= 0:
        return
    out("Examples (→ Apollo to Salesforce, ← Salesforce to Apollo, ? needs review):")
    shown = 0
    per_rule = max(1, examples // 8)
    for rule in _EXAMPLE_ORDER:
        rows = cache.conn.execute(
            "SELECT name, company, apollo_email, sf_email, sf_object, native_winner, native_rule, "
            "rec_winner, rec_rule, strength, reason FROM decisions WHERE rec_rule = ? "
            "ORDER BY link_id LIMIT ?", (rule, per_rule)).fetchall()
        for (name, company, a_email, s_email, sf_object, n_win, n_rule, r_win, r_rule, strength,
             reason) in rows:
            if shown >= examples:
                return
            shown += 1
            out(f"\n{shown:>2}. {name} ({company})")
            out(f"    Apollo      {a_email or '—'}")
            out(f"    Salesforce  {s_email or '—'}" + (f"  [{sf_object}]" if sf_object else ""))
            out(f"    Apollo's sync {arrow(n_win)} {n_rule};  Concord recommends "
                f"{arrow(r_win)} {r_rule} ({strength})")
            for line in textwrap.wrap(reason, 92):
                out(f"      {line}")
