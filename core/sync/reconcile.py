"""Orchestration over a whole cache: match → decide → persist, in bulk or incrementally.

Agreeing pairs (equal comparison keys) are most pairs and their outcome is fixed (SAME), so
they are settled in one SQL statement, and their agreement advances the base (equal
contents update the last agreed value). Every other pair is read with both records, the base, the
field history and the observations in one query and goes through :func:`core.rules.decide`.
The user's choice is kept beside the new recommendation while both emails are unchanged.
Incremental runs revisit only pairs whose records changed since the last run (by the
cache's change numbers), pairs without a decision, and pending predictions (which expire
with time). Matching re-checks contacts whose address a changed Salesforce record took or
left, so a duplicate that explains a missed push is seen too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime

from core import matching, rules
from core.model import (
    UTC,
    ApolloContact,
    Base,
    Decision,
    DecisionStatus,
    Outcome,
    SalesforceRecord,
    Settings,
    Strength,
)
from core.store import runs
from core.store.cache import Cache, iso, parse_time
from core.store.rows import edit_time
from core.store.settings import load_settings

BATCH = 20_000

Progress = Callable[[str, int, int], None]

_KEPT_STATUSES = (DecisionStatus.CHOSEN, DecisionStatus.SKIPPED, DecisionStatus.FAILED, DecisionStatus.CONFLICT)


class Cancelled(Exception):
    """The user cancelled; everything written so far is consistent."""


@dataclass
class DecideCounts:
    """What the decide pass did, and the cache's totals per rule and strength afterwards."""

    decided: int = 0  # differing or one-sided pairs (re)decided in this run
    written: int = 0  # decision rows written or removed
    base_settled: int = 0  # base rows dropped because the pair agrees again
    by_rule: dict[str, int] = field(default_factory=dict)
    by_recommendation: dict[str, int] = field(default_factory=dict)
    by_strength: dict[str, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    by_outcome: dict[str, int] = field(default_factory=dict)  # pending / missed / none


@dataclass
class ReconcileSummary:
    """The outcome of one reconciliation run."""

    run_id: int
    full: bool
    match: matching.MatchCounts
    decide: DecideCounts
    seconds: float = 0.0
    match_seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


# Agreeing pairs keep no decision row and no base row: their outcome is SAME and their base
# is the value they agree on (see core.store.ingest, which stores the base when one side moves).
# Matching has just noted which links agree (links.agrees) for every link in the run's scope.
_FORGET_DECISIONS = {
    "full": """DELETE FROM decisions WHERE link_id IN (SELECT d.link_id FROM decisions d
        CROSS JOIN links l ON l.link_id = d.link_id WHERE l.agrees = 1)""",
    "incremental": """DELETE FROM decisions WHERE link_id IN (SELECT l.link_id FROM temp.scope sc
        CROSS JOIN links l ON l.link_id = sc.link_id AND l.agrees = 1)""",
}
_FORGET_BASE = {
    "full": """DELETE FROM base WHERE (apollo_id, sf_id) IN (SELECT b.apollo_id, b.sf_id
        FROM base b CROSS JOIN links l ON l.apollo_id = b.apollo_id AND l.sf_id = b.sf_id
        WHERE l.agrees = 1)""",
    "incremental": """DELETE FROM base WHERE (apollo_id, sf_id) IN (SELECT b.apollo_id, b.sf_id
        FROM temp.scope sc CROSS JOIN links l ON l.link_id = sc.link_id AND l.agrees = 1
        CROSS JOIN base b ON b.apollo_id = l.apollo_id AND b.sf_id = l.sf_id)""",
}

_BUILD_SCOPE = (
    "INSERT OR IGNORE INTO temp.scope SELECT link_id FROM temp.rematched",
    "INSERT OR IGNORE INTO temp.scope SELECT l.link_id FROM apollo_contacts a CROSS "
    "JOIN links l ON l.apollo_id = a.id WHERE a.seq > :since",
    "INSERT OR IGNORE INTO temp.scope SELECT l.link_id FROM sf_records s "
    "CROSS JOIN links l ON l.sf_id = s.id WHERE s.seq > :since",
    "INSERT OR IGNORE INTO temp.scope SELECT link_id FROM decisions WHERE outcome = 'pending'",
    # A differing pair with no decision yet (e.g. a link just made by hand).
    "INSERT OR IGNORE INTO temp.scope SELECT l.link_id FROM links l WHERE l.agrees = 0 "
    "AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.link_id = l.link_id)",
)


def _build_scope(conn, params: dict, link_ids: list[int] | None = None) -> None:
    """The links an incremental run revisits: re-matched ones, those of changed records, and
    pending predictions (which expire with time); or exactly ``link_ids``."""
    conn.execute("DROP TABLE IF EXISTS temp.scope")
    conn.execute("CREATE TEMP TABLE scope (link_id INTEGER PRIMARY KEY)")
    if link_ids is not None:
        conn.executemany("INSERT OR IGNORE INTO temp.scope VALUES (?)", [(i,) for i in link_ids])
        return
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS rematched (link_id INTEGER PRIMARY KEY)")
    for sql in _BUILD_SCOPE:
        conn.execute(sql, params)

_DIFFER_COLUMNS = (
    "l.link_id", "a.id", "a.first_name", "a.last_name", "a.organization_name", "a.email",
    "a.email_status", "a.email_from_customer", "a.contact_stage_id", "a.salesforce_id",
    "a.salesforce_lead_id", "a.salesforce_contact_id", "a.created_at", "a.updated_at",
    "s.id", "s.object", "s.first_name", "s.last_name", "s.company", "s.account_id", "s.email",
    "s.bounced_at", "s.bounce_reason", "s.is_converted", "s.converted_contact_id",
    "s.created_at", "s.created_by_id", "s.last_modified_at", "s.system_modstamp",
    "b.email", "b.synced_at",
    "(SELECT max(h.changed_at) FROM sf_email_history h "
    "WHERE h.record_id = s.id AND h.new_key = s.email_key)",
    "oa.first_seen_at", "oa.prior_seen_at", "os.first_seen_at", "os.prior_seen_at",
    # Another live Salesforce record with Apollo's address (a duplicate rule may refuse a push).
    "(SELECT min(x.id) FROM sf_records x WHERE x.email_key = a.email_key AND a.email_key != '' "
    "AND x.id != s.id AND x.is_deleted = 0 AND x.is_converted = 0)",
    "d.choice", "d.choice_email", "d.status", "d.error", "d.apollo_email", "d.sf_email",
    "d.native_rule", "d.rec_rule", "d.reason", "d.name", "d.company", "d.outcome", "d.due",
    "d.missed_cause",
)
_DIFFER_SQL = f"""
SELECT {', '.join(_DIFFER_COLUMNS)}
FROM {{links}}
LEFT JOIN apollo_contacts a ON a.id = l.apollo_id
LEFT JOIN sf_records s ON s.id = l.sf_id
LEFT JOIN base b ON b.apollo_id = l.apollo_id AND b.sf_id = l.sf_id
LEFT JOIN observations oa ON oa.side = 'apollo' AND oa.record_id = l.apollo_id
                          AND oa.email_key = a.email_key
LEFT JOIN observations os ON os.side = 'salesforce' AND os.record_id = l.sf_id
                          AND os.email_key = s.email_key
LEFT JOIN decisions d ON d.link_id = l.link_id
WHERE (a.id IS NULL OR s.id IS NULL OR a.email_key != s.email_key) {{only_differing}}
"""

_DECISION_COLUMNS = (
    "link_id", "name", "company", "apollo_email", "sf_email", "sf_object", "conflict",
    "native_winner", "native_email", "native_rule", "in_flight", "rec_winner", "rec_email",
    "rec_rule", "strength", "reason", "hints", "choice", "choice_email", "status", "error",
    "decided_at", "seq", "outcome", "due", "missed_cause",
)
_INSERT_DECISION = (f"INSERT OR REPLACE INTO decisions ({', '.join(_DECISION_COLUMNS)}) "
                    f"VALUES ({', '.join('?' * len(_DECISION_COLUMNS))})")


def _t(text: str | None) -> datetime | None:
    return parse_time(text) if text else None


def _pair(row: tuple, settings: Settings, stages: dict):
    """The model objects of a differing pair's row (see ``_DIFFER_COLUMNS`` for the order)."""
    (_, a_id, a_first, a_last, a_org, a_email, a_status, a_customer, a_stage, a_sfid, a_lead,
     a_contact, a_created, a_updated, s_id, s_object, s_first, s_last, s_company, s_account,
     s_email, s_bounced, s_bounce_reason, s_converted, s_converted_to, s_created, s_created_by,
     s_modified, s_modstamp, base_email, base_synced, s_history, a_first_seen, a_prior_seen,
     s_first_seen, s_prior_seen) = row[:36]
    apollo = sf = base = None
    if a_id is not None:
        apollo = ApolloContact(
            id=a_id, email=a_email, email_status=a_status, first_name=a_first,
            last_name=a_last, organization_name=a_org, email_from_customer=bool(a_customer),
            contact_stage_id=a_stage, contact_stage=stages.get(a_stage), salesforce_id=a_sfid,
            salesforce_lead_id=a_lead, salesforce_contact_id=a_contact,
            created_at=_t(a_created), updated_at=_t(a_updated),
            email_edit=edit_time(None, a_first_seen, a_prior_seen, a_updated))
    if s_id is not None:
        sf = SalesforceRecord(
            id=s_id, object=s_object, email=s_email, first_name=s_first, last_name=s_last,
            company=s_company, account_id=s_account, bounced_at=_t(s_bounced),
            bounce_reason=s_bounce_reason, is_converted=bool(s_converted),
            converted_contact_id=s_converted_to, created_at=_t(s_created),
            created_by_id=s_created_by,
            created_by_apollo=bool(s_created_by) and s_created_by in settings.apollo_user_ids,
            last_modified=_t(s_modified), system_modstamp=_t(s_modstamp),
            email_edit=edit_time(s_history, s_first_seen, s_prior_seen, s_modified))
    if base_email is not None:
        base = Base(base_email, _t(base_synced))
    return apollo, sf, base


def _status_for(decision: Decision) -> str:
    if not decision.conflict and decision.recommendation.strength is Strength.NONE:
        return DecisionStatus.IN_SYNC
    return DecisionStatus.OPEN


def _decision_row(row: tuple, apollo, sf, decision: Decision, decided_at: str, seq: int):
    """The decisions-table row for a differing pair, or None when nothing changed."""
    (d_choice, d_choice_email, d_status, d_error, d_a_email, d_s_email, d_native, d_rec,
     d_reason, d_name, d_company, d_outcome, d_due, d_cause) = row[37:]
    rec, native = decision.recommendation, decision.native
    due, cause = iso(native.due), native.cause.value if native.cause else None
    a_email = apollo.email if apollo else None
    s_email = sf.email if sf else None
    choice = choice_email = error = None
    status = _status_for(decision)
    name = (apollo or sf).name
    company = (apollo.organization_name if apollo else sf.company) or ""
    if d_status is not None and d_a_email == a_email and d_s_email == s_email:
        if (d_native, d_rec, d_reason, d_name, d_company, d_outcome, d_due, d_cause) == (
                native.rule, rec.rule, rec.reason, name, company, native.outcome.value, due, cause):
            return None  # nothing new to store
        if d_status in _KEPT_STATUSES:  # the user's choice still applies to these emails
            choice, choice_email, status, error = d_choice, d_choice_email, d_status, d_error
    return (row[0], name, company, a_email, s_email, sf.object if sf else None,
            int(decision.conflict), native.winner.value, native.email, native.rule,
            int(native.in_flight), rec.winner.value, rec.email, rec.rule, rec.strength.value,
            rec.reason, " ".join(decision.hints), choice, choice_email, status, error,
            decided_at, seq, native.outcome.value, due, cause)


def decide_pairs(cache: Cache, settings: Settings, now: datetime, *,
                 since_seq: int | None = None, link_ids: list[int] | None = None,
                 progress: Progress | None = None,
                 cancel: threading.Event | None = None) -> DecideCounts:
    """Decide every pair, those changed after ``since_seq``, or exactly ``link_ids``, and
    store the decisions."""
    counts = DecideCounts()
    conn = cache.conn
    decided_at = iso(now)
    seq = int(cache.get_state("seq", 0))
    params = {"since": since_seq or 0, "now": decided_at, "seq": seq}
    links = "links l"
    if link_ids is not None and since_seq is None:
        since_seq = int(cache.get_state("decided_seq", 0) or 0)
    if since_seq is not None:
        _build_scope(conn, params, link_ids)
        links = "temp.scope sc CROSS JOIN links l ON l.link_id = sc.link_id"
        total = conn.execute("SELECT count(*) FROM temp.scope").fetchone()[0]
    else:
        total = conn.execute("SELECT count(*) FROM links").fetchone()[0]
    # Progress counts pairs read; agreeing pairs are settled in bulk, so the count jumps to
    # the total at the end.
    if progress:
        progress("decide", 0, total)
    mode = "full" if since_seq is None else "incremental"
    with cache.transaction():
        forgot = conn.execute(_FORGET_DECISIONS[mode]).rowcount
        counts.base_settled = conn.execute(_FORGET_BASE[mode]).rowcount
    counts.written += forgot
    done = 0
    if cancel is not None and cancel.is_set():
        raise Cancelled("decide cancelled")

    stages = cache.get_state("apollo_stages", {}) or {}
    # A full run reads only the links matching noted as differing (links.agrees = 0).
    only_differing = "AND l.agrees = 0" if since_seq is None else ""
    read = conn.execute(_DIFFER_SQL.format(links=links, only_differing=only_differing), params)
    while rows := read.fetchmany(BATCH):
        out = []
        for row in rows:
            apollo, sf, base = _pair(row, settings, stages)
            if apollo is None and sf is None:
                continue  # a link whose records vanished; the next match removes it
            decision = rules.decide(apollo, sf, base, settings, now,
                                    duplicates=(row[36],) if row[36] else ())
            counts.decided += 1
            stored = _decision_row(row, apollo, sf, decision, decided_at, seq)
            if stored is not None:
                out.append(stored)
        with cache.transaction():
            conn.executemany(_INSERT_DECISION, out)
        counts.written += len(out)
        done += len(rows)
        if progress:
            progress("decide", min(done, total), total)
        if cancel is not None and cancel.is_set():
            raise Cancelled("decide cancelled")
    _tally(conn, counts)
    if progress:
        progress("decide", total, total)
    return counts


def _tally(conn, counts: DecideCounts) -> None:
    """Totals per rule, recommendation, strength and status across the whole cache.

    Agreeing pairs have no decision row: they are the two-sided links without one.
    """
    # All links less the one-sided ones (two small index counts, not a table scan).
    two_sided = (conn.execute("SELECT count(*) FROM links").fetchone()[0]
                 - conn.execute("SELECT count(*) FROM links WHERE method IN "
                                "('apollo_only', 'sf_only')").fetchone()[0])
    differing = 0
    for native, rec, strength, status, outcome, n in conn.execute(
            "SELECT native_rule, rec_rule, strength, status, outcome, count(*) FROM decisions "
            "GROUP BY 1, 2, 3, 4, 5"):
        for target, key in ((counts.by_rule, native), (counts.by_recommendation, rec),
                            (counts.by_strength, strength), (counts.by_status, status),
                            (counts.by_outcome, outcome)):
            target[key] = target.get(key, 0) + n
        differing += 0 if native in rules.ONE_SIDED_RULES else n
    same = two_sided - differing
    if same:
        for target, key in ((counts.by_rule, rules.SAME), (counts.by_recommendation, rules.SAME),
                            (counts.by_strength, Strength.NONE.value),
                            (counts.by_status, DecisionStatus.IN_SYNC),
                            (counts.by_outcome, Outcome.NONE.value)):
            target[key] = target.get(key, 0) + same


def decide_links(cache: Cache, link_ids: list[int], *, now: datetime | None = None,
                 settings: Settings | None = None) -> DecideCounts:
    """Decide just these pairs now (for example a link the user has just confirmed)."""
    return decide_pairs(cache, settings or load_settings(cache), now or datetime.now(UTC),
                        link_ids=list(link_ids))


def reconcile(cache: Cache, *, now: datetime | None = None, full: bool | None = None,
              settings: Settings | None = None, progress: Progress | None = None,
              cancel: threading.Event | None = None) -> ReconcileSummary:
    """Match and decide the whole cache (``full``) or what changed since the last run.

    ``full=None`` picks incremental when a previous run finished, full otherwise. The run is
    recorded in ``runs``; the change number it covered is stored only when it completes.
    """
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    settings = settings or load_settings(cache)
    last_seq = cache.get_state("decided_seq")
    if full is None:
        full = last_seq is None
    since = None if full else int(last_seq)
    covered = int(cache.get_state("seq", 0))
    run_id, _ = runs.start(cache, "reconcile")
    try:
        if progress:
            progress("match", 0, 0)
        match_counts = matching.match(cache, since)
        matched = time.perf_counter()
        if cancel is not None and cancel.is_set():
            raise Cancelled("cancelled after matching")
        decide_counts = decide_pairs(cache, settings, now, since_seq=since, progress=progress,
                                     cancel=cancel)
        cache.conn.execute("DROP TABLE IF EXISTS temp.rematched")
    except BaseException as exc:
        status = "cancelled" if isinstance(exc, (Cancelled, KeyboardInterrupt)) else "failed"
        runs.finish(cache, run_id, status, {"error": str(exc)})
        raise
    summary = ReconcileSummary(run_id, full, match_counts, decide_counts,
                               round(time.perf_counter() - started, 3), round(matched - started, 3))
    with cache.transaction():
        cache.set_state("decided_seq", covered)
        cache.conn.execute("DELETE FROM vacated_emails WHERE seq <= ?", (covered,))
        runs.finish(cache, run_id, "done", summary.as_dict(), own_transaction=False)
    return summary


def link_pair(cache: Cache, apollo_id: str, sf_id: str, now: datetime | None = None) -> int:
    """Link a suggested pair by hand and decide it at once; returns its link id."""
    link_id = matching.confirm_suggestion(cache, apollo_id, sf_id)
    decide_links(cache, [link_id], now=now)
    return link_id
