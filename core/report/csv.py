"""A report as CSV: UTF-8 (with a byte-order mark for Excel on request), one header row,
every cell neutralised (:mod:`core.report.cells`)."""

from __future__ import annotations

import csv
from typing import TextIO

from core.report.cells import neutralise_row
from core.report.rows import Report

BOM = "\ufeff"


def write_csv(report: Report, out: TextIO, *, bom: bool = False) -> int:
    """Write ``report`` to a text stream opened with ``newline=""``; returns the row count."""
    if bom:
        out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(neutralise_row(report.titles))
    count = 0
    for row in report.rows:
        writer.writerow(neutralise_row(row))
        count += 1
    return count
