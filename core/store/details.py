"""Everything the pair panel shows about one pair, read from the cache as plain data.

No Qt here (the difference is data): the panel only maps this to widgets and colours. The
email difference is :func:`core.emails.diff`'s segments, never recomputed by the view; edit
times are :func:`core.store.rows.edit_time` over the same evidence the engine used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import orjson

from core import emails, rules
from core.model import UNKNOWN_TIME, EditTime
from core.store.rows import edit_time
from core.store.settings import load_settings

APOLLO_CONTACT_URL = "https://app.apollo.io/#/contacts/{id}"

# Labels of the cached columns each card shows, in order.
APOLLO_FIELDS = (
    ("id", "Apollo id"), ("first_name", "First name"), ("last_name", "Last name"),
    ("organization_name", "Company"), ("email", "Email"), ("email_status", "Email status"),
    ("email_from_customer", "Email from customer"), ("contact_stage", "Stage"),
    ("salesforce_id", "Salesforce id"), ("salesforce_lead_id", "Salesforce Lead id"),
    ("salesforce_contact_id", "Salesforce Contact id"), ("created_at", "Created"),
    ("updated_at", "Updated"), ("pulled_at", "Pulled"),
)
SF_FIELDS = (
    ("id", "Salesforce id"), ("object", "Object"), ("first_name", "First name"),
    ("last_name", "Last name"), ("company", "Company"), ("account_id", "Account id"),
    ("email", "Email"), ("bounced_at", "Email bounced"), ("bounce_reason", "Bounce reason"),
    ("is_converted", "Converted"), ("converted_contact_id", "Converted to Contact"),
    ("created_at", "Created"), ("created_by_id", "Created by"),
    ("last_modified_at", "Last modified"), ("last_modified_by_id", "Last modified by"),
    ("system_modstamp", "System modstamp"), ("pulled_at", "Pulled"),
)
TIME_SOURCE_LABELS = {
    "history": "Salesforce field history",
    "observation": "seen by Concord between two pulls",
    "record": "record timestamp (an upper bound only)",
    "unknown": "unknown",
}


@dataclass
class RecordCard:
    """One system's record of the pair, as cached."""

    system: str  # "apollo" | "salesforce"
    record: dict  # cached columns
    raw: dict  # the API's answer as pulled
    edit: EditTime
    url: str | None

    @property
    def email(self) -> str | None:
        return self.record.get("email")

    def fields(self) -> list[tuple[str, str]]:
        """(label, text) for every cached field, blanks shown as an em dash."""
        spec = APOLLO_FIELDS if self.system == "apollo" else SF_FIELDS
        out = []
        for key, label in spec:
            value = self.record.get(key)
            if isinstance(value, int) and key in ("email_from_customer", "is_converted"):
                value = "yes" if value else "no"
            out.append((label, "—" if value in (None, "") else str(value)))
        return out

    def raw_fields(self) -> list[tuple[str, str]]:
        """Every field of the API record not already shown, flattened (``Account.Name``)."""
        shown = {"id", "Id", "attributes"}
        out: list[tuple[str, str]] = []

        def walk(prefix: str, value) -> None:
            if isinstance(value, dict):
                for k, v in value.items():
                    if k != "attributes":
                        walk(f"{prefix}.{k}" if prefix else k, v)
            elif isinstance(value, list):
                text = ", ".join(str(v.get("email", v)) if isinstance(v, dict) else str(v)
                                 for v in value)
                out.append((prefix, text or "—"))
            else:
                out.append((prefix, "—" if value in (None, "") else str(value)))

        for key, value in self.raw.items():
            if key not in shown:
                walk(key, value)
        return out


@dataclass
class Suggestion:
    """A fuzzy link Concord suggests for a one-sided pair (never applied without the user)."""

    apollo_id: str
    sf_id: str
    score: float
    reason: str
    other_name: str
    other_email: str | None
    other_system: str


@dataclass
class PairDetails:
    """The whole story of one pair for the panel."""

    link_id: int
    method: str
    twin_id: str | None
    note: str | None
    apollo: RecordCard | None
    salesforce: RecordCard | None
    decision: dict  # the decisions row (or the SAME outcome for an agreeing pair)
    base_email: str | None
    base_synced_at: str | None
    diff: list[emails.DiffSegment]
    history: list[dict] = field(default_factory=list)
    observations: list[dict] = field(default_factory=list)
    suggestions: list[Suggestion] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    # Salesforce's Email Address Internationalization, as the workspace's settings say: a
    # typed address is validated with it, like every other address.
    unicode_emails: bool = False

    @property
    def one_sided(self) -> bool:
        return self.apollo is None or self.salesforce is None


_DECISION_COLUMNS = ("link_id", "name", "company", "apollo_email", "sf_email", "sf_object",
                     "conflict", "native_winner", "native_email", "native_rule", "in_flight",
                     "outcome", "due", "missed_cause",
                     "rec_winner", "rec_email", "rec_rule", "strength", "reason", "hints",
                     "choice", "choice_email", "status", "error", "decided_at")


def _row_dict(cursor, row) -> dict:
    return {d[0]: v for d, v in zip(cursor.description, row)}


def _one(conn, sql: str, params) -> dict | None:
    cur = conn.execute(sql, params)
    row = cur.fetchone()
    return _row_dict(cur, row) if row is not None else None


def _edit(conn, side: str, record: dict, history_at: str | None) -> EditTime:
    obs = conn.execute("SELECT first_seen_at, prior_seen_at FROM observations WHERE side = ? "
                       "AND record_id = ? AND email_key = ?",
                       (side, record["id"], record.get("email_key") or "")).fetchone()
    stamp = record.get("updated_at") if side == "apollo" else record.get("last_modified_at")
    return edit_time(history_at, obs[0] if obs else None, obs[1] if obs else None, stamp)


def load_details(cache, link_id: int, instance_url: str = "") -> PairDetails | None:
    """Read one pair's records, decision, base, history, observations and suggestions."""
    conn = cache.conn
    link = _one(conn, "SELECT * FROM links WHERE link_id = ?", (link_id,))
    if link is None:
        return None
    stages = cache.get_state("apollo_stages", {}) or {}
    apollo = salesforce = None
    if link["apollo_id"]:
        record = _one(conn, "SELECT * FROM apollo_contacts WHERE id = ?", (link["apollo_id"],))
        if record is not None:
            record["contact_stage"] = stages.get(record.get("contact_stage_id"),
                                                 record.get("contact_stage_id"))
            raw = conn.execute("SELECT raw FROM apollo_raw WHERE id = ?", (record["id"],)).fetchone()
            apollo = RecordCard("apollo", record, orjson.loads(raw[0]) if raw else {},
                          _edit(conn, "apollo", record, None),
                          APOLLO_CONTACT_URL.format(id=record["id"]))
    history: list[dict] = []
    if link["sf_id"]:
        record = _one(conn, "SELECT * FROM sf_records WHERE id = ?", (link["sf_id"],))
        if record is not None:
            raw = conn.execute("SELECT raw FROM sf_raw WHERE id = ?", (record["id"],)).fetchone()
            cur = conn.execute("SELECT changed_at, old_value, new_value, new_key, changed_by "
                               "FROM sf_email_history WHERE record_id = ? ORDER BY changed_at",
                               (record["id"],))
            history = [_row_dict(cur, r) for r in cur.fetchall()]
            current = [h["changed_at"] for h in history if h["new_key"] == record.get("email_key")]
            url = f"{instance_url.rstrip('/')}/{record['id']}" if instance_url else None
            salesforce = RecordCard("salesforce", record, orjson.loads(raw[0]) if raw else {},
                              _edit(conn, "salesforce", record, max(current) if current else None),
                              url)
    decision = _one(conn, f"SELECT {', '.join(_DECISION_COLUMNS)} FROM decisions WHERE link_id = ?",
                    (link_id,))
    if decision is None:
        same = rules.same_decision(apollo.email if apollo else None,
                                   salesforce.email if salesforce else None)
        decision = {
            "link_id": link_id, "apollo_email": apollo.email if apollo else None,
            "sf_email": salesforce.email if salesforce else None,
            "sf_object": salesforce.record["object"] if salesforce else None, "conflict": 0,
            "native_winner": same.native.winner.value, "native_email": same.native.email,
            "native_rule": same.native.rule, "in_flight": 0,
            "outcome": same.native.outcome.value, "due": None, "missed_cause": None,
            "rec_winner": same.recommendation.winner.value, "rec_email": same.recommendation.email,
            "rec_rule": same.recommendation.rule, "strength": same.recommendation.strength.value,
            "reason": same.recommendation.reason, "hints": "", "choice": None,
            "choice_email": None, "status": "in_sync", "error": None, "decided_at": None,
        }
    base = None
    if link["apollo_id"] and link["sf_id"]:
        base = conn.execute("SELECT email, synced_at FROM base WHERE apollo_id = ? AND sf_id = ?",
                            (link["apollo_id"], link["sf_id"])).fetchone()
        if base is None and apollo and salesforce and emails.same(apollo.email, salesforce.email):
            base = (salesforce.email or apollo.email, None)  # agreeing pairs keep no base row
    observations = []
    for side, record_id in (("apollo", link["apollo_id"]), ("salesforce", link["sf_id"])):
        if record_id:
            cur = conn.execute("SELECT side, email, first_seen_at, prior_seen_at FROM observations "
                               "WHERE side = ? AND record_id = ? ORDER BY first_seen_at",
                               (side, record_id))
            observations += [_row_dict(cur, r) for r in cur.fetchall()]
    suggestions = _suggestions(conn, link) if (apollo is None or salesforce is None) else []
    a_email = apollo.email if apollo else None
    s_email = salesforce.email if salesforce else None
    return PairDetails(
        link_id=link_id, method=link["method"], twin_id=link.get("twin_id"), note=link.get("note"),
        apollo=apollo, salesforce=salesforce, decision=decision,
        base_email=base[0] if base else None, base_synced_at=base[1] if base else None,
        diff=emails.diff(a_email, s_email) if (apollo and salesforce) else [],
        history=history, observations=observations, suggestions=suggestions,
        hints=[h for h in (decision.get("hints") or "").split() if h],
        unicode_emails=load_settings(cache).unicode_emails)


def _suggestions(conn, link: dict) -> list[Suggestion]:
    out = []
    if link["apollo_id"]:
        rows = conn.execute(
            "SELECT g.apollo_id, g.sf_id, g.score, g.reason, trim(s.first_name || ' ' || s.last_name),"
            " s.email FROM link_suggestions g JOIN sf_records s ON s.id = g.sf_id "
            "WHERE g.apollo_id = ? ORDER BY g.score DESC LIMIT 5", (link["apollo_id"],)).fetchall()
        out += [Suggestion(*r, other_system="salesforce") for r in rows]
    elif link["sf_id"]:
        rows = conn.execute(
            "SELECT g.apollo_id, g.sf_id, g.score, g.reason, trim(a.first_name || ' ' || a.last_name),"
            " a.email FROM link_suggestions g JOIN apollo_contacts a ON a.id = g.apollo_id "
            "WHERE g.sf_id = ? ORDER BY g.score DESC LIMIT 5", (link["sf_id"],)).fetchall()
        out += [Suggestion(*r, other_system="apollo") for r in rows]
    return out


def describe_edit(edit: EditTime) -> str:
    """When an email was set and how Concord knows, for a card."""
    if not edit.known:
        return "Email set at an unknown time"
    source = TIME_SOURCE_LABELS.get(edit.source.value, edit.source.value)
    latest = edit.latest.strftime("%Y-%m-%d %H:%M UTC")
    if edit.exact:
        return f"Email set {latest} · {source}"
    if edit.earliest is not None:
        return (f"Email set between {edit.earliest.strftime('%Y-%m-%d %H:%M')} and {latest} · "
                f"{source}")
    return f"Email set no later than {latest} · {source}"


# -- many pairs at once (reports) ------------------------------------------------------------

class PairFacts(NamedTuple):
    """What a report says about one pair: the records' fields, the base, both edit times and
    the decision (an agreeing pair, which has no decision row, is filled in as SAME)."""

    link_id: int
    apollo_id: str | None
    sf_id: str | None
    name: str
    company: str
    apollo_email: str | None
    sf_email: str | None
    sf_object: str | None
    apollo_email_status: str | None
    sf_bounced_at: str | None
    sf_bounce_reason: str | None
    base_email: str | None
    apollo_edit: EditTime
    sf_edit: EditTime
    native_winner: str
    native_email: str | None
    native_rule: str
    rec_winner: str
    rec_email: str | None
    rec_rule: str
    strength: str
    reason: str
    choice: str | None
    choice_email: str | None
    status: str
    error: str | None
    outcome: str | None  # pending | missed | none, when the cache records it
    due: str | None
    missed_cause: str | None


_OUTCOME_COLUMNS = ("outcome", "due", "missed_cause")


def _facts_sql(conn) -> str:
    present = {r[1] for r in conn.execute("PRAGMA table_info(decisions)")}
    outcome = ", ".join(f"d.{c}" if c in present else "NULL" for c in _OUTCOME_COLUMNS)
    return f"""
        SELECT r.link_id, l.apollo_id, l.sf_id,
            coalesce(d.name, trim(a.first_name || ' ' || a.last_name),
                     trim(s.first_name || ' ' || s.last_name), ''),
            coalesce(d.company, a.organization_name, s.company, ''),
            CASE WHEN d.link_id IS NULL THEN a.email ELSE d.apollo_email END,
            CASE WHEN d.link_id IS NULL THEN s.email ELSE d.sf_email END,
            coalesce(d.sf_object, s.object), a.email_status, s.bounced_at, s.bounce_reason,
            b.email,
            (SELECT max(h.changed_at) FROM sf_email_history h
             WHERE h.record_id = s.id AND h.new_key = s.email_key),
            oa.first_seen_at, oa.prior_seen_at, a.updated_at,
            os.first_seen_at, os.prior_seen_at, s.last_modified_at,
            d.link_id IS NOT NULL, d.native_winner, d.native_email, d.native_rule, d.rec_winner,
            d.rec_email, d.rec_rule, d.strength, d.reason, d.choice, d.choice_email, d.status,
            d.error, {outcome}
        FROM r JOIN links l ON l.link_id = r.link_id
        LEFT JOIN decisions d ON d.link_id = r.link_id
        LEFT JOIN apollo_contacts a ON a.id = l.apollo_id
        LEFT JOIN sf_records s ON s.id = l.sf_id
        LEFT JOIN base b ON b.apollo_id = l.apollo_id AND b.sf_id = l.sf_id
        LEFT JOIN observations oa ON oa.side = 'apollo' AND oa.record_id = a.id
             AND oa.email_key = a.email_key
        LEFT JOIN observations os ON os.side = 'salesforce' AND os.record_id = s.id
             AND os.email_key = s.email_key
        ORDER BY r.pos"""


def pair_facts(cache, link_ids: list[int] | None = None, *,
               positions: tuple[int, int] | None = None) -> list[PairFacts]:
    """:class:`PairFacts` for many pairs in one query: for ``link_ids`` in that order
    (missing ids are left out), or for the rows at 0-based inclusive ``positions`` of the
    list snapshot a :class:`core.store.pairs.ListReader` on the same cache holds. Edit times
    come from :func:`core.store.rows.edit_time`, as in the panel."""
    if positions is not None:
        sql = (f"WITH r AS (SELECT pos, link_id FROM temp.pair_rows WHERE pos BETWEEN "
               f"{int(positions[0]) + 1} AND {int(positions[1]) + 1}) {_facts_sql(cache.conn)}")
    elif link_ids:
        values = ", ".join(f"({pos}, {int(i)})" for pos, i in enumerate(link_ids))
        sql = f"WITH r(pos, link_id) AS (VALUES {values}) {_facts_sql(cache.conn)}"
    else:
        return []
    out = []
    for v in cache.conn.execute(sql):
        (link_id, apollo_id, sf_id, name, company, a_email, s_email, sf_object, status_a,
         bounced_at, bounce_reason, base_email, history_at, a_first, a_prior, a_stamp, s_first,
         s_prior, s_stamp, decided, *decision) = v
        if not decided:
            same = rules.same_decision(a_email, s_email)
            decision = [same.native.winner.value, same.native.email, same.native.rule,
                        same.recommendation.winner.value, same.recommendation.email,
                        same.recommendation.rule, same.recommendation.strength.value,
                        same.recommendation.reason, None, None, "in_sync", None, None, None, None]
        if base_email is None and apollo_id and sf_id and emails.same(a_email, s_email):
            base_email = s_email or a_email  # agreeing pairs keep no base row
        out.append(PairFacts(
            link_id, apollo_id, sf_id, name, company, a_email, s_email, sf_object, status_a,
            bounced_at, bounce_reason, base_email,
            edit_time(None, a_first, a_prior, a_stamp) if apollo_id else UNKNOWN_TIME,
            edit_time(history_at, s_first, s_prior, s_stamp) if sf_id else UNKNOWN_TIME,
            *decision))
    return out
