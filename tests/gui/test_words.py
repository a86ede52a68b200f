"""The window speaks plain words: rules, links, agreeing pairs, commands that change nothing."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from core import emails, labels, rules
from core.store import pairs
from gui.pair_model import COLUMN_KEYS
from gui.pair_panel import diff_html
from tests.gui.steps import press, row_where, select, two_sided

WORDS = [
    ("an agreeing pair has nothing to do", labels.direction_sentence("none", rule=rules.SAME),
     "nothing to do: both hold the same address"),
    ("a pair with no prediction needs review", labels.direction_sentence("none"),
     "no direction: needs review"),
    ("the rule column speaks words", labels.rule_words(rules.Q_UNVERIFIED), "Check: not verified"),
    ("an unknown rule shows its code", labels.rule_words("NEW_RULE"), "NEW_RULE"),
    ("a link made by Apollo's crm id", labels.LINK_METHODS["crm_id"],
     "linked by the Salesforce id Apollo holds"),
]


@pytest.mark.parametrize("situation, said, expected", WORDS, ids=[w[0] for w in WORDS])
def test_words(situation, said, expected):
    assert said == expected


def test_every_rule_the_filter_offers_has_words():
    assert [r for r in pairs.RULES if labels.rule_words(r) == r] == []


def test_a_missing_character_is_not_drawn_as_a_blank():
    # robert.thomas21@… against robertt@…: the Apollo card must not show "robert␣."
    segments = emails.diff("robert.thomas21@icloud.com", "robertt@harborfreight.fr")
    for side in ("apollo", "salesforce"):
        assert "&#8202;" not in diff_html(segments, side)


def test_the_list_and_the_panel_show_rules_in_words(qtbot, window):
    row = row_where(window, two_sided)
    data = window.model.row_data(row)
    rule = window.model.index(row, COLUMN_KEYS.index("rule"))
    assert window.model.data(rule) == labels.rule_words(data.rec_rule)
    assert data.rec_rule in window.model.data(rule, Qt.ItemDataRole.ToolTipRole)
    select(qtbot, window, row)
    assert "linked by crm id" not in window.panel.base.text()
    assert window.rule_combo.findText(labels.rule_words(rules.LAST_EDIT)) > 0


def test_a_key_that_changes_nothing_says_so(qtbot, window):
    row = row_where(window, lambda r: two_sided(r) and r.rec_winner == "none")
    select(qtbot, window, row)
    press(qtbot, window, "a")
    message = window.statusBar().currentMessage()
    assert "Nothing changed" in message and "0 pairs" not in message


def test_the_pair_menu_offers_what_the_panel_offers(qtbot, window):
    row = row_where(window, lambda r: two_sided(r) and r.status == "open")
    select(qtbot, window, row)
    revert = window.actions_by_name["revert"]
    assert not window.panel.buttons["revert"].isEnabled() and not revert.isEnabled()
    press(qtbot, window, ">")
    qtbot.waitUntil(lambda: window.panel.buttons["revert"].isEnabled())
    assert revert.isEnabled()


def test_the_rule_code_is_an_optional_column(qtbot, window):
    window.resize(1024, 700)
    header = window.table.horizontalHeader()
    code = COLUMN_KEYS.index("rule_code")
    assert header.isSectionHidden(code)
    menu = window.table.column_menu()
    [show] = menu.actions()
    show.trigger()
    assert not header.isSectionHidden(code)
    row = row_where(window, two_sided)
    assert window.model.data(window.model.index(row, code)) == window.model.row_data(row).rec_rule
    qtbot.wait(20)
    assert not window.table.horizontalScrollBar().isVisible()  # still fits 1024 pixels


def test_the_sync_column_and_the_status_bar_say_what_apollos_sync_will_do(qtbot, window):
    """Issue: the list shows Apollo's direction only while its sync is still due to act, a
    distinct mark where it missed its chance, and the status bar counts both."""
    from core import labels
    from gui.pair_model import COLUMN_KEYS

    qtbot.waitUntil(lambda: window.model.rowCount() > 0 and bool(window.counts))
    column = COLUMN_KEYS.index("sync")
    seen = {}
    for row in range(min(window.model.rowCount(), 200)):
        data = window.model.row_data(row)
        if data is None:
            continue
        seen.setdefault(data.outcome, window.model.index(row, column).data())
        assert window.model.index(row, column).data() == labels.sync_glyph(
            data.native_winner, data.outcome)
    assert seen.get("missed") == labels.MISSED_GLYPH
    assert seen.get("pending") in ("←", "→")
    text = window.counts_label.text()
    assert (f"Apollo's sync: {window.counts['pending']:,} pending, "
            f"{window.counts['missed']:,} missed") in text
