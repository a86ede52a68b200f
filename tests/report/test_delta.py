"""The delta against an earlier report: new, still open and resolved, from any format."""

import zipfile

import pytest

from core.report.delta import NEW, OPEN, RESOLVED, with_delta
from core.report.export import export
from core.report.read import ReportFileError, read_report
from core.report.rows import CONFLICT_COLUMNS, Report
from core.report.runs import RUN_COLUMNS

KEYS = [c.key for c in CONFLICT_COLUMNS]


def row(apollo_id: str, sf_id: str, name: str) -> list[str]:
    cells = {"apollo_id": apollo_id, "sf_id": sf_id, "name": name,
             "apollo_email": f"{name.lower()}@a.example", "sf_email": f"{name.lower()}@s.example"}
    return [cells.get(k, "") for k in KEYS]


EARLIER = [row("a1", "s1", "Gone"), row("a2", "s2", "Stays"), row("a3", "", "ApolloOnly"),
           row("", "s4", "SalesforceOnly"), row("=a9", "-s9", "Formula ids")]
LATER = [row("a2", "s2", "Stays"), row("a3", "", "ApolloOnly"), row("a5", "s5", "Arrives"),
         row("=a9", "-s9", "Formula ids")]
EXPECTED = {"Stays": OPEN, "ApolloOnly": OPEN, "Formula ids": OPEN, "Arrives": NEW,
            "Gone": RESOLVED, "SalesforceOnly": RESOLVED}


def report(rows) -> Report:
    return Report("conflicts", "Conflicts", list(CONFLICT_COLUMNS), list(rows), len(rows))


@pytest.mark.parametrize("earlier_fmt", ["csv", "xlsx", "html"])
@pytest.mark.parametrize("later_fmt", ["csv", "xlsx", "html"])
def test_rows_are_new_still_open_or_resolved(tmp_path, earlier_fmt, later_fmt):
    earlier = tmp_path / f"earlier.{earlier_fmt}"
    export(report(EARLIER), earlier_fmt, earlier)
    done = export(report(LATER), later_fmt, tmp_path / f"later.{later_fmt}", previous=earlier)
    assert dict(done.delta) == {NEW: 1, OPEN: 3, RESOLVED: 2}
    titles, rows = read_report(tmp_path / f"later.{later_fmt}")
    assert titles[0] == "Since previous report"
    got = {r[titles.index("Person")]: r[0] for r in rows}
    assert got == EXPECTED
    assert done.rows == len(EXPECTED)


def test_resolved_rows_keep_what_the_earlier_report_said(tmp_path):
    export(report(EARLIER), "csv", tmp_path / "earlier.csv")
    later = with_delta(report(LATER), tmp_path / "earlier.csv")
    resolved = [r for r in later.rows if r[0] == RESOLVED]
    email = [c.key for c in later.columns].index("apollo_email")
    assert [(r[later.index("name")], r[email]) for r in resolved] == [
        ("Gone", "gone@a.example"), ("SalesforceOnly", "salesforceonly@a.example")]


def test_the_counts_are_at_the_top_of_the_xlsx_and_the_html(tmp_path):
    export(report(EARLIER), "csv", tmp_path / "earlier.csv")
    export(report(LATER), "html", tmp_path / "later.html", previous=tmp_path / "earlier.csv")
    export(report(LATER), "xlsx", tmp_path / "later.xlsx", previous=tmp_path / "earlier.csv")
    head = (tmp_path / "later.html").read_text(encoding="utf-8").split("<h2>Rows</h2>")[0]
    assert "Since the previous report" in head
    assert "<b>1</b>new" in head and "<b>3</b>still open" in head and "<b>2</b>resolved" in head
    with zipfile.ZipFile(tmp_path / "later.xlsx") as book:
        summary = book.read("xl/worksheets/sheet1.xml").decode()
    assert "Since the previous report" in summary and "still open" in summary


def test_a_file_that_is_not_a_conflict_report_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("just some words\n")
    runs = Report("runs", "Runs", list(RUN_COLUMNS), [["1"] * len(RUN_COLUMNS)], 1)
    export(runs, "csv", tmp_path / "runs.csv")
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    for name in ("notes.txt", "runs.csv", "broken.xlsx", "missing.csv"):
        with pytest.raises(ReportFileError):
            with_delta(report(LATER), tmp_path / name)
