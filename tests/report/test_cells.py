"""Neutralising one cell: every payload comes out harmless and goes back exactly."""

import pytest

from core.report.cells import BLANKS, TRIGGERS, neutralise, neutralise_row, restore
from tests.report.payloads import INJECTION, PAYLOADS


def starts_a_formula(cell: str) -> bool:
    """What a spreadsheet would read as a formula: a trigger first, or after blanks."""
    return cell[:1] in TRIGGERS or cell.lstrip(BLANKS)[:1] in TRIGGERS


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_neutralised_cell_starts_no_formula_and_restores_exactly(payload):
    cell = neutralise(payload)
    assert not starts_a_formula(cell)
    assert restore(cell) == payload
    assert neutralise_row([payload]) == [cell]


@pytest.mark.parametrize("text, cell", [
    ("jo@acme.com", "jo@acme.com"),          # plain text is left alone
    ("=1+1@x.com", "'=1+1@x.com"),           # a valid address that starts with '='
    ("-Jo", "'-Jo"),
    ("＝1+1", "'＝1+1"),                       # fullwidth equals
    (" =1", "' =1"),                         # a trigger behind a blank
    (" Jo", " Jo"),                          # a blank alone is not a trigger
    ("'quoted", "''quoted"),                 # the escape itself is escaped, never ambiguous
    ("", ""),
    (None, ""),
])
def test_what_neutralising_does(text, cell):
    assert neutralise(text) == cell


def test_every_trigger_is_in_the_payloads():
    firsts = {p[0] for p in INJECTION if p}
    assert set("=+-@\t\r") <= firsts
    assert {"\uff1d", "\uff0b", "\uff0d", "\uff20"} <= firsts
