"""Link Apollo contacts to Salesforce Leads/Contacts: ids first, then email, then suggestions.

1. **CRM ids** — the Salesforce id Apollo holds on the contact (Contact id before the generic
   id before the Lead id). A converted Lead is followed to its ``ConvertedContactId``.
2. **Email** — same comparison key; a Contact is preferred over a Lead for the same person,
   as Apollo's own dedupe does, and the Lead is flagged as the Contact's twin.
3. **Fuzzy** — name and company (blocked by email domain or company token, so it stays
   near-linear) are only *suggested* in ``link_suggestions``; never applied without the user.

Links keep their ids across runs (decisions and user choices hang off them). Manual links
are never touched. Matching runs over everything, or incrementally over the records that
changed since a given change number and those whose links they can affect.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from core.store.cache import Cache, chunked
from core.emails import GMAIL_DOMAINS

FREE_MAIL = frozenset(GMAIL_DOMAINS | {"yahoo.com", "outlook.com", "hotmail.com", "icloud.com",
                                       "aol.com", "proton.me", "protonmail.com", "gmx.de",
                                       "web.de", "live.com", "msn.com", "me.com"})
NAME_THRESHOLD = 88.0
COMPANY_THRESHOLD = 80.0
MAX_BLOCK = 400  # a block bigger than this is too generic to compare pairwise
_COMPANY_NOISE = frozenset("inc llc ltd gmbh ag sa co corp corporation group the and of "
                           "company limited plc bv srl".split())


@dataclass
class MatchCounts:
    """How many links of each kind the run produced or changed."""

    crm_id: int = 0
    email: int = 0
    apollo_only: int = 0
    sf_only: int = 0
    twins: int = 0
    converted_followed: int = 0
    suggestions: int = 0
    changed_links: int = 0
    removed_links: int = 0


_SCOPE_ALL = "1"
_SCOPE_APOLLO = "a.id IN (SELECT id FROM temp.dirty_apollo)"
# Contacts a person linked by hand (or confirmed from a suggestion) are never re-matched.
_NOT_PINNED = ("NOT EXISTS (SELECT 1 FROM links x WHERE x.apollo_id = a.id "
               "AND x.method IN ('manual', 'fuzzy'))")


def _pinned_clause(conn) -> str:
    """The 'not linked by hand' condition, or nothing when no link was made by hand."""
    pinned = conn.execute("SELECT EXISTS (SELECT 1 FROM links WHERE method IN ('manual', 'fuzzy'))")
    return _NOT_PINNED if pinned.fetchone()[0] else "1"


def match(cache: Cache, since_seq: int | None = None) -> MatchCounts:
    """Rebuild links for all records, or only for what changed after ``since_seq``.

    Runs in one transaction; returns counts. Link rows whose pair changed lose their
    decision, so the next decide pass recomputes it. On a cache with no automatic links
    yet (the first run) the links are written directly; otherwise the wanted links are
    collected and applied as differences, keeping link ids.
    """
    counts = MatchCounts()
    conn = cache.conn
    with cache.transaction():
        fresh = since_seq is None and conn.execute(
            "SELECT NOT EXISTS (SELECT 1 FROM links WHERE method NOT IN ('manual', 'fuzzy'))"
        ).fetchone()[0]
        target = "links" if fresh else "temp.want"
        if not fresh:
            conn.execute("DROP TABLE IF EXISTS temp.want")
            conn.execute("""CREATE TEMP TABLE want (
                apollo_id TEXT, sf_id TEXT, method TEXT NOT NULL, twin_id TEXT, note TEXT,
                agrees INTEGER NOT NULL DEFAULT 0)""")
            conn.execute("CREATE INDEX temp.want_apollo ON want(apollo_id)")
            conn.execute("CREATE INDEX temp.want_sf ON want(sf_id)")
        if since_seq is None:
            scope = _SCOPE_ALL
        else:
            _mark_dirty(conn, since_seq)
            scope = _SCOPE_APOLLO
        _twins(conn, since_seq is None)
        counts.crm_id, counts.converted_followed = _crm_links(conn, target, scope)
        counts.email = _email_links(conn, target, scope)
        counts.apollo_only = _apollo_only(conn, target, scope)
        counts.sf_only = _sf_only(conn, target, fresh, since_seq is None)
        if not fresh:
            _apply(conn, since_seq is None, counts)
            conn.execute("DROP TABLE temp.want")
        # Links made by hand are never re-matched, but whether their emails agree can change.
        conn.execute("""UPDATE links SET agrees = coalesce((SELECT a.email_key = s.email_key
            FROM apollo_contacts a, sf_records s WHERE a.id = links.apollo_id
            AND s.id = links.sf_id), 0) WHERE method IN ('manual', 'fuzzy')""")
        if since_seq is not None:
            _remember_rematched(conn)
        counts.twins = conn.execute(
            "SELECT count(*) FROM links WHERE twin_id IS NOT NULL").fetchone()[0]
        counts.suggestions = _suggest(conn, incremental=since_seq is not None)
        for table in ("dirty_apollo", "dirty_sf", "twins"):
            conn.execute(f"DROP TABLE IF EXISTS temp.{table}")
    return counts


def _mark_dirty(conn, since_seq: int) -> None:
    """The Apollo contacts and Salesforce records whose links may change."""
    conn.execute("DROP TABLE IF EXISTS temp.dirty_sf")
    conn.execute("CREATE TEMP TABLE dirty_sf (id TEXT PRIMARY KEY) WITHOUT ROWID")
    conn.execute("INSERT INTO temp.dirty_sf SELECT id FROM sf_records WHERE seq > ?", (since_seq,))
    conn.execute("DROP TABLE IF EXISTS temp.dirty_apollo")
    conn.execute("CREATE TEMP TABLE dirty_apollo (id TEXT PRIMARY KEY) WITHOUT ROWID")
    conn.execute("INSERT OR IGNORE INTO temp.dirty_apollo "
                 "SELECT id FROM apollo_contacts WHERE seq > ?", (since_seq,))
    # Contacts linked to a changed record, pointing at it, or sharing its (new) email.
    conn.execute("""INSERT OR IGNORE INTO temp.dirty_apollo
        SELECT l.apollo_id FROM temp.dirty_sf d CROSS JOIN links l ON l.sf_id = d.id
        WHERE l.apollo_id IS NOT NULL""")
    conn.execute("""INSERT OR IGNORE INTO temp.dirty_apollo
        SELECT a.id FROM temp.dirty_sf d CROSS JOIN apollo_contacts a ON a.salesforce_id = d.id""")
    for column in ("salesforce_contact_id", "salesforce_lead_id"):  # where they differ from it
        conn.execute(f"""INSERT OR IGNORE INTO temp.dirty_apollo
            SELECT a.id FROM temp.dirty_sf d CROSS JOIN apollo_contacts a
            ON a.{column} = d.id AND a.{column} IS NOT a.salesforce_id""")
    conn.execute("""INSERT OR IGNORE INTO temp.dirty_apollo
        SELECT a.id FROM temp.dirty_sf d CROSS JOIN sf_records s ON s.id = d.id
        JOIN apollo_contacts a ON a.email_key = s.email_key WHERE s.email_key != ''""")
    # Records still holding an email a Salesforce record moved away from (a Lead that was
    # that Contact's twin, an Apollo contact that matched it by email).
    conn.execute("""INSERT OR IGNORE INTO temp.dirty_sf
        SELECT s.id FROM vacated_emails v CROSS JOIN sf_records s ON s.email_key = v.email_key
        WHERE v.seq > ?""", (since_seq,))
    conn.execute("""INSERT OR IGNORE INTO temp.dirty_apollo
        SELECT a.id FROM vacated_emails v CROSS JOIN apollo_contacts a ON a.email_key = v.email_key
        WHERE v.seq > ?""", (since_seq,))
    # A changed Lead may stop (or start) being the twin noted on another pair's link.
    conn.execute("""INSERT OR IGNORE INTO temp.dirty_apollo
        SELECT l.apollo_id FROM temp.dirty_sf d CROSS JOIN links l ON l.twin_id = d.id
        WHERE l.apollo_id IS NOT NULL""")
    # A converted Lead points at its Contact: a changed Contact re-checks contacts of the Lead.
    conn.execute("""INSERT OR IGNORE INTO temp.dirty_apollo
        SELECT l.apollo_id FROM temp.dirty_sf d CROSS JOIN sf_records s ON s.converted_contact_id = d.id
        JOIN links l ON l.sf_id = s.id WHERE l.apollo_id IS NOT NULL""")
    # Records whose one-sided status may change: changed ones and those linked to dirty contacts.
    conn.execute("""INSERT OR IGNORE INTO temp.dirty_sf
        SELECT l.sf_id FROM temp.dirty_apollo d CROSS JOIN links l ON l.apollo_id = d.id
        WHERE l.sf_id IS NOT NULL""")


def _remember_rematched(conn) -> None:
    """Leave the links this incremental run looked at in ``temp.rematched`` for the decide pass."""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS rematched (link_id INTEGER PRIMARY KEY)")
    conn.execute("DELETE FROM temp.rematched")
    conn.execute("""INSERT OR IGNORE INTO temp.rematched SELECT l.link_id FROM temp.dirty_apollo d
                    CROSS JOIN links l ON l.apollo_id = d.id""")
    conn.execute("""INSERT OR IGNORE INTO temp.rematched SELECT l.link_id FROM temp.dirty_sf d
                    CROSS JOIN links l ON l.sf_id = d.id""")


def _twins(conn, full: bool) -> None:
    """Leads whose person also has a live Contact with the same email (Apollo links the
    Contact and ignores the Lead)."""
    conn.execute("DROP TABLE IF EXISTS temp.twins")
    conn.execute("CREATE TEMP TABLE twins (lead_id TEXT PRIMARY KEY, contact_id TEXT) WITHOUT ROWID")
    # Blank emails are excluded on both sides: a join of blanks to blanks is quadratic.
    # CROSS JOIN keeps the Leads outside (the planner, without statistics, may start from
    # the Contacts and probe every blank).
    pair = """SELECT l.id, c.id FROM {source}
        CROSS JOIN sf_records c ON c.email_key = l.email_key AND c.object = 'Contact'
                               AND c.is_deleted = 0 AND c.email_key != ''
        WHERE l.object = 'Lead' AND l.email_key != '' AND l.is_deleted = 0
        ORDER BY c.last_modified_at"""
    if full:
        conn.execute("INSERT OR REPLACE INTO temp.twins " + pair.format(source="sf_records l"))
        return
    # Changed Leads (and Leads of changed contacts), then Leads sharing a changed Contact's email.
    conn.execute("INSERT OR REPLACE INTO temp.twins " + pair.format(
        source="temp.dirty_sf d CROSS JOIN sf_records l ON l.id = d.id"))
    conn.execute("INSERT OR REPLACE INTO temp.twins " + pair.format(
        source="temp.dirty_sf d CROSS JOIN sf_records dc ON dc.id = d.id AND dc.object = 'Contact' "
               "AND dc.email_key != '' CROSS JOIN sf_records l ON l.email_key = dc.email_key"))


def _crm_links(conn, target: str, scope: str) -> tuple[int, int]:
    # The first id Apollo holds that exists (Contact id, then the generic id, then the Lead
    # id); a converted Lead is followed to its Contact; a Lead's Contact twin is noted.
    cur = conn.execute(f"""
        INSERT INTO {target} (apollo_id, sf_id, method, twin_id, note, agrees)
        SELECT a.id,
               CASE WHEN conv.id IS NOT NULL THEN conv.id ELSE s.id END,
               'crm_id',
               CASE WHEN conv.id IS NULL THEN t.contact_id END,
               CASE WHEN conv.id IS NOT NULL THEN 'followed converted Lead ' || s.id END,
               a.email_key = CASE WHEN conv.id IS NOT NULL THEN conv.email_key ELSE s.email_key END
        FROM apollo_contacts a
        JOIN sf_records s ON s.id = CASE
            WHEN EXISTS (SELECT 1 FROM sf_records x WHERE x.id = a.salesforce_contact_id
                         AND x.is_deleted = 0) THEN a.salesforce_contact_id
            WHEN EXISTS (SELECT 1 FROM sf_records x WHERE x.id = a.salesforce_id
                         AND x.is_deleted = 0) THEN a.salesforce_id
            ELSE a.salesforce_lead_id END
        LEFT JOIN sf_records conv ON s.is_converted = 1 AND conv.id = s.converted_contact_id
                                  AND conv.is_deleted = 0
        LEFT JOIN temp.twins t ON t.lead_id = s.id
        WHERE {scope} AND s.is_deleted = 0 AND {_pinned_clause(conn)}""")
    followed = conn.execute(f"SELECT count(*) FROM {target} WHERE method = 'crm_id' "
                            "AND note IS NOT NULL").fetchone()[0]
    return cur.rowcount, followed


def _email_links(conn, target: str, scope: str) -> int:
    # A Contact before a Lead (Apollo's only dedupe), then the most recently modified.
    cur = conn.execute(f"""
        INSERT INTO {target} (apollo_id, sf_id, method, twin_id, note, agrees)
        SELECT apollo_id, sf_id, 'email', twin_id,
               CASE WHEN same_object > 1 THEN same_object || ' Salesforce ' || object
                    || 's share this email' END, 1
        FROM (
            SELECT a.id AS apollo_id, s.id AS sf_id, s.object,
                   ROW_NUMBER() OVER w AS rank,
                   CASE WHEN s.object = 'Contact'
                        THEN MAX(CASE WHEN s.object = 'Lead' THEN s.id END) OVER p END AS twin_id,
                   CASE WHEN s.object = 'Contact' THEN SUM(s.object = 'Contact') OVER p
                        ELSE SUM(s.object = 'Lead') OVER p END AS same_object
            FROM apollo_contacts a
            CROSS JOIN sf_records s ON s.email_key = a.email_key AND s.email_key != ''
            WHERE {scope} AND a.email_key != '' AND s.is_deleted = 0 AND s.is_converted = 0
              AND NOT EXISTS (SELECT 1 FROM {target} w WHERE w.apollo_id = a.id)
              AND {_pinned_clause(conn)}
            WINDOW p AS (PARTITION BY a.id),
                   w AS (PARTITION BY a.id ORDER BY s.object = 'Contact' DESC,
                         s.last_modified_at DESC, s.id)
        ) WHERE rank = 1""")
    return cur.rowcount


def _apollo_only(conn, target: str, scope: str) -> int:
    cur = conn.execute(f"""
        INSERT INTO {target} (apollo_id, sf_id, method)
        SELECT a.id, NULL, 'apollo_only' FROM apollo_contacts a
        WHERE {scope} AND NOT EXISTS (SELECT 1 FROM {target} w WHERE w.apollo_id = a.id)
          AND {_pinned_clause(conn)}""")
    return cur.rowcount


def _sf_only(conn, target: str, fresh: bool, full: bool) -> int:
    """Unlinked live records. A converted Lead is represented by its Contact, and a Lead whose
    person has a Contact is ignored by Apollo (it pulls only the Contact)."""
    candidates = "sf_records s" if full else "temp.dirty_sf d CROSS JOIN sf_records s ON s.id = d.id"
    if fresh:
        linked = "EXISTS (SELECT 1 FROM links x WHERE x.sf_id = s.id AND x.apollo_id IS NOT NULL)"
    else:
        # Linked by a wanted link, or by a kept link of a contact outside this run's scope.
        linked = """(EXISTS (SELECT 1 FROM temp.want w WHERE w.sf_id = s.id AND w.apollo_id IS NOT NULL)
             OR EXISTS (SELECT 1 FROM links x WHERE x.sf_id = s.id AND x.apollo_id IS NOT NULL
                        AND (x.method IN ('manual', 'fuzzy')
                             OR NOT EXISTS (SELECT 1 FROM temp.want w2
                                            WHERE w2.apollo_id = x.apollo_id))))"""
    cur = conn.execute(f"""
        INSERT INTO {target} (apollo_id, sf_id, method)
        SELECT NULL, s.id, 'sf_only' FROM {candidates}
        WHERE s.is_deleted = 0 AND s.is_converted = 0
          AND NOT EXISTS (SELECT 1 FROM temp.twins t WHERE t.lead_id = s.id)
          AND NOT {linked}""")
    return cur.rowcount


def _apply(conn, full: bool, counts: MatchCounts) -> None:
    """Make ``links`` equal ``want`` within the scope; keep link ids; drop stale decisions."""
    auto = "links.method NOT IN ('manual', 'fuzzy')"
    # Pairs whose other side changed: update in place, forget the old decision.
    changed = conn.execute(f"""
        SELECT links.link_id FROM temp.want w JOIN links ON links.apollo_id = w.apollo_id
        WHERE {auto} AND links.sf_id IS NOT w.sf_id""").fetchall()
    conn.execute(f"""
        UPDATE links SET sf_id = w.sf_id, method = w.method, twin_id = w.twin_id, note = w.note,
                         agrees = w.agrees
        FROM temp.want w WHERE w.apollo_id = links.apollo_id AND {auto}
          AND (links.sf_id IS NOT w.sf_id OR links.method IS NOT w.method
               OR links.twin_id IS NOT w.twin_id OR links.note IS NOT w.note
               OR links.agrees IS NOT w.agrees)""")
    # Links in scope that are no longer wanted.
    if full:
        from_a, from_s = "links", "links"
    else:
        from_a = "temp.dirty_apollo d CROSS JOIN links ON links.apollo_id = d.id"
        from_s = "temp.dirty_sf d CROSS JOIN links ON links.sf_id = d.id"
    stale = conn.execute(f"""
        SELECT link_id FROM {from_a} WHERE {auto} AND links.apollo_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM temp.want w WHERE w.apollo_id = links.apollo_id)
        UNION
        SELECT link_id FROM {from_s} WHERE {auto} AND links.apollo_id IS NULL
          AND NOT EXISTS (SELECT 1 FROM temp.want w WHERE w.apollo_id IS NULL
                          AND w.sf_id = links.sf_id)""").fetchall()
    forget = changed + stale
    conn.executemany("DELETE FROM decisions WHERE link_id = ?", forget)
    conn.executemany("DELETE FROM links WHERE link_id = ?", stale)
    counts.changed_links = len(changed)
    counts.removed_links = len(stale)
    conn.execute("""
        INSERT INTO links (apollo_id, sf_id, method, twin_id, note, agrees)
        SELECT w.apollo_id, w.sf_id, w.method, w.twin_id, w.note, w.agrees FROM temp.want w
        WHERE (w.apollo_id IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM links WHERE links.apollo_id = w.apollo_id))
           OR (w.apollo_id IS NULL AND NOT EXISTS (
               SELECT 1 FROM links WHERE links.apollo_id IS NULL AND links.sf_id = w.sf_id))""")


# -- fuzzy suggestions -----------------------------------------------------------------------

def company_key(name: str) -> str:
    """A company name reduced for blocking: its significant words, lower-cased and sorted
    ("Acme Logistics, Inc." and "acme logistics" give the same key)."""
    return " ".join(sorted(w for w in re.findall(r"\w+", (name or "").lower())
                           if w not in _COMPANY_NOISE))


def _domain(email_key: str) -> str:
    domain = email_key.rpartition("@")[2]
    return "" if domain in FREE_MAIL else domain


def _blocks(last_name: str, company: str, email_key: str) -> list[str]:
    """Blocking keys: the work email domain, and the company with the surname's first letters.

    Only records sharing a key are compared, so the work grows with the number of unlinked
    records, not with its square. A person at the same company whose surname starts with
    other letters is not suggested (a typo there is rare; the rest stay comparable).
    """
    keys = []
    domain = _domain(email_key)
    if domain:
        keys.append("d:" + domain)
    company = company_key(company)
    surname = "".join(ch for ch in (last_name or "").lower() if ch.isalnum())[:3]
    if company and surname:
        keys.append(f"c:{company}:{surname}")
    return keys


_ONE_SIDED = {
    "apollo": """SELECT a.id, a.last_name, a.organization_name, a.email_key
        FROM links l JOIN apollo_contacts a ON a.id = l.apollo_id
        WHERE l.method = 'apollo_only' {only}""",
    "salesforce": """SELECT s.id, s.last_name, s.company, s.email_key
        FROM links l JOIN sf_records s ON s.id = l.sf_id WHERE l.method = 'sf_only' {only}""",
}
_DIRTY_ONLY = {"apollo": "AND a.id IN (SELECT id FROM temp.dirty_apollo)",
               "salesforce": "AND s.id IN (SELECT id FROM temp.dirty_sf)"}
# Pairs of one-sided records sharing a blocking key, leaving out keys too common to compare.
# ``keys`` is every key (a full run) or the keys of the records that changed.
_CANDIDATES = """
SELECT DISTINCT a.record_id, s.record_id, substr(k.key, 1, 1)
FROM {keys} k
CROSS JOIN link_blocks a ON a.key = k.key AND a.side = 'apollo'
CROSS JOIN link_blocks s ON s.key = k.key AND s.side = 'salesforce'
WHERE (SELECT count(*) FROM link_blocks c WHERE c.key = k.key AND c.side = 'salesforce')
      <= :max_block {only}
"""


def _suggest(conn, incremental: bool = False) -> int:
    """Suggest links between unlinked Apollo contacts and unlinked Salesforce records.

    Each one-sided record's blocking keys are kept in ``link_blocks``; records sharing a key
    are scored by name and company. A full run rebuilds everything; an incremental one
    refreshes the keys of the records that changed and scores only pairs involving them.
    """
    if incremental:
        dirty = "(SELECT id FROM temp.dirty_apollo UNION ALL SELECT id FROM temp.dirty_sf)"
        conn.execute(f"DELETE FROM link_blocks WHERE record_id IN {dirty}")
        conn.execute("DELETE FROM link_suggestions WHERE apollo_id IN (SELECT id FROM temp.dirty_apollo) "
                     "OR sf_id IN (SELECT id FROM temp.dirty_sf)")
    else:
        conn.execute("DELETE FROM link_blocks")
        conn.execute("DELETE FROM link_suggestions")
    for side, sql in _ONE_SIDED.items():
        rows = conn.execute(sql.format(only=_DIRTY_ONLY[side] if incremental else ""))
        conn.executemany("INSERT OR IGNORE INTO link_blocks (key, side, record_id) VALUES (?,?,?)",
                         [(key, side, record_id) for record_id, last, company, email_key in rows
                          for key in _blocks(last, company, email_key)])
    if incremental:
        keys = (f"(SELECT DISTINCT key FROM link_blocks WHERE record_id IN {dirty})")
        only = ("AND (a.record_id IN (SELECT id FROM temp.dirty_apollo) "
                "OR s.record_id IN (SELECT id FROM temp.dirty_sf))")
    else:
        keys, only = "(SELECT DISTINCT key FROM link_blocks)", ""
    candidates = conn.execute(_CANDIDATES.format(keys=keys, only=only),
                              {"max_block": MAX_BLOCK}).fetchall()
    found = _score(conn, candidates)
    conn.executemany(
        "INSERT OR REPLACE INTO link_suggestions (apollo_id, sf_id, score, reason) VALUES (?,?,?,?)",
        [(a, s, score, reason) for (a, s), (score, reason) in found.items()])
    return conn.execute("SELECT count(*) FROM link_suggestions").fetchone()[0]


def _names(conn, table: str, company: str, ids: set[str]) -> dict[str, tuple[str, str]]:
    """``id -> (full name, company)`` lower-cased, for the records being scored."""
    found = {}
    for chunk in chunked(ids):
        for record_id, first, last, org in conn.execute(
                f"SELECT id, first_name, last_name, {company} FROM {table} "
                f"WHERE id IN ({','.join('?' * len(chunk))})", chunk):
            found[record_id] = (f"{first} {last}".strip().lower(), (org or "").lower())
    return found


def _score(conn, candidates: list[tuple[str, str, str]]) -> dict[tuple[str, str], tuple[float, str]]:
    """Score candidate pairs ``(apollo id, salesforce id, 'd'|'c')`` by name and company."""
    apollo = _names(conn, "apollo_contacts", "organization_name", {c[0] for c in candidates})
    salesforce = _names(conn, "sf_records", "company", {c[1] for c in candidates})
    found: dict[tuple[str, str], tuple[float, str]] = {}
    for a_id, sf_id, kind in candidates:
        name, company = apollo[a_id]
        sf_name, sf_company = salesforce[sf_id]
        if not name:
            continue
        name_score = fuzz.token_sort_ratio(name, sf_name)
        if name_score < NAME_THRESHOLD:
            continue
        by_domain = kind == "d"
        company_score = 100.0 if by_domain else fuzz.token_set_ratio(company, sf_company)
        if company_score < COMPANY_THRESHOLD:
            continue
        score = round((name_score * 2 + company_score) / 3, 1)
        reason = f"names {name_score:.0f}% alike, {'same email domain' if by_domain else 'similar company'}"
        if score > found.get((a_id, sf_id), (0.0, ""))[0]:
            found[(a_id, sf_id)] = (score, reason)
    return found


def confirm_suggestion(cache: Cache, apollo_id: str, sf_id: str) -> int:
    """Turn a suggested link into a confirmed one; return its link id."""
    with cache.transaction():
        row = cache.conn.execute("SELECT 1 FROM link_suggestions WHERE apollo_id = ? AND sf_id = ?",
                                 (apollo_id, sf_id)).fetchone()
        if row is None:
            raise ValueError(f"no suggested link between {apollo_id} and {sf_id}")
        return _set_link(cache, apollo_id, sf_id, "fuzzy")


def link_manually(cache: Cache, apollo_id: str, sf_id: str) -> int:
    """Link two records by hand (kept across runs); return the link id."""
    with cache.transaction():
        return _set_link(cache, apollo_id, sf_id, "manual")


def _set_link(cache: Cache, apollo_id: str, sf_id: str, method: str) -> int:
    conn = cache.conn
    for table, key in (("apollo_contacts", apollo_id), ("sf_records", sf_id)):
        if conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", (key,)).fetchone() is None:
            raise ValueError(f"{key} is not in the cache")
    old = conn.execute("SELECT link_id FROM links WHERE apollo_id = ? OR "
                       "(apollo_id IS NULL AND sf_id = ?)", (apollo_id, sf_id)).fetchall()
    conn.executemany("DELETE FROM decisions WHERE link_id = ?", old)
    conn.executemany("DELETE FROM links WHERE link_id = ?", old)
    conn.execute("DELETE FROM link_suggestions WHERE apollo_id = ? OR sf_id = ?", (apollo_id, sf_id))
    conn.execute("DELETE FROM link_blocks WHERE record_id IN (?, ?)", (apollo_id, sf_id))
    cur = conn.execute(
        "INSERT INTO links (apollo_id, sf_id, method, confirmed, agrees) VALUES (?, ?, ?, 1, "
        "(SELECT a.email_key = s.email_key FROM apollo_contacts a, sf_records s "
        "WHERE a.id = ? AND s.id = ?))", (apollo_id, sf_id, method, apollo_id, sf_id))
    return cur.lastrowid
