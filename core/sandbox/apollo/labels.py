"""The lists (labels) bitmask of the Apollo sandbox's contacts.

Each of the first 63 lists gets a bit in the contact's ``label_mask`` column, which sits in
the covering indexes of the stage and sort columns, so a search filtered by lists reads only
an index. The bits are kept in the ``label_bits`` table; a list seen after all bits are
given is found through ``contact_labels`` instead.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

MASK_BITS = 63  # lists with a bit in label_mask; any further one is found through contact_labels


class LabelBits:
    """Which lists have which bit, over the store's connection (the caller holds its lock)."""

    def __init__(self, db: sqlite3.Connection):
        self._db = db
        self.reload()

    def reload(self) -> None:
        """Read the bits again (after a rolled-back load gave some that were not kept)."""
        self._bits: dict[str, int] = dict(self._db.execute("SELECT label_id, bit FROM label_bits"))

    def forget(self) -> None:
        """Start giving bits afresh (a store file written before lists had bits)."""
        self._bits = {}

    def mask(self, label_ids: Iterable[str]) -> int:
        """The mask bits of these lists, giving a bit to each list seen for the first time
        while bits are left."""
        mask = 0
        for label_id in label_ids:
            bit = self._bits.get(label_id)
            if bit is None and len(self._bits) < MASK_BITS:
                bit = self._bits[label_id] = len(self._bits)
                self._db.execute("INSERT INTO label_bits (label_id, bit) VALUES (?, ?)",
                                 (label_id, bit))
            if bit is not None:
                mask |= 1 << bit
        return mask

    def mask_of(self, label_ids: Iterable[str]) -> int:
        """The mask of lists that already have bits (never assigns one)."""
        mask = 0
        for label_id in label_ids:
            if label_id in self._bits:
                mask |= 1 << self._bits[label_id]
        return mask

    def covers(self, label_ids: Iterable[str]) -> bool:
        """Whether the mask alone finds the contacts in these lists: every list that any
        contact is in has a bit (a list without one is in no contact)."""
        return len(self._bits) < MASK_BITS or all(l in self._bits for l in label_ids)
