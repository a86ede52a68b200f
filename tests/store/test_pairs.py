"""The list's queries (core/store/pairs.py) on a generated, reconciled workspace: what the
window, the CLI and the reports read."""

import shutil

import pytest

from core.labels import MISSED_GLYPH, sync_glyph
from core.model import Outcome
from core.store.cache import Cache
from core.store.pairs import DIFFERING, EVERYTHING, ListReader, PairQuery


@pytest.fixture
def reader(generated, tmp_path):
    path = tmp_path / "cache.sqlite"
    shutil.copy(generated[0], path)
    with Cache(path) as cache:
        yield ListReader(cache), cache


def every_row(reader: ListReader, query: PairQuery) -> list:
    total = reader.snapshot(query, "t")
    return reader.page("t", 0, total) or []


@pytest.mark.parametrize("outcome", ["pending", "missed", "none"])
def test_the_outcome_filter_shows_exactly_the_pairs_with_that_outcome(reader, outcome):
    reader, cache = reader
    rows = every_row(reader, PairQuery(view=DIFFERING, outcome=outcome))
    expected = {r[0] for r in cache.conn.execute(
        "SELECT link_id FROM decisions WHERE outcome = ?", (outcome,))}
    assert expected, f"the generated workspace has {outcome} pairs"
    assert {row.link_id for row in rows} == expected
    assert {row.outcome for row in rows} == {outcome}


def test_agreeing_pairs_count_as_no_sync_action(reader):
    reader, cache = reader
    rows = every_row(reader, PairQuery(view=EVERYTHING, outcome="none"))
    agreeing = [row for row in rows if row.status == "in_sync"]
    assert agreeing and all(row.outcome == "none" for row in agreeing)


def test_counts_say_how_many_pairs_the_sync_will_act_on_and_missed(reader):
    reader, cache = reader
    counts = reader.counts()
    for outcome in ("pending", "missed"):
        assert counts[outcome] == cache.conn.execute(
            "SELECT count(*) FROM decisions WHERE outcome = ?", (outcome,)).fetchone()[0] > 0


def test_a_pending_salesforce_edit_is_in_flight(reader):
    reader, _ = reader
    rows = every_row(reader, PairQuery(view=EVERYTHING, outcome="pending"))
    assert any(row.in_flight for row in rows)
    assert all(row.in_flight == (row.native_winner == "salesforce") for row in rows)
    assert all(row.due for row in rows)


def test_an_unknown_outcome_is_refused():
    with pytest.raises(ValueError, match="unknown outcome"):
        PairQuery(outcome="soon")


@pytest.mark.parametrize("winner, outcome, glyph", [
    ("salesforce", Outcome.PENDING, "←"),  # Apollo will pull Salesforce's address
    ("apollo", Outcome.PENDING, "→"),  # Apollo will push its own
    ("salesforce", Outcome.MISSED, MISSED_GLYPH),  # stays different: no arrow promised
    ("apollo", Outcome.MISSED, MISSED_GLYPH),
    ("none", Outcome.NONE, ""),
    ("salesforce", Outcome.NONE, ""),
])
def test_the_sync_column_shows_a_direction_only_while_the_sync_will_act(winner, outcome, glyph):
    assert sync_glyph(winner, outcome) == glyph


def test_the_missed_view_lists_the_pairs_apollos_sync_missed(reader):
    from core.store.pairs import MISSED, VIEW_LABELS

    reader, cache = reader
    rows = every_row(reader, PairQuery(view=MISSED))
    expected = {r[0] for r in cache.conn.execute(
        "SELECT link_id FROM decisions WHERE outcome = 'missed'")}
    assert expected and {row.link_id for row in rows} == expected
    assert VIEW_LABELS[MISSED] == "Missed by Apollo's sync"
