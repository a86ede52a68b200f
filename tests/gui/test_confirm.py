"""The confirmation names each person, shows both addresses and every write, and says loudly
when one typed address is planned for several people."""

from __future__ import annotations

from core.sync.plan import SHARED_TYPED, PlannedWrite, WritePlan
from gui.confirm import ConfirmWrites


def write(i: int) -> PlannedWrite:
    return PlannedWrite(i, "salesforce", "Contact", f"003{i:012d}", f"old{i}@acme.com",
                        f"new{i}@acme.com", "recommended (strong)", person=f"Person {i}",
                        apollo_email=f"new{i}@acme.com", sf_email=f"old{i}@acme.com")


def cells(dialog, row):
    model = dialog.table.model()
    return [model.data(model.index(row, c)) for c in range(model.columnCount())]


def test_every_write_is_listed_with_the_person_and_both_addresses(qtbot):
    plan = WritePlan(writes=[write(i) for i in range(262)], pairs=262)
    dialog = ConfirmWrites(plan, "Go", "Write?")
    qtbot.addWidget(dialog)
    assert dialog.table.model().rowCount() == 262  # no "… and 62 more"
    assert cells(dialog, 261) == ["Person 261", "Salesforce Contact 003000000000261",
                                  "new261@acme.com", "old261@acme.com", "new261@acme.com",
                                  "recommended (strong)"]


def test_one_typed_address_for_several_people_is_flagged(qtbot):
    why = "the typed address team@acme.com is held by 2 different people"
    plan = WritePlan(writes=[write(1)], pairs=3, not_written={SHARED_TYPED: 2},
                     refused=[(2, why), (3, why)])
    dialog = ConfirmWrites(plan, "Go", "Write?")
    qtbot.addWidget(dialog)
    dialog.show()
    warnings = [w for w in dialog.findChildren(type(dialog.summary_label))
                if w.objectName() == "refusedWrite" and w.isVisible()]
    assert len(warnings) == 2 and all(why in w.text() for w in warnings)
