"""Substring search over every pair's name, company and both emails, held in memory.

A million pairs' lower-cased text is about 70 MB; kept as a few large strings (one per
chunk read from the cache, one line per pair) it is searched with ``str.find``, which
skips through text far faster than SQLite's ``LIKE`` scans a table: a needle that matches
nothing is answered in tens of milliseconds. Matches come out in link order, so the first
page of a common needle is found after a few lines. No Qt here; the reader thread owns it.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from itertools import accumulate

SEPARATOR = "\x1f"  # between the fields of a line (never typed, never in an address)


class SearchText:
    """The searchable text of the pairs, built chunk by chunk in link order."""

    def __init__(self):
        self._chunks: list[tuple[str, array, array]] = []  # (text, line starts + end, link ids)
        self.ready = False
        self.last_link_id = 0
        self.lines = 0

    def add(self, rows: list[tuple[int, str]]) -> None:
        """Add ``(link_id, text)`` rows (text already lower-cased), in increasing link order."""
        if not rows:
            return
        lines = [text.replace("\n", " ") for _, text in rows]
        text = "\n".join(lines) + "\n"
        starts = array("q", accumulate((len(line) + 1 for line in lines), initial=0))
        ids = array("q", (link_id for link_id, _ in rows))
        self._chunks.append((text, starts, ids))
        self.last_link_id = ids[-1]
        self.lines += len(ids)

    def finish(self) -> None:
        self.ready = True

    def find(self, needle: str, limit: int | None = None) -> tuple[list[int], bool]:
        """Link ids of the lines containing ``needle`` (lower-case), in link order; and
        whether the search stopped at ``limit`` with more lines possibly left."""
        found: list[int] = []
        if not needle:
            return found, False
        for text, starts, ids in self._chunks:
            pos = text.find(needle)
            while pos != -1:
                line = bisect_right(starts, pos) - 1
                found.append(ids[line])
                if limit is not None and len(found) >= limit:
                    return found, True
                pos = text.find(needle, starts[line + 1])
        return found, False

    @property
    def size(self) -> int:
        """Characters held (for memory accounting)."""
        return sum(len(text) for text, _, _ in self._chunks)
