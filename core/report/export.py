"""Writing a report to a file (or CSV to a stream) in one of the three formats, with the
delta against an earlier report when asked. The one entry point the command line and the
window call.

A file is written next to its destination under a temporary name, private to the user
(it holds people's addresses), and renamed into place only when complete: a cancelled or
failed export leaves nothing half-written.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from core.report.csv import write_csv
from core.report.delta import with_delta
from core.report.html import write_html
from core.report.rows import Report
from core.report.xlsx import write_xlsx

FORMATS = ("csv", "xlsx", "html")
SUFFIXES = {"csv": ".csv", "xlsx": ".xlsx", "html": ".html"}


@dataclass
class Exported:
    """What an export wrote."""

    path: str  # "-" for standard output
    format: str
    rows: int
    tally: Counter
    delta: Counter | None

    def describe(self) -> str:
        where = "standard output" if self.path == "-" else self.path
        text = f"Wrote {self.rows:,} rows ({self.format.upper()}) to {where}."
        if self.delta is not None:
            text += " Since the previous report: " + ", ".join(
                f"{n:,} {label}" for label, n in self.delta.items()) + "."
        return text


def export(report: Report, fmt: str, out: str | Path, *, bom: bool = False,
           previous: str | Path | None = None) -> Exported:
    """Write ``report`` as ``fmt`` to the path ``out`` (``"-"``: CSV to standard output)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if previous is not None:
        with_delta(report, previous)
    if str(out) == "-":
        if fmt != "csv":
            raise ValueError("only CSV can be written to standard output")
        stream = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="",
                                  write_through=False)
        try:
            rows = write_csv(report, stream, bom=bom)
        finally:
            stream.flush()
            stream.detach()
        return Exported("-", fmt, rows, report.tally, report.delta)
    target = Path(out)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part",
                               dir=target.parent if str(target.parent) else ".")
    try:
        if fmt == "xlsx":
            os.close(fd)
            rows = write_xlsx(report, tmp)
        else:
            with open(fd, "w", encoding="utf-8", newline="", buffering=1 << 20) as fh:
                rows = write_csv(report, fh, bom=bom) if fmt == "csv" else write_html(report, fh)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Exported(str(target), fmt, rows, report.tally, report.delta)
