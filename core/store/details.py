"""Everything the pair panel shows about one pair, read from the cache as plain data.

No Qt here (the difference is data): the panel only maps this to widgets and colours. The
email difference is :func:`core.emails.diff`'s segments, never recomputed by the view; edit
times are :func:`core.store.rows.edit_time` over the same evidence the engine used.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson

from core import emails, rules
from core.model import EditTime
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
