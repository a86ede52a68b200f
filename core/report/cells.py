"""Neutralising cells that a spreadsheet would read as a formula (CSV injection).

A cell whose first character is ``=``, ``+``, ``-``, ``@``, a tab, a carriage return or a
line feed (or the fullwidth and small forms of the first four, which some spreadsheets
fold into them), possibly after leading blanks, starts a formula or a DDE call in Excel,
LibreOffice or Google Sheets. Such a cell gets a leading apostrophe in CSV: spreadsheets
show the text as it was, and :func:`restore` gives it back exactly. A cell that already
starts with an apostrophe gets one more, so restoring is never ambiguous. XLSX cells are
written as strings instead (see :mod:`core.report.xlsx`).
"""

from __future__ import annotations

import re

QUOTE = "'"
TRIGGERS = frozenset("=+-@\t\r\n"
                     "\uff1d\uff0b\uff0d\uff20"  # fullwidth = + - @
                     "\ufe66\ufe62\ufe63\ufe6b")  # small = + - @
BLANKS = " \u00a0\u3000\x00"  # skipped before a trigger by some spreadsheets
# Any character a cell may start with that needs a closer look.
FIRST = TRIGGERS | frozenset(BLANKS) | {QUOTE}


def is_risky(text: str) -> bool:
    """Whether a spreadsheet could read ``text`` as a formula (or it starts with ``'``)."""
    if not text or text[0] not in FIRST:
        return False
    if text[0] in TRIGGERS or text[0] == QUOTE:
        return True
    rest = text.lstrip(BLANKS)
    return bool(rest) and (rest[0] in TRIGGERS or rest[0] == QUOTE)


def neutralise(text: str | None) -> str:
    """The text as a CSV cell: an apostrophe in front when :func:`is_risky`."""
    if not text:
        return ""
    return QUOTE + text if is_risky(text) else text


# A cell of a joined row starting with a character of FIRST (one regular-expression scan of
# the whole row is much cheaper than a test per cell, and most rows have no such cell).
_SEPARATOR = "\x1e"
_LOOK_CLOSER = re.compile(_SEPARATOR + "[" + re.escape("".join(sorted(FIRST))) + "]")


def neutralise_row(row: list[str]) -> list[str]:
    """:func:`neutralise` over a row of strings (reports call it for every row)."""
    if not _LOOK_CLOSER.search(_SEPARATOR + _SEPARATOR.join(row)):
        return row
    return [QUOTE + v if v and v[0] in FIRST and is_risky(v) else v for v in row]


def restore(cell: str) -> str:
    """The original text of a neutralised cell."""
    return cell[1:] if cell.startswith(QUOTE) else cell
