"""The delta against an earlier report: each pair new, still open, or resolved since then.

The earlier report may be any of the three formats (:mod:`core.report.read`). Pairs are
recognised by their Apollo id and Salesforce id, which stay the same across caches (link ids
do not).
Rows of the earlier report that are not in this one are added at the end as ``resolved``,
with what the earlier report said about them. The earlier file is read twice (its keys
first, its resolved rows last), so neither report is ever held in memory whole.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from core.report.read import ReportFileError, read_report
from core.report.rows import KEY_COLUMNS, Column, Report

NEW, OPEN, RESOLVED = "new", "still open", "resolved"
DELTA_COLUMN = Column("delta", "Since previous report", 12)


def _key_indexes(titles: list[str], report: Report, path) -> tuple[int, int]:
    wanted = [next(c.title for c in report.columns if c.key == k) for k in KEY_COLUMNS]
    try:
        return titles.index(wanted[0]), titles.index(wanted[1])
    except ValueError:
        raise ReportFileError(f"{path} is not a conflict report of Concord (it has no "
                              f"{wanted[0]!r} and {wanted[1]!r} columns)") from None


def with_delta(report: Report, previous: str | Path) -> Report:
    """Mark each row of ``report`` new or still open against the ``previous`` report, and
    add the previous report's rows that are gone as resolved; ``report.delta`` counts them
    (complete once the rows have been read)."""
    if report.kind != "conflicts":
        raise ReportFileError("Only conflict reports can be compared with an earlier report")
    titles, rows = read_report(previous)
    ia, isf = _key_indexes(titles, report, previous)
    width = max(ia, isf) + 1
    remaining = {(r[ia], r[isf]) for r in rows if len(r) >= width}
    ka, ks = report.index(KEY_COLUMNS[0]), report.index(KEY_COLUMNS[1])
    counts = Counter({NEW: 0, OPEN: 0, RESOLVED: 0})
    current, columns = report.rows, list(report.columns)

    def marked() -> Iterator[list[str]]:
        for row in current:
            key = (row[ka], row[ks])
            if key in remaining:
                remaining.discard(key)
                counts[OPEN] += 1
                yield [OPEN, *row]
            else:
                counts[NEW] += 1
                yield [NEW, *row]
        again_titles, again = read_report(previous)
        where = {t: i for i, t in enumerate(again_titles)}
        pick = [where.get(c.title) for c in columns]
        for old in again:
            if len(old) >= width and (old[ia], old[isf]) in remaining:
                remaining.discard((old[ia], old[isf]))
                counts[RESOLVED] += 1
                yield [RESOLVED, *(old[i] if i is not None and i < len(old) else "" for i in pick)]

    report.columns = [DELTA_COLUMN, *report.columns]
    report.rows = marked()
    report.delta = counts
    report.about.append(("Compared with", Path(previous).name))
    return report
