"""A report holds exactly the pairs the window lists for the same filter, and says of each
what the panel says."""

import csv

import pytest

from core import rules
from core.report.export import export
from core.report.read import read_report
from core.report.rows import CONFLICT_COLUMNS, conflict_report, edit_text, rule_text
from core.store.cache import Cache
from core.store.details import load_details, pair_facts
from core.store.pairs import ListReader, PairQuery
from core.sync.reconcile import Cancelled, reconcile
from tests.builders import contact, load, sf

TITLE = {c.key: c.title for c in CONFLICT_COLUMNS}


def listed(cache, query) -> list[tuple]:
    """(Apollo id, Salesforce id, name, Apollo email) of the window's list, in its order."""
    reader = ListReader(cache)
    total = reader.snapshot(query, "t")
    rows = reader.page("t", 0, total + 1)
    ids = dict(((l, (a, s)) for l, a, s in cache.conn.execute(
        "SELECT link_id, apollo_id, sf_id FROM links")))
    return [(*(x or "" for x in ids[r.link_id]), r.name, r.apollo_email or "") for r in rows]


def reported(cache, query) -> list[tuple]:
    report = conflict_report(cache, query, batch=97)  # batches cut through the list
    k = [report.index(key) for key in ("apollo_id", "sf_id", "name", "apollo_email")]
    return [tuple(row[i] for i in k) for row in report.rows]


@pytest.mark.parametrize("query", [
    PairQuery(),                                            # the window's default view
    PairQuery(view="differing"),
    PairQuery(view="all", sort="name"),                     # agreeing pairs too, sorted
    PairQuery(view="differing", rule=rules.Q_BOUNCED),
    PairQuery(view="differing", strength="review", sort="company", descending=True),
    PairQuery(view="chosen"),
    PairQuery(view="differing", text="gmail"),              # the list's in-memory search
    PairQuery(view="all", text="zz-no-such-text"),
])
def test_the_report_lists_the_windows_pairs_in_its_order(generated_cache, query):
    with Cache(generated_cache) as cache:
        expected = listed(cache, query)
        assert reported(cache, query) == expected
        assert expected or query.text


def test_each_rows_facts_are_the_panels(generated_cache):
    with Cache(generated_cache) as cache:
        ids = [r[0] for r in cache.conn.execute(
            "SELECT link_id FROM links ORDER BY link_id DESC LIMIT 400")]
        for facts in pair_facts(cache, ids):
            details = load_details(cache, facts.link_id)
            assert facts.base_email == details.base_email
            assert facts.native_rule == details.decision["native_rule"]
            assert facts.reason == details.decision["reason"]
            if details.apollo:
                assert facts.apollo_edit == details.apollo.edit
                assert facts.apollo_email_status == details.apollo.record["email_status"]
            if details.salesforce:
                assert facts.sf_edit == details.salesforce.edit
                assert facts.sf_bounced_at == details.salesforce.record["bounced_at"]


def test_rules_are_written_in_plain_words_with_their_code(generated_cache):
    with Cache(generated_cache) as cache:
        report = conflict_report(cache, PairQuery(view="differing", rule=rules.LAST_EDIT))
        rows = list(report.rows)
    assert rows
    assert {row[report.index("native_rule")] for row in rows} <= {
        rule_text(r) for r in rules.ALL_RULES}
    assert "Latest edit wins (LAST_EDIT)" in {row[report.index("native_rule")] for row in rows}
    assert sum(report.tally.values()) == len(rows)


def test_choices_and_edit_times_are_reported(generated_cache):
    with Cache(generated_cache) as cache:
        rows = list(conflict_report(cache, PairQuery(view="chosen")).rows)
        skipped = list(conflict_report(cache, PairQuery(view="skipped")).rows)
    choice = [c.key for c in CONFLICT_COLUMNS].index("choice")
    assert [r[choice] for r in rows] == ["keep Apollo's address (write it to Salesforce)"] * 2
    assert [r[choice] for r in skipped] == ["skip this pair"]
    sources = [c.key for c in CONFLICT_COLUMNS].index("sf_edit_source")
    assert all(r[sources] for r in rows)


def test_a_cancelled_report_stops_and_leaves_no_file(generated_cache, tmp_path):
    import threading

    cancel = threading.Event()
    cancel.set()
    with Cache(generated_cache) as cache:
        report = conflict_report(cache, PairQuery(view="all"), cancel=cancel, batch=50)
        with pytest.raises(Cancelled):
            export(report, "csv", tmp_path / "r.csv")
    assert list(tmp_path.iterdir()) == []


NAMES = [("=HYPERLINK(\"http://example.invalid\")", "-Jo", "+Acme", "=1+1@x.com", "jo@acme.com"),
         ("Zoë", "Łukasiewicz", "Bücher & Co", "jörg@bücher.example", "joerg@buecher.example"),
         ("名前", "太郎", "例え株式会社", "taro@例え.jp", "taro@example.jp"),
         ("@Ann", "\tTab", "<b>Bold</b>", "-ann@x.com", "ann@x.com")]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "html"])
def test_payload_and_unicode_records_survive_the_whole_pipeline(tmp_path, fmt):
    with Cache(tmp_path / "cache.sqlite") as cache:
        load(cache, [contact(f"a{i}", a_email, sf=f"003{i}", first=first, last=last, org=org)
                     for i, (first, last, org, a_email, _) in enumerate(NAMES)],
             [sf(f"003{i}", "Contact", s_email, first=first, last=last, company=org)
              for i, (first, last, org, _, s_email) in enumerate(NAMES)])
        reconcile(cache)
        export(conflict_report(cache, PairQuery(view="differing")), fmt, tmp_path / f"r.{fmt}")
    titles, rows = read_report(tmp_path / f"r.{fmt}")
    got = {r[titles.index("Apollo id")]: r for r in rows}
    for i, (first, last, org, a_email, s_email) in enumerate(NAMES):
        row = got[f"a{i}"]
        assert row[titles.index("Person")] == f"{first} {last}".strip()
        assert row[titles.index("Company")] == org
        assert row[titles.index("Apollo email")] == a_email
        assert row[titles.index("Salesforce email")] == s_email.lower()


def test_edit_text_says_how_precise_a_time_is():
    from datetime import datetime, timezone

    from core.model import EditTime, TimeSource

    t1 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
    t2 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    assert edit_text(EditTime(t1, t1, TimeSource.HISTORY)) == "2026-03-01 09:00"
    assert edit_text(EditTime(t1, t2, TimeSource.OBSERVATION)) == "2026-03-01 09:00 – 2026-03-02 09:00"
    assert edit_text(EditTime(None, t2, TimeSource.RECORD)) == "≤ 2026-03-02 09:00"
    assert edit_text(EditTime(None, None, TimeSource.UNKNOWN)) == ""


def test_bom_is_written_on_request(tmp_path, generated_cache):
    with Cache(generated_cache) as cache:
        export(conflict_report(cache, PairQuery(view="conflict")), "csv", tmp_path / "a.csv", bom=True)
        export(conflict_report(cache, PairQuery(view="conflict")), "csv", tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_bytes().startswith(b"\xef\xbb\xbfPerson,")
    assert (tmp_path / "b.csv").read_bytes().startswith(b"Person,")
    with open(tmp_path / "a.csv", encoding="utf-8-sig", newline="") as fh:
        assert next(csv.reader(fh))[0] == "Person"


def test_facts_follow_the_current_email_through_several_observations(tmp_path):
    """Records seen with three emails over three pulls: the report's edit times are those of
    the current email, one row per pair (as the panel shows)."""
    with Cache(tmp_path / "cache.sqlite") as cache:
        for n, when in enumerate(("2026-01-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z",
                                  "2026-03-01T00:00:00.000Z")):
            load(cache, [contact("a1", f"jo{n}@acme.com", sf="0031", updated=when),
                         contact("a2", "ann@acme.com", sf="0032", updated=when)],
                 [sf("0031", "Contact", "jo@acme.com"),
                  sf("0032", "Contact", f"ann{n}@acme.com",
                     modified=when.replace(".000Z", ".000+0000"))], when=when)
        reconcile(cache)
        ids = [r[0] for r in cache.conn.execute("SELECT link_id FROM links ORDER BY link_id")]
        facts = pair_facts(cache, ids)
        assert [f.link_id for f in facts] == ids
        for f in facts:
            details = load_details(cache, f.link_id)
            assert (f.apollo_edit, f.sf_edit) == (details.apollo.edit, details.salesforce.edit)
        assert cache.conn.execute("SELECT count(*) FROM observations WHERE record_id = 'a1'"
                                  ).fetchone()[0] >= 2  # the situation this test is about


@pytest.mark.parametrize("apollo, salesforce, apollo_runs, sf_runs", [
    ("khill@anchor.fr", "khill@newanchor.fr", [(False, "khill@anchor.fr")],
     [(False, "khill@"), (True, "new"), (False, "anchor.fr")]),
    ("jo@acme.com", "joe@acme.com", [(False, "jo@acme.com")],
     [(False, "jo"), (True, "e"), (False, "@acme.com")]),
    ("ann@a.com", "bob@b.com", None, None),          # most of it differs: marked, all text kept
    ("Jo@Acme.com", "jo@acme.com", [(False, "Jo@Acme.com")], [(False, "jo@acme.com")]),  # case only
    ("", "jo@acme.com", [(False, "")], [(False, "jo@acme.com")]),  # a blank is not compared
])
def test_the_differing_part_of_two_emails_is_marked(apollo, salesforce, apollo_runs, sf_runs):
    from core.report.rows import Report

    report = Report("conflicts", "t", list(CONFLICT_COLUMNS), [], 0)
    row = [""] * len(CONFLICT_COLUMNS)
    a, s = report.index("apollo_email"), report.index("sf_email")
    row[a], row[s] = apollo, salesforce
    compared = report.compared()
    got_a, got_s = report.marked(row, a, compared), report.marked(row, s, compared)
    assert "".join(t for _, t in got_a) == apollo and "".join(t for _, t in got_s) == salesforce
    if apollo_runs is not None:
        assert (got_a, got_s) == (apollo_runs, sf_runs)
    else:
        assert any(flag for flag, _ in got_a) and any(flag for flag, _ in got_s)
    for runs in (got_a, got_s):  # neighbouring runs always differ in their mark
        assert all(x[0] != y[0] for x, y in zip(runs, runs[1:]))


def test_the_sync_outcome_and_due_time_are_reported_when_the_cache_has_them(tmp_path):
    with Cache(tmp_path / "cache.sqlite") as cache:
        load(cache, [contact("a1", "jo@acme.com", sf="0031"), contact("a2", "ann@acme.com", sf="0032")],
             [sf("0031", "Contact", "joe@acme.com"), sf("0032", "Contact", "anna@acme.com")])
        reconcile(cache)
        cache.conn.execute("UPDATE decisions SET outcome = 'pending', due = '2026-03-01T09:30:00.000Z' "
                           "WHERE apollo_email = 'jo@acme.com'")
        cache.conn.execute("UPDATE decisions SET outcome = 'missed', missed_cause = 'duplicate', "
                           "due = NULL WHERE apollo_email = 'ann@acme.com'")
        report = conflict_report(cache, PairQuery(view="differing"))
        after = {row[report.index("apollo_id")]: row for row in report.rows}
    assert after["a1"][report.index("outcome")] == "Apollo's sync will act"
    assert after["a1"][report.index("due")] == "2026-03-01 09:30"
    assert after["a2"][report.index("outcome")] == (
        "Missed by Apollo's sync: another Salesforce record holds the same address")


def test_every_report_says_which_concord_wrote_it(tmp_path):
    from core import __version__
    from core.report.runs import runs_report

    with Cache(tmp_path / "cache.sqlite") as cache:
        for report in (conflict_report(cache, PairQuery(view="differing")), runs_report(cache)):
            assert ("Concord", __version__) in report.about
