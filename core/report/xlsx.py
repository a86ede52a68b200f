"""A report as an Excel workbook, written with XlsxWriter in constant-memory mode.

Two sheets: ``Summary`` (what the report is, the delta's counts, and rows by rule and
strength) and the rows (frozen header, autofilter, column widths). Every cell is written
with ``write_string`` (never ``write``, which would turn ``=...`` into a formula); a cell a
spreadsheet could read as a formula also carries Excel's quote prefix, so editing it later
keeps it text. The differing part of the two emails is marked with rich text.
"""

from __future__ import annotations

import re
from pathlib import Path

import xlsxwriter

from core.labels import STRENGTH_LABELS
from core.report.cells import is_risky
from core.report.rows import Report, ReportError, rule_text

SHEET_ROWS = "Pairs"
SHEET_RUNS = "Runs"
SUMMARY = "Summary"
MAX_ROWS = 1_048_575  # a worksheet's rows, less the header
# XlsxWriter escapes the text of rich-text runs twice (a control character or a literal
# ``_xHHHH_`` would then read back escaped), so such text is written without marks.
_NEEDS_ESCAPE = re.compile(r"[\x00-\x1f]|_x[0-9A-Fa-f]{4}_")
_OPTIONS = {"constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
            "strings_to_urls": False}


def write_xlsx(report: Report, path: str | Path) -> int:
    """Write ``report`` as a workbook at ``path``; returns the number of rows written."""
    wb = xlsxwriter.Workbook(str(path), _OPTIONS)
    try:
        summary = wb.add_worksheet(SUMMARY)
        sheet = wb.add_worksheet(SHEET_ROWS if report.kind == "conflicts" else SHEET_RUNS)
        bold = wb.add_format({"bold": True})
        header = wb.add_format({"bold": True, "bg_color": "#DCE6F1", "bottom": 1})
        plain = wb.add_format({})
        quoted = wb.add_format({"quote_prefix": True})
        mark = wb.add_format({"bold": True, "font_color": "#C00000", "underline": 1})
        columns = report.columns
        for c, column in enumerate(columns):
            sheet.set_column(c, c, column.width)
            sheet.write_string(0, c, column.title, header)
        sheet.freeze_panes(1, 0)
        # Email columns compared with each other: (column, other column, side of the diff).
        compare = report.compared()
        r = 0
        for r, row in enumerate(report.rows, start=1):
            if r > MAX_ROWS:
                raise ReportError(f"An Excel sheet holds at most {MAX_ROWS:,} rows and this "
                                  f"report has more; export it as CSV, or filter it.")
            for c, value in enumerate(row):
                if not value:
                    continue
                fmt = quoted if is_risky(value) else None
                if c in compare and not _NEEDS_ESCAPE.search(value):
                    runs = report.marked(row, c, compare)
                    if len(runs) > 1:
                        pieces = [p for flag, text in runs for p in (mark if flag else plain, text)]
                        sheet.write_rich_string(r, c, *pieces, fmt or plain)
                        continue
                sheet.write_string(r, c, value, fmt)
        sheet.autofilter(0, 0, max(r, 1), len(columns) - 1)
        _summary(summary, report, bold, header)
    finally:
        wb.close()
    return r


def _summary(ws, report: Report, bold, header) -> None:
    ws.set_column(0, 0, 46)
    ws.set_column(1, 6, 12)
    ws.write_string(0, 0, report.title, bold)
    row = 2
    for label, text in report.about:
        ws.write_string(row, 0, label, bold)
        ws.write_string(row, 1, text, None)
        row += 1
    if report.delta is not None:
        row += 1
        ws.write_string(row, 0, "Since the previous report", bold)
        row += 1
        for label, n in report.delta.items():
            ws.write_string(row, 0, label)
            ws.write_number(row, 1, n)
            row += 1
    if not report.tally:
        return
    row += 1
    strengths = [s.value for s in STRENGTH_LABELS]
    ws.write_string(row, 0, "Rule of the recommendation", header)
    for c, s in enumerate(strengths, start=1):
        ws.write_string(row, c, STRENGTH_LABELS[s] if s != "none" else "None", header)
    ws.write_string(row, len(strengths) + 1, "Total", header)
    rules = sorted({rule for rule, _ in report.tally},
                   key=lambda rule: -sum(n for (r, _), n in report.tally.items() if r == rule))
    for rule in rules:
        row += 1
        ws.write_string(row, 0, rule_text(rule))
        for c, s in enumerate(strengths, start=1):
            ws.write_number(row, c, report.tally.get((rule, s), 0))
        ws.write_number(row, len(strengths) + 1,
                        sum(n for (r, _), n in report.tally.items() if r == rule))
    row += 1
    ws.write_string(row, 0, "Total", bold)
    for c, s in enumerate(strengths, start=1):
        ws.write_number(row, c, sum(n for (_, st), n in report.tally.items() if st == s), bold)
    ws.write_number(row, len(strengths) + 1, sum(report.tally.values()), bold)
