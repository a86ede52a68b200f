"""The list of pairs as SQL: filters, sort orders, snapshots and pages (no Qt here).

The window shows up to a million pairs, so the list is never loaded whole. A query
(:class:`PairQuery`) is turned into one ``SELECT link_id ... ORDER BY`` whose result is
materialised once, in display order, as the reader connection's ``temp.pair_rows`` (row
position → link id). Pages of rows are then read by position, which costs the same at the
top of the list as at the bottom. The first page of a new query is read straight from the
selecting statement with ``LIMIT`` (SQLite stops early), so the window repaints before the
whole snapshot exists.

Substring search over names, companies and both emails uses :class:`core.store.search.SearchText`,
the pairs' text held in memory and scanned with ``str.find`` (much faster than ``LIKE`` over
the wide decisions table). Its matching link ids go to ``temp.pair_hits`` and the query
joins them with the decisions for the other filters and the sort. It is built in chunks in
the background and lives only in the reader, so the engine's tables carry no extra index or
trigger for it. Until it is ready, and for views that include agreeing pairs, search falls
back to ``LIKE`` over the rows.

Everything here runs on the reader thread with its own :class:`core.store.cache.Cache`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import NamedTuple

from core import rules
from core.labels import STATUS_LABELS
from core.model import ATTENTION_STATUSES, DecisionStatus, Outcome, Side
from core.store.cache import chunked
from core.store.search import SearchText

PAGE = 256  # rows per page (fetch unit) and the size of a query's first page
SEARCH_CHUNK = 50_000  # decisions rows read into the search text per background step
HIT_BATCH = 4096  # matches looked up for a first page in link order

# Views of the status filter. "attention" is the working list: everything not settled.
ATTENTION = "attention"
DIFFERING = "differing"
EVERYTHING = "all"
MISSED = "missed"  # the pairs Apollo's sync had its chance at and did not act on
VIEWS = (ATTENTION, DIFFERING, MISSED, *STATUS_LABELS, EVERYTHING)
VIEW_LABELS = {ATTENTION: "Needs attention", DIFFERING: "All differing pairs",
               MISSED: "Missed by Apollo's sync", **STATUS_LABELS,
               EVERYTHING: "Every pair (in sync too)"}
STRENGTHS = ("strong", "medium", "review", "none")
RULES = rules.ALL_RULES

# Sort keys, one per sortable column of the list.
SORT_KEYS = ("name", "company", "apollo_email", "direction", "sf_email", "rule", "strength",
             "status")
_STATUS_ORDER = (DecisionStatus.CONFLICT, DecisionStatus.FAILED, DecisionStatus.OPEN, DecisionStatus.CHOSEN, DecisionStatus.SKIPPED, DecisionStatus.APPLIED, DecisionStatus.IN_SYNC)


def _case(column: str, order) -> str:
    whens = " ".join(f"WHEN '{v}' THEN {i}" for i, v in enumerate(order))
    return f"CASE {column} {whens} ELSE {len(order)} END"


def _sort_sql(key: str | None, alias: str) -> str:
    x = alias
    return {
        None: f"{x}.link_id",
        "name": f"{x}.name COLLATE NOCASE",
        "company": f"{x}.company COLLATE NOCASE",
        "apollo_email": f"{x}.apollo_email COLLATE NOCASE",
        "sf_email": f"{x}.sf_email COLLATE NOCASE",
        "direction": f"coalesce({x}.choice, {x}.rec_winner)",
        "rule": f"{x}.rec_rule",
        "strength": _case(f"{x}.strength", STRENGTHS),
        "status": _case(f"{x}.status", _STATUS_ORDER),
    }[key]


@dataclass(frozen=True)
class PairQuery:
    """What the list shows: a status view, optional rule and strength, text, and a sort."""

    view: str = ATTENTION
    rule: str | None = None
    strength: str | None = None
    outcome: str | None = None  # what Apollo's sync does next: pending | missed | none
    text: str = ""
    sort: str | None = None  # one of SORT_KEYS; None = the order the engine linked pairs in
    descending: bool = False

    def __post_init__(self):
        if self.view not in VIEWS:
            raise ValueError(f"unknown view {self.view!r}")
        if self.sort is not None and self.sort not in SORT_KEYS:
            raise ValueError(f"unknown sort key {self.sort!r}")
        if self.outcome is not None and self.outcome not in {o.value for o in Outcome}:
            raise ValueError(f"unknown outcome {self.outcome!r}")

    @property
    def needs_agreeing(self) -> bool:
        """Whether agreeing pairs (which have no decision row) belong in this view."""
        return self.view in (DecisionStatus.IN_SYNC, EVERYTHING)

    def with_(self, **changes) -> "PairQuery":
        return replace(self, **changes)


# Agreeing pairs have no decision row: the two-sided links without one, shown as SAME.
_UNION_SOURCE = f"""(
    SELECT link_id, name, company, apollo_email, sf_email, rec_rule, native_rule, strength,
           status, choice, rec_winner, outcome FROM decisions
    UNION ALL
    SELECT l.link_id, trim(a.first_name || ' ' || a.last_name), a.organization_name, a.email,
           s.email, '{rules.SAME}', '{rules.SAME}', 'none', '{DecisionStatus.IN_SYNC}', NULL, 'none',
           'none'
    FROM links l JOIN apollo_contacts a ON a.id = l.apollo_id JOIN sf_records s ON s.id = l.sf_id
    WHERE NOT EXISTS (SELECT 1 FROM decisions d WHERE d.link_id = l.link_id)
) p"""


def like(column: str, text: str) -> tuple[str, str]:
    """A ``LIKE`` test for a substring of ``column`` and its pattern.

    ``%``, ``_`` and ``\\`` in the text are escaped; the ``ESCAPE`` clause is added only
    then, because it makes SQLite's LIKE markedly slower on a million rows.
    """
    if any(c in text for c in "%_\\"):
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return f"{column} LIKE ? ESCAPE '\\'", f"%{escaped}%"
    return f"{column} LIKE ?", f"%{text}%"


def selection_sql(query: PairQuery, *, use_hits: bool) -> tuple[str, list]:
    """``SELECT link_id ...`` in display order for a query, and its parameters."""
    text = query.text.strip().lower()
    conds: list[str] = []
    params: list = []
    if query.needs_agreeing:
        alias, source = "p", _UNION_SOURCE
    elif text and use_hits:
        # The matching link ids are in temp.pair_hits (CROSS JOIN fixes the join order).
        alias, source = "d", "temp.pair_hits h CROSS JOIN decisions d ON d.link_id = h.link_id"
        text = ""
    else:
        alias, source = "d", "decisions d"
    x = alias
    if query.view == ATTENTION:
        conds.append(f"{x}.status IN ({', '.join('?' * len(ATTENTION_STATUSES))})")
        params.extend(ATTENTION_STATUSES)
    elif query.view == MISSED:
        conds.append(f"{x}.outcome = 'missed'")
    elif query.view not in (DIFFERING, EVERYTHING):
        conds.append(f"{x}.status = ?")
        params.append(query.view)
    if query.outcome:
        conds.append(f"{x}.outcome = ?")
        params.append(query.outcome)
    if query.rule:
        conds.append(f"({x}.rec_rule = ? OR {x}.native_rule = ?)")
        params.extend([query.rule, query.rule])
    if query.strength:
        conds.append(f"{x}.strength = ?")
        params.append(query.strength)
    if text:
        tests = [like(f"{x}.{c}", text) for c in ("name", "company", "apollo_email", "sf_email")]
        conds.append("(" + " OR ".join(test for test, _ in tests) + ")")
        params.extend(pattern for _, pattern in tests)
    where = f"WHERE {' AND '.join(conds)}" if conds else ""
    direction = "DESC" if query.descending else "ASC"
    # In link order through the hits, order by the table scanned first so SQLite streams the
    # rows and stops at LIMIT instead of sorting every match.
    order = "h.link_id" if query.sort is None and "pair_hits" in source else _sort_sql(query.sort, x)
    tiebreak = f", {x}.link_id {direction}" if query.sort else ""
    return (f"SELECT {x}.link_id FROM {source} {where} ORDER BY {order} {direction}{tiebreak}",
            params)


class PairRow(NamedTuple):
    """One row of the list, as read from the cache (agreeing pairs filled in as SAME)."""

    link_id: int
    name: str
    company: str
    apollo_email: str | None
    sf_email: str | None
    sf_object: str | None
    native_winner: str
    native_rule: str
    rec_winner: str
    rec_rule: str
    strength: str
    choice: str | None
    choice_email: str | None
    status: str
    error: str | None
    reason: str
    outcome: str  # what Apollo's sync does next: pending | missed | none (core.model.Outcome)
    due: str | None  # pending: when the sync should have acted
    missed_cause: str | None  # missed: why, where the data tells (core.model.MissedCause)
    hints: str
    conflict: bool
    apollo_missing: bool
    sf_missing: bool

    @property
    def direction(self) -> str:
        """The direction that would be written: the user's choice, else the recommendation."""
        return self.choice or self.rec_winner

    @property
    def in_flight(self) -> bool:
        """A Salesforce edit Apollo's next pull will carry over."""
        return self.outcome == Outcome.PENDING and self.native_winner == Side.SALESFORCE

    @property
    def user_chose(self) -> bool:
        return self.choice is not None

    @property
    def one_sided(self) -> bool:
        return self.apollo_missing or self.sf_missing


_ROW_COLUMNS = f"""
    r.link_id,
    coalesce(d.name, trim(a.first_name || ' ' || a.last_name), ''),
    coalesce(d.company, a.organization_name, ''),
    CASE WHEN d.link_id IS NULL THEN a.email ELSE d.apollo_email END,
    CASE WHEN d.link_id IS NULL THEN s.email ELSE d.sf_email END,
    coalesce(d.sf_object, s.object),
    coalesce(d.native_winner, 'none'), coalesce(d.native_rule, '{rules.SAME}'),
    coalesce(d.rec_winner, 'none'), coalesce(d.rec_rule, '{rules.SAME}'),
    coalesce(d.strength, 'none'), d.choice, d.choice_email, coalesce(d.status, '{DecisionStatus.IN_SYNC}'),
    d.error, coalesce(d.reason, ''), coalesce(d.outcome, 'none'), d.due, d.missed_cause,
    coalesce(d.hints, ''),
    coalesce(d.conflict, 0), l.apollo_id IS NULL, l.sf_id IS NULL
"""
_ROW_JOINS = """
    LEFT JOIN decisions d ON d.link_id = r.link_id
    LEFT JOIN links l ON l.link_id = r.link_id
    LEFT JOIN apollo_contacts a ON d.link_id IS NULL AND a.id = l.apollo_id
    LEFT JOIN sf_records s ON d.link_id IS NULL AND s.id = l.sf_id
"""


def _row(values: tuple) -> PairRow:
    row = PairRow(*values)
    if row.native_rule == rules.SAME and row.status == DecisionStatus.IN_SYNC and row.reason == "":
        decision = rules.same_decision(row.apollo_email, row.sf_email)
        row = row._replace(reason=decision.recommendation.reason)
    return row._replace(conflict=bool(row.conflict),
                        apollo_missing=bool(row.apollo_missing), sf_missing=bool(row.sf_missing))


class ListReader:
    """The reader side of the list: snapshot, pages, search and counts on one Cache.

    Not thread-safe: one reader thread owns it (its temp tables are per connection).
    """

    def __init__(self, cache):
        self.cache = cache
        self.conn = cache.conn
        self.snapshot_token = None
        self.search = SearchText()
        self._search_epoch = 0
        self._hits: tuple[str, bool] | None = None  # (needle, complete) held in temp.pair_hits
        self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS pair_hits "
                          "(link_id INTEGER PRIMARY KEY)")

    @property
    def search_ready(self) -> bool:
        return self.search.ready

    # -- the search text ----------------------------------------------------------------------

    def reset_search(self) -> int:
        """Forget the search text (the decisions' text changed); returns the new epoch."""
        self.search = SearchText()
        self._hits = None
        self._search_epoch += 1
        return self._search_epoch

    def build_search_step(self, epoch: int) -> bool:
        """Read the next chunk of decisions into the search text; True while more remain."""
        if epoch != self._search_epoch or self.search.ready:
            return False
        rows = self.conn.execute(
            "SELECT link_id, lower(name || char(31) || company || char(31) || "
            "coalesce(apollo_email, '') || char(31) || coalesce(sf_email, '')) FROM decisions "
            "WHERE link_id > ? ORDER BY link_id LIMIT ?",
            (self.search.last_link_id, SEARCH_CHUNK)).fetchall()
        self.search.add(rows)
        if len(rows) < SEARCH_CHUNK:
            self.search.finish()
            return False
        return True

    def _uses_hits(self, query: PairQuery) -> bool:
        return bool(query.text.strip()) and self.search.ready and not query.needs_agreeing

    def _prepare_hits(self, query: PairQuery, limit: int | None = None) -> bool:
        """Put the link ids matching the query's text in ``temp.pair_hits`` (the first
        ``limit`` of them, or all); returns whether more may exist."""
        needle = query.text.strip().lower()
        if self._hits is not None and self._hits[0] == needle and (self._hits[1] or limit):
            return not self._hits[1]
        ids, more = self.search.find(needle, limit)
        self.conn.execute("DELETE FROM temp.pair_hits")
        self.conn.executemany("INSERT INTO temp.pair_hits (link_id) VALUES (?)",
                              ((i,) for i in ids))
        self._hits = (needle, not more)
        return more

    # -- snapshots and pages ---------------------------------------------------------------------

    def first_page(self, query: PairQuery) -> tuple[list[PairRow], bool]:
        """The first page of a query, read with ``LIMIT``; True when it is the whole result."""
        if self._uses_hits(query):
            # In link order a few thousand matches usually fill the page; sorted, all are needed.
            more = self._prepare_hits(query, HIT_BATCH if query.sort is None else None)
            ids = self._select(query, PAGE)
            if len(ids) < PAGE and more:
                self._prepare_hits(query)
                ids = self._select(query, PAGE)
        else:
            ids = self._select(query, PAGE)
        return self.rows_for(ids), len(ids) < PAGE

    def _select(self, query: PairQuery, limit: int) -> list[int]:
        sql, params = selection_sql(query, use_hits=self._uses_hits(query))
        return [r[0] for r in self.conn.execute(f"{sql} LIMIT {limit}", params).fetchall()]

    def snapshot(self, query: PairQuery, token) -> int:
        """Materialise the whole query in display order; returns the number of rows."""
        uses_hits = self._uses_hits(query)
        if uses_hits:
            self._prepare_hits(query)
        sql, params = selection_sql(query, use_hits=uses_hits)
        self.snapshot_token = None
        self.conn.execute("DROP TABLE IF EXISTS temp.pair_rows")
        self.conn.execute("CREATE TEMP TABLE pair_rows (pos INTEGER PRIMARY KEY, "
                          "link_id INTEGER NOT NULL)")
        self.conn.execute(f"INSERT INTO temp.pair_rows (link_id) {sql}", params)
        total = self.conn.execute("SELECT count(*) FROM temp.pair_rows").fetchone()[0]
        self.snapshot_token = token
        return total

    def page(self, token, start: int, count: int = PAGE) -> list[PairRow] | None:
        """Rows ``start`` .. ``start + count - 1`` of the snapshot ``token`` (None if stale)."""
        if token != self.snapshot_token:
            return None
        rows = self.conn.execute(
            f"SELECT {_ROW_COLUMNS} FROM temp.pair_rows r {_ROW_JOINS} "
            f"WHERE r.pos BETWEEN ? AND ? ORDER BY r.pos", (start + 1, start + count)).fetchall()
        return [_row(v) for v in rows]

    def link_ids(self, token, ranges: list[tuple[int, int]]) -> list[int] | None:
        """The link ids at inclusive row ranges of snapshot ``token`` (None if stale)."""
        if token != self.snapshot_token:
            return None
        out: list[int] = []
        for first, last in ranges:
            out.extend(r[0] for r in self.conn.execute(
                "SELECT link_id FROM temp.pair_rows WHERE pos BETWEEN ? AND ? ORDER BY pos",
                (first + 1, last + 1)))
        return out

    def rows_for(self, link_ids: list[int]) -> list[PairRow]:
        """Rows for link ids, in the given order (missing ids are left out)."""
        found: dict[int, PairRow] = {}
        for chunk in chunked(link_ids):
            values = ", ".join(f"({int(i)})" for i in chunk)
            for v in self.conn.execute(
                    f"WITH r(link_id) AS (VALUES {values}) SELECT {_ROW_COLUMNS} FROM r {_ROW_JOINS}"):
                found[v[0]] = _row(v)
        return [found[i] for i in link_ids if i in found]

    def stream(self, query: PairQuery, batch: int = 4096
               ) -> tuple[int, Iterator[tuple[int, int]]]:
        """The whole query snapshotted in display order, for a report: its number of rows and
        the 0-based inclusive position ranges to read it by, batch by batch (read them with
        :func:`core.store.details.pair_facts`). Text search uses the list's in-memory search."""
        if query.text.strip() and not query.needs_agreeing and not self.search.ready:
            epoch = self.reset_search()
            while self.build_search_step(epoch):
                pass
        token = ("stream", object())
        total = self.snapshot(query, token)

        def batches() -> Iterator[tuple[int, int]]:
            for start in range(0, total, batch):
                if self.snapshot_token is not token:
                    raise RuntimeError("the list was queried again while a report read it")
                yield start, min(start + batch, total) - 1
        return total, batches()

    # -- counts -----------------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Pairs per status across the whole cache (agreeing pairs counted as in sync)."""
        out = {s: 0 for s in _STATUS_ORDER}
        decided = 0
        for status, n in self.conn.execute("SELECT status, count(*) FROM decisions GROUP BY status"):
            out[status] = out.get(status, 0) + n
            decided += n
        links = self.conn.execute("SELECT count(*) FROM links").fetchone()[0]
        # Every one-sided link has a decision row, so the links without one agree.
        out[DecisionStatus.IN_SYNC] += max(0, links - decided)
        out["pairs"] = max(links, decided)
        out[ATTENTION] = sum(out[s] for s in ATTENTION_STATUSES)
        for outcome, n in self.conn.execute(
                "SELECT outcome, count(*) FROM decisions WHERE outcome != 'none' GROUP BY outcome"):
            out[outcome] = n
        for outcome in (Outcome.PENDING, Outcome.MISSED):
            out.setdefault(outcome.value, 0)
        return out
