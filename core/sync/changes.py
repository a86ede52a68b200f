"""What an operation changed, as one typed record, so each view refreshes exactly that.

An operation on the cache returns a :class:`Changes`; the window hands it to its views
through one signal, and each view decides from it what to read again (a few rows, the whole
list, the counts, the settings, the run history). No call site decides that on its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Changes:
    """What changed in the cache.

    ``link_ids``: pairs whose decision or choice changed (rows stay where they are).
    ``all_pairs``: every decision may have changed (pairs decided again).
    ``membership``: pairs were added or removed (a link made, a pull), so the list, its
    order and the search text are stale. ``settings`` and ``runs``: those tables changed.
    """

    link_ids: frozenset[int] = field(default_factory=frozenset)
    all_pairs: bool = False
    membership: bool = False
    settings: bool = False
    runs: bool = False

    @classmethod
    def of_pairs(cls, link_ids: Iterable[int]) -> Changes:
        """The decisions of these pairs changed."""
        return cls(link_ids=frozenset(link_ids))

    @classmethod
    def redecided(cls, *, settings: bool = False, runs: bool = False) -> Changes:
        """Pairs were matched and decided again: the whole list may differ."""
        return cls(all_pairs=True, membership=True, settings=settings, runs=runs)

    def __or__(self, other: Changes) -> Changes:
        return Changes(self.link_ids | other.link_ids, self.all_pairs or other.all_pairs,
                       self.membership or other.membership, self.settings or other.settings,
                       self.runs or other.runs)

    @property
    def any_pair(self) -> bool:
        """Whether any pair's row may show something else now."""
        return bool(self.link_ids) or self.all_pairs or self.membership

    def touches(self, link_id: int | None) -> bool:
        """Whether the pair ``link_id`` may have changed."""
        return self.all_pairs or self.membership or (link_id in self.link_ids)

    @property
    def empty(self) -> bool:
        return not (self.any_pair or self.settings or self.runs)
