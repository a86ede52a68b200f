"""The list model with no view: roles, filters, sorting, and lazy paging at a million rows."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from core import labels
from core.store.cache import Cache
from core.store.pairs import PAGE, ListReader, PairQuery, selection_sql
from gui.pair_model import (
    COLUMN_KEYS,
    DIRECTION_COLUMN,
    MAX_PAGES,
    DirectionRole,
    LinkIdRole,
    LoadedRole,
    PairTableModel,
    RowRole,
    StatusRole,
    UserChoiceRole,
)
from gui.tasks import TaskManager
from tests.gui.synth import synthesize, synthesize_lean


@pytest.fixture
def tasks(app, cache_path):
    manager = TaskManager(cache_path)
    yield manager
    manager.close()


def settle(qtbot, model: PairTableModel, timeout=15_000):
    qtbot.waitUntil(lambda: model.total is not None, timeout=timeout)
    return model.total


def cell(model, row: int, col: int, role=Qt.ItemDataRole.DisplayRole):
    """A cell's data through the model's own method (``QModelIndex.data`` returning None
    from Python code decrements None's refcount in PySide6 6.12, so tests avoid it)."""
    return model.data(model.index(row, col), role)


def column(key: str) -> int:
    return COLUMN_KEYS.index(key)


def test_roles_of_a_row_come_from_its_decision(qtbot, tasks, cache_path):
    # Given the model over a reconciled workspace
    model = PairTableModel(tasks)
    model.set_query(PairQuery())
    settle(qtbot, model)
    # When a row is read back through the roles
    link_id = cell(model, 0, 0, LinkIdRole)
    with Cache(cache_path) as cache:
        name, company, a_email, s_email, rec_winner, rec_rule, strength, status, reason = \
            cache.conn.execute("SELECT name, company, apollo_email, sf_email, rec_winner, rec_rule, "
                               "strength, status, reason FROM decisions WHERE link_id = ?",
                               (link_id,)).fetchone()
    row = cell(model, 0, 0, RowRole)
    # Then every column shows the decision's values
    assert cell(model, 0, column("name")) == name
    assert cell(model, 0, column("company")) == company
    assert cell(model, 0, column("apollo_email")) == (a_email or "(blank)")
    assert cell(model, 0, column("sf_email")) == (s_email or "(blank)")
    assert cell(model, 0, DIRECTION_COLUMN) == {"apollo": "→", "salesforce": "←"}.get(rec_winner, "?")
    assert cell(model, 0, column("rule")) == labels.rule_words(rec_rule)
    assert rec_rule in cell(model, 0, column("rule"), Qt.ItemDataRole.ToolTipRole)
    assert cell(model, 0, column("strength")).lower() in (strength, "—")
    assert cell(model, 0, column("status"), StatusRole) == status
    assert cell(model, 0, DIRECTION_COLUMN, DirectionRole) == rec_winner
    assert cell(model, 0, DIRECTION_COLUMN, UserChoiceRole) is None
    assert reason in cell(model, 0, column("rule"), Qt.ItemDataRole.ToolTipRole)
    assert row.link_id == link_id and cell(model, 0, 0, LoadedRole) is True
    # The recommendation is not bold: only the user's choice is
    assert cell(model, 0, DIRECTION_COLUMN, Qt.ItemDataRole.FontRole) is None


def test_user_choice_is_shown_distinctly(qtbot, tasks, cache_path):
    model = PairTableModel(tasks)
    model.set_query(PairQuery())
    settle(qtbot, model)
    link_id = cell(model, 3, 0, LinkIdRole)
    with Cache(cache_path) as cache:
        cache.conn.execute("UPDATE decisions SET choice = 'skip', status = 'skipped' "
                           "WHERE link_id = ?", (link_id,))
    model.refresh_links([link_id])
    qtbot.waitUntil(lambda: cell(model, 3, DIRECTION_COLUMN, UserChoiceRole) == "skip")
    assert cell(model, 3, DIRECTION_COLUMN) == "⊘"
    assert cell(model, 3, DIRECTION_COLUMN, Qt.ItemDataRole.FontRole).bold()
    assert cell(model, 3, DIRECTION_COLUMN, Qt.ItemDataRole.BackgroundRole) is not None
    assert "Your choice: skip" in cell(model, 3, DIRECTION_COLUMN, Qt.ItemDataRole.ToolTipRole)


def test_views_count_like_the_cache(qtbot, tasks, cache_path):
    model = PairTableModel(tasks)
    with Cache(cache_path) as cache:
        attention = cache.conn.execute("SELECT count(*) FROM decisions WHERE status IN "
                                       "('open','chosen','failed','conflict')").fetchone()[0]
        differing = cache.conn.execute("SELECT count(*) FROM decisions").fetchone()[0]
        links = cache.conn.execute("SELECT count(*) FROM links").fetchone()[0]
        in_sync_rows = cache.conn.execute("SELECT count(*) FROM decisions WHERE status = 'in_sync'"
                                          ).fetchone()[0]
    for query, expected in ((PairQuery(), attention), (PairQuery(view="differing"), differing),
                            (PairQuery(view="all"), links),
                            (PairQuery(view="in_sync"), links - differing + in_sync_rows)):
        model.set_query(query)
        assert settle(qtbot, model) == expected, query
        assert model.rowCount() == expected
    # Agreeing pairs show as SAME, with the engine's SAME reason
    model.set_query(PairQuery(view="in_sync"))
    settle(qtbot, model)
    row = cell(model, 0, 0, RowRole)
    assert row.rec_rule == "SAME" and row.reason.startswith("SAME:")
    assert cell(model, 0, DIRECTION_COLUMN) == "="


def test_text_rule_and_strength_filters(qtbot, tasks, cache_path):
    model = PairTableModel(tasks)
    with Cache(cache_path) as cache:
        company = cache.conn.execute("SELECT company FROM decisions WHERE status = 'open' "
                                     "LIMIT 1").fetchone()[0]
        needle = company.split()[0].lower()
        expected = cache.conn.execute(
            "SELECT count(*) FROM decisions WHERE status IN ('open','chosen','failed','conflict') "
            "AND (lower(name) LIKE ?1 OR lower(company) LIKE ?1 OR lower(apollo_email) LIKE ?1 "
            "OR lower(sf_email) LIKE ?1)", (f"%{needle}%",)).fetchone()[0]
        review = cache.conn.execute("SELECT count(*) FROM decisions WHERE strength = 'review' "
                                    "AND status IN ('open','chosen','failed','conflict')").fetchone()[0]
        last_edit = cache.conn.execute(
            "SELECT count(*) FROM decisions WHERE (rec_rule = 'LAST_EDIT' OR native_rule = 'LAST_EDIT')"
            " AND status IN ('open','chosen','failed','conflict')").fetchone()[0]
    model.set_query(PairQuery(text=needle.upper()))
    assert settle(qtbot, model) == expected
    for row in range(model.rowCount()):
        data = cell(model, row, 0, RowRole)
        text = " ".join(filter(None, (data.name, data.company, data.apollo_email, data.sf_email)))
        assert needle in text.lower()
    model.set_query(PairQuery(strength="review"))
    assert settle(qtbot, model) == review
    model.set_query(PairQuery(rule="LAST_EDIT"))
    assert settle(qtbot, model) == last_edit
    # A text that matches nothing empties the list
    model.set_query(PairQuery(text="no-such-text-anywhere"))
    assert settle(qtbot, model) == 0


def test_sorting_is_done_by_sql(qtbot, tasks):
    model = PairTableModel(tasks)
    model.set_query(PairQuery())
    settle(qtbot, model)
    model.sort(column("name"), Qt.SortOrder.AscendingOrder)
    settle(qtbot, model)
    names = [cell(model, r, column("name")) for r in range(min(PAGE, model.rowCount()))]
    nocase = lambda name: name.encode().lower()  # noqa: E731 (SQLite's NOCASE)
    assert names == sorted(names, key=nocase)
    model.sort(column("name"), Qt.SortOrder.DescendingOrder)
    settle(qtbot, model)
    names = [cell(model, r, column("name")) for r in range(min(PAGE, model.rowCount()))]
    assert names == sorted(names, key=nocase, reverse=True)
    model.sort(column("strength"), Qt.SortOrder.AscendingOrder)
    settle(qtbot, model)
    ranks = {"strong": 0, "medium": 1, "review": 2, "none": 3}
    strengths = [ranks[cell(model, r, 0, RowRole).strength] for r in range(model.rowCount())
                 if cell(model, r, 0, LoadedRole)]
    assert strengths == sorted(strengths)


def test_search_table_gives_the_same_rows_as_the_fallback(cache_path):
    with Cache(cache_path) as cache:
        reader = ListReader(cache)
        query = PairQuery(view="differing", text="a", sort="company")
        slow = [r.link_id for r in reader.first_page(query)[0]]
        epoch = reader.reset_search()
        while reader.build_search_step(epoch):
            pass
        assert reader.search_ready
        assert "pair_hits" in selection_sql(query, use_hits=True)[0]
        assert [r.link_id for r in reader.first_page(query)[0]] == slow


def test_like_wildcards_in_the_filter_are_literal(cache_path):
    with Cache(cache_path) as cache:
        reader = ListReader(cache)
        rows, complete = reader.first_page(PairQuery(view="all", text="%"))
        assert rows == [] and complete


def test_lazy_paging_at_a_million_rows(qtbot, app, tmp_path):
    # Given a million differing pairs (synthesised with SQL)
    path = tmp_path / "million.sqlite"
    with Cache(path) as cache:
        synthesize_lean(cache, 1_000_000)
        cache.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    tasks = TaskManager(path)
    try:
        model = PairTableModel(tasks)
        model.set_query(PairQuery(view="differing"))
        # The first page is shown before the full count is known (how fast: bench/gui.py)
        qtbot.waitUntil(lambda: model.rowCount() > 0, timeout=10_000)
        assert model.rowCount() == PAGE and model.total is None
        assert settle(qtbot, model, 20_000) == 1_000_000
        assert model.rowCount() == 1_000_000
        # Only what was asked for is held in memory
        assert model.loaded_rows() <= PAGE
        # A row at the bottom is fetched on demand
        bottom = (999_999, column("name"))
        assert cell(model, *bottom, LoadedRole) is False
        qtbot.waitUntil(lambda: cell(model, *bottom, LoadedRole), timeout=5_000)
        assert cell(model, *bottom) == "P1000000"
        # Touching many pages keeps at most MAX_PAGES of them
        for row in range(0, 1_000_000, 1_000_000 // (MAX_PAGES * 2)):
            cell(model, row, 0)
        qtbot.waitUntil(lambda: not model._pending, timeout=10_000)
        assert model.loaded_rows() <= MAX_PAGES * PAGE
        # Selecting everything resolves its link ids on the reader, not row by row here
        resolved = []
        model.resolve_link_ids([(0, 499_999), (500_000, 999_999)], resolved.append)
        assert resolved == []  # not answered on the UI thread
        qtbot.waitUntil(lambda: bool(resolved), timeout=20_000)
        assert len(resolved[0]) == 1_000_000
        # A filter narrows a million rows to the matching ones
        model.set_query(PairQuery(view="differing", text="P99999"))
        assert settle(qtbot, model, 20_000) == 11  # P99999 and P999990..P999999
    finally:
        tasks.close()


def test_synthesized_pairs_with_records(tmp_path):
    with Cache(tmp_path / "s.sqlite") as cache:
        synthesize(cache, 200, agreeing=100, records=True)
        reader = ListReader(cache)
        assert reader.counts()["pairs"] == 300
        assert reader.snapshot(PairQuery(view="all"), "t") == 300
        assert len(reader.page("t", 250, PAGE)) == 50
