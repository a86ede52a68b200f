"""Every payload in every column, in all three formats: no formula anywhere, markup stays
text, and the original text comes back from each file."""

import csv
import json
import re
import zipfile

import pytest

from core.report.export import export
from core.report.html import DATA_START
from core.report.read import read_report
from core.report.rows import CONFLICT_COLUMNS, Report
from tests.report.payloads import PAYLOADS
from tests.report.test_cells import starts_a_formula


def payload_report() -> Report:
    """One row per payload, the payload in every column."""
    rows = [[p] * len(CONFLICT_COLUMNS) for p in PAYLOADS]
    return Report("conflicts", "Payloads", list(CONFLICT_COLUMNS), rows, len(rows))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    out = tmp_path_factory.mktemp("payloads")
    paths = {}
    for fmt in ("csv", "xlsx", "html"):
        paths[fmt] = out / f"report.{fmt}"
        export(payload_report(), fmt, paths[fmt])
    return paths


def test_no_csv_field_starts_a_formula(files):
    with open(files["csv"], encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert len(rows) == len(PAYLOADS) + 1
    risky = [field for row in rows for field in row if starts_a_formula(field)]
    assert risky == []


def test_the_xlsx_holds_no_formula_and_only_text_cells(files):
    with zipfile.ZipFile(files["xlsx"]) as book:
        sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/sheet")]
        xml = {n: book.read(n).decode("utf-8") for n in sheets}
        styles = book.read("xl/styles.xml").decode("utf-8")
    pairs = next(text for text in xml.values() if "Payloads" not in text and "<row r=\"84\"" in text)
    assert all("<f>" not in text and "<f " not in text for text in xml.values())
    kinds = set(re.findall(r'<c r="[A-Z]+\d+"(?: s="\d+")?(?: t="(\w+)")?', pairs))
    assert kinds == {"inlineStr"}  # every cell a string: no number, formula or error cell
    assert 'quotePrefix="1"' in styles  # risky cells stay text when edited in Excel


def test_openpyxl_reads_every_payload_back_as_text(files):
    import openpyxl
    from openpyxl.utils.escape import unescape  # Excel's _xHHHH_ escapes, as Excel reads them

    book = openpyxl.load_workbook(files["xlsx"])
    rows = list(book["Pairs"].iter_rows(min_row=2))
    assert len(rows) == len(PAYLOADS)
    for payload, row in zip(PAYLOADS, rows):
        assert [cell.data_type for cell in row] == ["s"] * len(CONFLICT_COLUMNS)
        assert [unescape(str(cell.value)) for cell in row] == [payload] * len(CONFLICT_COLUMNS)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "html"])
def test_the_original_text_comes_back_from_each_format(files, fmt):
    titles, rows = read_report(files[fmt])
    assert titles == [c.title for c in CONFLICT_COLUMNS]
    rows = list(rows)
    assert rows == [[p] * len(CONFLICT_COLUMNS) for p in PAYLOADS]


def test_html_escapes_every_payload(files):
    text = files["html"].read_text(encoding="utf-8")
    for payload in PAYLOADS:
        if any(ch in payload for ch in "<>&"):
            assert payload not in text
    # Only the template's two script elements exist: no payload opened or closed one.
    assert text.count("<script") == 2 and text.count("</script>") == 2
    data = text[text.index(DATA_START) + len(DATA_START):text.index("</script>")]
    assert json.loads(data)["rows"][0][0] == PAYLOADS[0]


def test_the_html_needs_nothing_from_the_network(files):
    text = files["html"].read_text(encoding="utf-8")
    assert "default-src 'none'" in text
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)
    assert "@import" not in text and "url(" not in text


@pytest.mark.xfail(strict=True, reason="XlsxWriter escapes only the first of two _xHHHH_ "
                   "sequences that share an underscore; Excel would show _x005FA")
def test_chained_escape_sequences_survive_xlsx(tmp_path):
    from tests.report.payloads import CHAINED_ESCAPES

    row = [CHAINED_ESCAPES] * len(CONFLICT_COLUMNS)
    export(Report("conflicts", "t", list(CONFLICT_COLUMNS), [row], 1), "xlsx", tmp_path / "r.xlsx")
    assert list(read_report(tmp_path / "r.xlsx")[1]) == [row]


def test_a_workbook_refuses_more_rows_than_a_sheet_holds(tmp_path, monkeypatch):
    from core.report import xlsx
    from core.report.rows import ReportError

    monkeypatch.setattr(xlsx, "MAX_ROWS", 3)
    rows = [["x"] * len(CONFLICT_COLUMNS)] * 4
    with pytest.raises(ReportError, match="at most 3 rows"):
        export(Report("conflicts", "t", list(CONFLICT_COLUMNS), rows, 4), "xlsx", tmp_path / "r.xlsx")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("limit", [0, 3, 5000])
def test_html_shares_repeated_cells_and_reads_back_the_same(tmp_path, monkeypatch, limit):
    from core.report import html

    monkeypatch.setattr(html, "DISTINCT_LIMIT", limit)
    rows = [[p] * len(CONFLICT_COLUMNS) for p in PAYLOADS * 2]
    export(Report("conflicts", "t", list(CONFLICT_COLUMNS), rows, len(rows)), "html",
           tmp_path / "r.html")
    text = (tmp_path / "r.html").read_text(encoding="utf-8")
    data = json.loads(text[text.index(DATA_START) + len(DATA_START):text.index("</script>")])
    numbers = sum(isinstance(v, int) for row in data["rows"] for v in row)
    assert (numbers > 0) == (limit > 0)
    assert list(read_report(tmp_path / "r.html")[1]) == rows
