"""The commands on the highlighted pairs: keys, buttons and menus all end here.

The controller resolves the highlighted rows to link ids, asks before a bulk key replaces
addresses the user typed, runs the operation, records it for undo, and reports what changed
(:attr:`changed`) and what to tell the user (:attr:`message`). It holds no layout.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack
from PySide6.QtWidgets import QMessageBox

from core.sync.choices import ChoiceError
from gui import operations
from gui.errors import show_exception
from gui.keys import BY_NAME
from gui.tasks import TaskManager

# What the status bar says after each command, and whether a typed address may be replaced.
_DONE_WORDS = {
    "apollo": "Kept Apollo's address", "salesforce": "Kept Salesforce's address",
    "skip": "Skipped", "custom": "Stored the typed address",
    "accept": "Applied the recommendation", "revert": "Back to the recommendation",
}
_NOTHING_WORDS = {
    "accept": "no recommended address to apply (needs review, in sync or one-sided)",
    "revert": "no choice of yours to forget",
}


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


class _ChoiceCommand(QUndoCommand):
    """One change of choices, undone and redone by restoring its snapshots."""

    def __init__(self, controller: PairCommands, text: str, outcome: operations.ChoiceOutcome):
        super().__init__(text)
        self._controller = controller
        self._outcome = outcome
        self._pushed = False

    def redo(self) -> None:
        if not self._pushed:  # pushing happens after the change is already stored
            self._pushed = True
            return
        self._controller.restore(self._outcome.after, self._outcome.before, f"Redid: {self.text()}")

    def undo(self) -> None:
        self._controller.restore(self._outcome.before, self._outcome.after, f"Undid: {self.text()}")


class PairCommands(QObject):
    """Dispatches pair commands for a window (``table``, ``model``, ``panel``)."""

    changed = Signal(object)  # core.sync.changes.Changes
    message = Signal(str)
    finished = Signal(str)  # a short word, for tests and the screenshot
    plan_ready = Signal(object, str, str)  # plan, title, intro
    return_focus = Signal()  # a command is over: the list takes the keyboard again

    def __init__(self, window, table, model, panel):
        super().__init__(window)
        self._window = window
        self.table = table
        self.model = model
        self.panel = panel
        self.tasks: TaskManager | None = None
        self.undo_stack = QUndoStack(self)
        self.undo_limit = operations.UNDO_LIMIT  # a bigger change asks first, and is not kept
        panel.custom_email.connect(self.store_typed)

    def set_tasks(self, tasks: TaskManager | None) -> None:
        self.tasks = tasks
        self.undo_stack.clear()

    # -- the highlighted pairs ------------------------------------------------------------------

    def selected_ranges(self) -> list[tuple[int, int]]:
        """The highlighted rows as ``(first, last)`` runs, in order: no work per row, so
        highlighting a million pairs costs what highlighting one does."""
        spans = sorted((r.top(), r.bottom()) for r in self.table.selectionModel().selection())
        ranges: list[tuple[int, int]] = []
        for first, last in spans:
            if ranges and first <= ranges[-1][1] + 1:
                ranges[-1] = (ranges[-1][0], max(ranges[-1][1], last))
            else:
                ranges.append((first, last))
        return ranges

    def selection_size(self) -> int:
        return sum(last - first + 1 for first, last in self.selected_ranges())

    # -- dispatch -------------------------------------------------------------------------------

    def run(self, command: str) -> None:
        """A key, button or menu command on the highlighted pairs."""
        if self.tasks is None:
            return
        if command == "edit":
            self.open_editor()
            return
        if command == "edit_focus":
            self.panel.focus_actions()
            return
        if command == "focus_list":
            self.return_focus.emit()
            return
        ranges = self.selected_ranges()
        if ranges:
            self.model.resolve_link_ids(ranges, lambda ids: self._on_ids(command, ids))

    def open_editor(self) -> None:
        size = self.selection_size()
        if size > 1:
            self.message.emit(f"A typed address is for one pair at a time: {plural(size, 'pair')} "
                              f"are highlighted. Highlight one pair, then press E.")
            self.finished.emit("refused")
            return
        self.panel.open_editor()

    def _on_ids(self, command: str, ids: list[int]) -> None:
        if not ids or self.tasks is None:
            return
        if command == "go":
            op = operations.plan_selection(self.tasks, ids, self)
            op.success(lambda plan: self.plan_ready.emit(
                plan, "Go", f"Write the {plural(len(ids), 'highlighted pair')} to Apollo and "
                            f"Salesforce?"))
            op.run_in_background()
        elif command in _DONE_WORDS and len(ids) > self.undo_limit:
            self._ask(f"{BY_NAME[command].label} on {len(ids):,} pairs?",
                      f"This changes up to {len(ids):,} pairs and cannot be undone: undo keeps "
                      f"changes of up to {self.undo_limit:,} pairs.",
                      "Change them", lambda: self._change(command, ids))
        elif command in _DONE_WORDS and len(ids) > 1:
            operations.typed_among(self.tasks, ids, self) \
                .success(lambda typed: self._confirm_replacing(command, ids, typed)) \
                .run_in_background()
        elif command in _DONE_WORDS:
            self._change(command, ids)

    def _confirm_replacing(self, command: str, ids: list[int], typed: list[int]) -> None:
        """Ask before a bulk key replaces addresses the user typed."""
        if not typed or command == "custom":
            self._change(command, ids)
            return
        one = len(typed) == 1
        them = "it" if one else "them"
        self._ask("Replace typed addresses?",
                  f"{len(typed):,} of the {len(ids):,} highlighted pairs "
                  f"{'holds' if one else 'hold'} an address you typed. "
                  f"“{BY_NAME[command].label}” replaces {them}; Edit → Undo brings {them} back.",
                  "Replace", lambda: self._change(command, ids))

    def _ask(self, title: str, text: str, yes: str, then) -> None:
        """A window-modal question (no nested event loop); ``then()`` runs on yes."""
        box = QMessageBox(QMessageBox.Icon.Question, title, text,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                          self._window)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.button(QMessageBox.StandardButton.Yes).setText(yes)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def answered(result: int) -> None:
            self.return_focus.emit()
            if result == QMessageBox.StandardButton.Yes:
                then()
            else:
                self.message.emit("Nothing changed.")
                self.finished.emit("cancelled")
        box.finished.connect(answered)
        box.open()

    def _change(self, command: str, ids: list[int], email: str | None = None) -> None:
        limit = self.undo_limit
        if command in ("apollo", "salesforce", "skip", "custom"):
            op = operations.set_direction(self.tasks, ids, command, email, self, limit)
        elif command == "accept":
            op = operations.accept_recommendation(self.tasks, ids, self, limit)
        else:
            op = operations.revert(self.tasks, ids, self, limit)
        op.success(lambda outcome: self._stored(command, outcome))
        if command == "custom":
            op.failure(lambda error: self.panel.show_editor_error(str(error))
                       if isinstance(error, ChoiceError) else show_exception(self._window, error))
        op.run_in_background()

    def store_typed(self, email: str) -> None:
        """The editor's address, for the one highlighted pair."""
        ranges = self.selected_ranges()
        if self.tasks is None or not ranges:
            return
        if self.selection_size() != 1:
            self.panel.show_editor_error("A typed address is for one pair at a time.")
            return
        self.model.resolve_link_ids(ranges, lambda ids: self._change("custom", ids, email))

    def _stored(self, command: str, outcome: operations.ChoiceOutcome) -> None:
        n = len(outcome.changes.link_ids)
        what = _DONE_WORDS[command]
        if command == "custom":
            self.panel.close_editor()
            self.return_focus.emit()
        if n:
            text = f"{what} for {plural(n, 'pair')}."
            if outcome.asked > n:
                text += (f" {outcome.asked - n:,} left as they were (in sync, one-sided or "
                         f"nothing to change).")
            if outcome.before is not None:
                self.undo_stack.push(_ChoiceCommand(self, f"{what} ({plural(n, 'pair')})",
                                                    outcome))
            self.changed.emit(outcome.changes)
            if command == "accept":  # Apply: the recommendation chosen, now confirm and write
                self._on_ids("go", sorted(outcome.changes.link_ids))
        else:
            reason = _NOTHING_WORDS.get(command, "in sync, one-sided or already so")
            text = f"Nothing changed: {reason}."
        self.message.emit(text)
        self.finished.emit(what)

    # -- undo -----------------------------------------------------------------------------------

    def restore(self, states, only_if, what: str) -> None:
        if self.tasks is None:
            return

        def done(changes):
            left = len(states) - len(changes.link_ids)
            note = (f" {plural(left, 'pair')} changed since and kept what they hold."
                    if left else "")
            self.changed.emit(changes)
            self.message.emit(f"{what}.{note}")
            self.finished.emit("undo")
        operations.restore_choices(self.tasks, states, only_if, self).success(done) \
            .run_in_background()

