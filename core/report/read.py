"""Reading a report back, whatever its format: its column titles and its rows as text.

CSV cells are restored (:func:`core.report.cells.restore`), an XLSX workbook's rows sheet is
parsed as XML as it streams (shared or inline strings, Excel's ``_xHHHH_`` escapes), and an
HTML report's embedded JSON is decoded. Used by the delta and by tests; nothing is held in
memory whole except an HTML report's data.
"""

from __future__ import annotations

import csv
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

from core.report.cells import restore
from core.report.html import DATA_START
from core.report.rows import ReportError


class ReportFileError(ReportError):
    """The file is not a report Concord can compare with (the message says why)."""


def read_report(path: str | Path) -> tuple[list[str], Iterator[list[str]]]:
    """A report file's column titles and its rows (cells as text), whatever its format."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise ReportFileError(f"Cannot read {path}: {exc.strerror}") from None
    if head.startswith(b"PK"):
        return _read_xlsx(path)
    if b"<html" in head.lower() or head.lstrip().lower().startswith(b"<!doctype"):
        return _read_html(path)
    return _read_csv(path)


def _read_csv(path: Path):
    fh = open(path, encoding="utf-8-sig", newline="")
    reader = csv.reader(fh)
    try:
        titles = [restore(t) for t in next(reader)]
    except (StopIteration, UnicodeDecodeError, csv.Error):
        fh.close()
        raise ReportFileError(f"{path} is not a CSV report") from None

    def rows():
        with fh:
            for row in reader:
                yield [restore(v) for v in row]
    return titles, rows()


def _read_html(path: Path):
    text = path.read_text(encoding="utf-8", errors="replace")
    start = text.find(DATA_START)
    end = text.find("</script>", start)
    if start < 0 or end < 0:
        raise ReportFileError(f"{path} is not an HTML report of Concord")
    try:
        data = json.loads(text[start + len(DATA_START):end])
    except ValueError:
        raise ReportFileError(f"The data in {path} is damaged") from None
    del text

    shared = data.get("shared") or []

    def cell(c: int, v) -> str:
        if isinstance(v, int):
            return shared[c][v]
        return v if isinstance(v, str) else "".join(run[1] for run in v)

    return list(data["columns"]), ([cell(c, v) for c, v in enumerate(row)] for row in data["rows"])


_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _unescape(text: str) -> str:
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def _column_number(ref: str) -> int:
    n = 0
    for ch in ref:
        if not ch.isalpha():
            break
        n = n * 26 + ord(ch.upper()) - 64
    return n - 1


def _read_xlsx(path: Path):
    try:
        book = zipfile.ZipFile(path)
        workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError):
        raise ReportFileError(f"{path} is not an Excel workbook") from None
    targets = {r.get("Id"): r.get("Target") for r in rels}
    sheets = {s.get("name"): targets.get(s.get(_REL)) for s in workbook.iter(f"{_NS}sheet")}
    target = sheets.get("Pairs") or sheets.get("Runs")
    if target is None:
        raise ReportFileError(f"{path} has no Pairs sheet")
    target = target.lstrip("/")
    member = target if target.startswith("xl/") else f"xl/{target}"
    shared: list[str] = []
    if "xl/sharedStrings.xml" in book.namelist():
        for _, si in ElementTree.iterparse(book.open("xl/sharedStrings.xml")):
            if si.tag == f"{_NS}si":
                shared.append(_unescape("".join(t.text or "" for t in si.iter(f"{_NS}t"))))
                si.clear()

    def value(c) -> str:
        kind = c.get("t")
        if kind == "inlineStr":
            return _unescape("".join(t.text or "" for t in c.iter(f"{_NS}t")))
        v = c.find(f"{_NS}v")
        if v is None or v.text is None:
            return ""
        if kind == "s":
            return shared[int(v.text)]
        if kind in (None, "n"):
            number = float(v.text)
            return str(int(number)) if number.is_integer() else v.text
        return _unescape(v.text)

    def rows():
        with book:
            for _, row in ElementTree.iterparse(book.open(member)):
                if row.tag != f"{_NS}row":
                    continue
                cells: list[str] = []
                for c in row.iter(f"{_NS}c"):
                    at = _column_number(c.get("r", "")) if c.get("r") else len(cells)
                    cells.extend([""] * (at - len(cells)))
                    cells.append(value(c))
                row.clear()
                yield cells

    it = rows()
    titles = next(it, None)
    if titles is None:
        raise ReportFileError(f"{path} has an empty Pairs sheet")
    return titles, it
