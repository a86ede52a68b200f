"""What an operation changed: one record the window refreshes from."""

import pytest

from core.sync.changes import Changes

SITUATIONS = [
    ("a key on two pairs", Changes.of_pairs([1, 2]), 1, True, True),
    ("a key on two pairs, another pair shown", Changes.of_pairs([1, 2]), 3, True, False),
    ("settings saved and every pair decided again", Changes.redecided(settings=True), 3, True, True),
    ("settings only", Changes(settings=True), 3, False, False),
    ("nothing", Changes(), 1, False, False),
]


@pytest.mark.parametrize("situation, changes, shown, any_pair, touches", SITUATIONS,
                         ids=[s[0] for s in SITUATIONS])
def test_what_a_view_reads_again(situation, changes, shown, any_pair, touches):
    assert changes.any_pair is any_pair
    assert changes.touches(shown) is touches


def test_two_changes_add_up():
    both = Changes.of_pairs([1]) | Changes(runs=True) | Changes.of_pairs([2])
    assert both == Changes(link_ids=frozenset({1, 2}), runs=True)
    assert Changes().empty and not both.empty
