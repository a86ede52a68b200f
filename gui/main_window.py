"""The main window: the list of pairs, the pair panel, the actions, progress and counts.

Layout lives here; every change to the cache goes through :mod:`gui.operations` on the
background writer, every read through the reader. Nothing in this module touches the cache
or the network on the UI thread.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

import core
from core.labels import RULE_LABELS
from core.report.rows import ReportError, describe_query
from core.store import pairs as pair_query
from core.sync import connections
from core.sync.choices import ChoiceError
from core.workspace import Workspace
from gui import operations
from gui.confirm import ConfirmWrites
from gui.connect_dialog import ConnectDialog
from gui.errors import show_exception, show_info
from gui.export_dialog import ExportDialog
from gui.history_dialog import RunHistoryDialog, load_runs
from gui.icons import app_icon, icon
from gui.pair_model import PairTableModel
from gui.pair_panel import PairPanel
from gui.pair_table import PairTable
from gui.settings_dialog import SettingsDialog
from gui.tasks import PRIO_BACKGROUND, QueryOp, TaskManager, run_off_ui

FILTER_DELAY_MS = 100  # short enough that a keystroke shows results within 200 ms
KEY_HELP = (
    ("> or .", "Keep Apollo's address (write it to Salesforce)"),
    ("< or ,", "Keep Salesforce's address (write it to Apollo)"),
    ("/", "Skip the pair"),
    ("a", "Apply the recommendation"),
    ("e", "Type a new address (validated as Salesforce would)"),
    ("r", "Revert to the recommendation"),
    ("g", "Go: write the selected pairs (after a confirmation)"),
    ("Ctrl+A", "Select every pair in the list"),
    ("Ctrl+F", "Filter by name, company or email; Esc returns to the list"),
    ("Enter / Esc", "From the list to the pair's buttons, and back"),
    ("F5", "Reconcile all: pull, match, decide, then confirm the writes"),
    ("Ctrl+,", "Settings"),
)
_CHOICE_WORDS = {"apollo": "Kept Apollo's address", "salesforce": "Kept Salesforce's address",
                 "skip": "Skipped", "custom": "Stored the typed address"}


class MainWindow(QMainWindow):
    """Concord's window over one workspace cache (or the demo sandbox's)."""

    cache_opened = Signal()
    details_shown = Signal(int)  # link id
    operation_finished = Signal(str)  # a short description, for tests and the screenshot
    dialog_opened = Signal(object)  # a dialog opened after a background read

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowIcon(app_icon())
        self.tasks: TaskManager | None = None
        self.connection = connections.Connection()
        self.workspace_name: str | None = None
        self.model = PairTableModel(None, self)
        self.counts: dict[str, int] = {}
        self._details_link: int | None = None
        self._job = None
        self._build()
        self._update_title()
        self.resize(1360, 860)

    # -- layout ---------------------------------------------------------------------------------

    def _build(self) -> None:
        central = QWidget()
        self.setCentralWidget(central)
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)

        self.banner = QFrame()
        self.banner.setObjectName("sandboxBanner")
        banner = QHBoxLayout(self.banner)
        banner.setContentsMargins(12, 6, 12, 6)
        banner_icon = QLabel()
        banner_icon.setPixmap(icon("sandbox").pixmap(18, 18))
        banner.addWidget(banner_icon)
        self.banner_text = QLabel()
        self.banner_text.setTextFormat(Qt.TextFormat.RichText)
        self.banner_text.setWordWrap(True)
        banner.addWidget(self.banner_text, 1)
        self.sync_button = QPushButton(icon("sync"), "Let Apollo sync")
        self.sync_button.setToolTip("Run Apollo's own 30-minute pull in the sandbox now, then "
                                    "read both systems again")
        self.sync_button.clicked.connect(self.let_apollo_sync)
        banner.addWidget(self.sync_button)
        self.banner.setVisible(False)
        outer.addWidget(self.banner)

        bar = QHBoxLayout()
        bar.setContentsMargins(10, 8, 10, 6)
        self.filter_box = QLineEdit()
        self.filter_box.setObjectName("filterBox")
        self.filter_box.setPlaceholderText("Filter by name, company or email  (Ctrl+F)")
        self.filter_box.setClearButtonEnabled(True)
        self.filter_box.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.filter_box.setAccessibleName("Filter")
        self.filter_box.textChanged.connect(self._filter_edited)
        self.filter_box.installEventFilter(self)
        bar.addWidget(self.filter_box, 3)
        self.view_combo = QComboBox()
        self.view_combo.setAccessibleName("Status filter")
        for view in pair_query.VIEWS:
            self.view_combo.addItem(pair_query.VIEW_LABELS[view], view)
        self.rule_combo = QComboBox()
        self.rule_combo.setAccessibleName("Rule filter")
        self.rule_combo.addItem("Any rule", None)
        for rule in pair_query.RULES:
            self.rule_combo.addItem(rule, rule)
            self.rule_combo.setItemData(self.rule_combo.count() - 1, RULE_LABELS.get(rule, rule),
                                        Qt.ItemDataRole.ToolTipRole)
        self.strength_combo = QComboBox()
        self.strength_combo.setAccessibleName("Strength filter")
        self.strength_combo.addItem("Any strength", None)
        for strength in pair_query.STRENGTHS:
            self.strength_combo.addItem(strength.capitalize(), strength)
        for combo in (self.view_combo, self.rule_combo, self.strength_combo):
            combo.currentIndexChanged.connect(self.apply_filters)
            bar.addWidget(combo)
        outer.addLayout(bar)

        self.table = PairTable()
        self.table.setModel(self.model)
        self.table.command.connect(self.run_command)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.panel = PairPanel()
        self.panel.command.connect(self.run_command)
        self.panel.custom_email.connect(self._custom_email)
        self.panel.link_requested.connect(self.link_suggestion)
        self.empty = QLabel()
        self.empty.setObjectName("cardMuted")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setTextFormat(Qt.TextFormat.RichText)
        self.empty.setVisible(False)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.panel)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([330, 430])
        body = QVBoxLayout()
        body.setContentsMargins(10, 0, 10, 4)
        body.addWidget(self.empty)
        body.addWidget(self.splitter, 1)
        outer.addLayout(body, 1)

        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(FILTER_DELAY_MS)
        self._filter_timer.timeout.connect(self.apply_filters)
        self._details_timer = QTimer(self)
        self._details_timer.setSingleShot(True)
        self._details_timer.setInterval(40)
        self._details_timer.timeout.connect(self._load_details)

        status = self.statusBar()
        self.counts_label = QLabel("")
        self.counts_label.setObjectName("countsLabel")
        # Permanent, so a passing message never hides the counts.
        status.addPermanentWidget(self.counts_label)
        self.progress_label = QLabel("")
        self.progress_bar = QProgressBar()
        self.progress_bar.setMaximumWidth(220)
        self.progress_bar.setTextVisible(False)
        self.cancel_button = QToolButton()
        self.cancel_button.setIcon(icon("cancel"))
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.cancel_button.clicked.connect(self.cancel_operation)
        for widget in (self.progress_label, self.progress_bar, self.cancel_button):
            status.addPermanentWidget(widget)
            widget.setVisible(False)

        self.model.query_started.connect(lambda q: self._show_list_state(loading=True))
        self.model.first_page_shown.connect(self._first_page_shown)
        self.model.query_settled.connect(lambda total: self._show_list_state())
        self._build_actions()

    def _action(self, text: str, slot: Callable, shortcut=None, icon_name: str | None = None,
                tip: str = "", list_key: str | None = None) -> QAction:
        action = QAction(icon(icon_name) if icon_name else QIcon(), text, self)
        action.triggered.connect(lambda _=False: slot())
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        if list_key:
            # Shown in the menu; the list handles the key itself (it must not fire while typing).
            action.setShortcut(QKeySequence(list_key))
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        return action

    def _build_actions(self) -> None:
        a = self._action
        self.act_reconcile = a("Reconcile all", self.reconcile_all, "F5", "reconcile",
                               "Pull both systems, match, decide, then confirm the writes")
        self.act_go = a("Go", lambda: self.run_command("go"), None, "go",
                        "Write the selected pairs (after a confirmation)", list_key="G")
        self.act_accept = a("Apply recommendation", lambda: self.run_command("accept"), None,
                            "accept", "Choose what Concord recommends", list_key="A")
        self.act_apollo = a("Keep Apollo", lambda: self.run_command("apollo"), None,
                            "keep-apollo", "Write Apollo's address to Salesforce", list_key=">")
        self.act_sf = a("Keep Salesforce", lambda: self.run_command("salesforce"), None,
                        "keep-salesforce", "Write Salesforce's address to Apollo", list_key="<")
        self.act_skip = a("Skip", lambda: self.run_command("skip"), None, "skip",
                          "Leave the pair as it is", list_key="/")
        self.act_edit = a("Type new value…", lambda: self.run_command("edit"), None, "edit",
                          "Type the address both systems should hold", list_key="E")
        self.act_revert = a("Revert to recommendation", lambda: self.run_command("revert"), None,
                            "revert", "Forget your choice", list_key="R")
        self.act_connect = a("Connect…", self.open_connect, None, "connect",
                             "Sign in to Salesforce and Apollo")
        self.act_settings = a("Settings…", self.open_settings, "Ctrl+,", "settings")
        self.act_history = a("Run history…", self.open_history, None, "history")
        self.act_export = a("Export report…", self.open_export, None, "export")
        self.act_sync = a("Let Apollo sync", self.let_apollo_sync, None, "sync",
                          "Run Apollo's 30-minute pull in the sandbox now")
        self.act_filter = a("Filter…", self.focus_filter, "Ctrl+F", "search")
        self.act_quit = a("Quit", self.close, "Ctrl+Q")
        self.act_keys = a("Keyboard shortcuts", self.show_keys, "F1", "keyboard")
        self.act_about = a("About Concord", self.show_about, None, "info")

        menu = self.menuBar().addMenu("&File")
        for action in (self.act_connect, self.act_export, None, self.act_quit):
            menu.addSeparator() if action is None else menu.addAction(action)
        menu = self.menuBar().addMenu("&Pair")
        for action in (self.act_accept, self.act_apollo, self.act_sf, self.act_skip,
                       self.act_edit, self.act_revert, None, self.act_go):
            menu.addSeparator() if action is None else menu.addAction(action)
        menu = self.menuBar().addMenu("&Reconcile")
        for action in (self.act_reconcile, self.act_history, None, self.act_settings):
            menu.addSeparator() if action is None else menu.addAction(action)
        self.sandbox_menu = self.menuBar().addMenu("&Sandbox")
        self.sandbox_menu.addAction(self.act_sync)
        self.sandbox_menu.menuAction().setVisible(False)
        menu = self.menuBar().addMenu("&Help")
        menu.addAction(self.act_keys)
        menu.addAction(self.act_about)
        self.addAction(self.act_filter)

        toolbar = QToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for action in (self.act_reconcile, self.act_go, None, self.act_accept, self.act_apollo,
                       self.act_sf, self.act_skip, self.act_revert, None, self.act_settings,
                       self.act_connect, self.act_history):
            toolbar.addSeparator() if action is None else toolbar.addAction(action)
        self.addToolBar(toolbar)
        self._set_enabled(False)

    def _set_enabled(self, on: bool) -> None:
        for action in (self.act_reconcile, self.act_go, self.act_accept, self.act_apollo,
                       self.act_sf, self.act_skip, self.act_edit, self.act_revert,
                       self.act_settings, self.act_history, self.act_sync):
            action.setEnabled(on)
        for widget in (self.filter_box, self.view_combo, self.rule_combo, self.strength_combo):
            widget.setEnabled(on)

    def _update_title(self) -> None:
        where = ""
        if self.connection.demo is not None:
            where = " — Sandbox"
        elif self.workspace_name:
            where = f" — {self.workspace_name}"
        self.setWindowTitle(f"Concord {core.__version__}{where}")

    # -- opening a cache ----------------------------------------------------------------------

    def show_empty(self, text: str) -> None:
        """No cache open: say what to do instead of showing an empty list."""
        self.empty.setText(text)
        self.empty.setVisible(True)
        self.splitter.setVisible(False)

    def show_sandbox_banner(self, text: str, ready: bool = False) -> None:
        self.banner_text.setText(text)
        self.banner.setVisible(True)
        self.sync_button.setEnabled(ready)
        self.sandbox_menu.menuAction().setVisible(True)

    def open_cache(self, cache_path, connection: connections.Connection,
                   workspace_name: str | None = None) -> None:
        """Show a workspace cache (the reader and writer open it on their threads)."""
        self.close_cache()
        self.connection = connection
        self.workspace_name = workspace_name
        self.tasks = TaskManager(cache_path, self)
        self.tasks.progress.connect(self._progress)
        self.tasks.busy_changed.connect(self._busy_changed)
        self.model.set_tasks(self.tasks)
        self.empty.setVisible(False)
        self.splitter.setVisible(True)
        self._set_enabled(True)
        self.act_sync.setEnabled(connection.demo is not None)
        self._update_title()
        self.apply_filters()
        self.refresh_counts()
        self.rebuild_search()
        self.table.setFocus()
        self.cache_opened.emit()

    def close_cache(self) -> None:
        if self.tasks is not None:
            self.model.set_tasks(None)
            self.tasks.close()
            self.tasks.deleteLater()
            self.tasks = None
            self._busy_changed(False)  # its results are no longer delivered: clear the bar
        self.panel.show_details(None)
        self._set_enabled(False)

    def closeEvent(self, event) -> None:  # noqa: N802
        self.close_cache()
        super().closeEvent(event)

    # -- list, filters, counts --------------------------------------------------------------------

    def _filter_edited(self, _text: str) -> None:
        self._filter_timer.start()

    def current_query(self) -> pair_query.PairQuery:
        previous = self.model.query
        return pair_query.PairQuery(
            view=self.view_combo.currentData(), rule=self.rule_combo.currentData(),
            strength=self.strength_combo.currentData(), text=self.filter_box.text(),
            sort=previous.sort, descending=previous.descending)

    def apply_filters(self) -> None:
        self._filter_timer.stop()
        if self.tasks is None:
            return
        self.model.set_query(self.current_query())

    def focus_filter(self) -> None:
        self.filter_box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_box.selectAll()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        if (watched is self.filter_box and event.type() == event.Type.KeyPress
                and event.key() in (Qt.Key.Key_Escape, Qt.Key.Key_Down)):
            if event.key() == Qt.Key.Key_Escape and self.filter_box.text():
                self.filter_box.clear()
            self.table.setFocus(Qt.FocusReason.ShortcutFocusReason)
            if not self.table.currentIndex().isValid() and self.model.rowCount():
                self.table.setCurrentIndex(self.model.index(0, 0))
            return True
        return super().eventFilter(watched, event)

    def refresh_counts(self) -> None:
        if self.tasks is None:
            return
        self.tasks.reader.drop(lambda tag: tag == ("counts",))
        operations.counts(self.tasks, self).success(self._counts_loaded).run_in_background()

    def _counts_loaded(self, counts: dict) -> None:
        self.counts = counts
        self._show_list_state()

    def _first_page_shown(self, shown: int, complete: bool) -> None:
        self._show_list_state(loading=not complete)
        if shown == 0:
            self.panel.show_details(None)
            return
        if self.table.currentIndex().row() < 0:
            # Keep the pair the user was on when it is still listed, else take the first.
            row = self.model.find_row(self._details_link) if self._details_link else None
            self.table.selectionModel().setCurrentIndex(
                self.model.index(row or 0, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows)

    def _show_list_state(self, loading: bool = False) -> None:
        c = self.counts
        parts = []
        total = self.model.total
        query = self.model.query
        if total is None:
            parts.append(f"Showing the first {self.model.rowCount():,} · counting…")
        else:
            filtered = query.text or query.rule or query.strength
            what = pair_query.VIEW_LABELS[query.view].lower()
            parts.append(f"Showing {total:,} {'matching ' if filtered else ''}pair"
                         f"{'s' if total != 1 else ''} ({what})")
        if c:
            parts.append(f"{c.get('attention', 0):,} need attention: {c.get('open', 0):,} open, "
                         f"{c.get('chosen', 0):,} chosen, {c.get('failed', 0):,} failed, "
                         f"{c.get('conflict', 0):,} conflicts")
            parts.append(f"{c.get('skipped', 0):,} skipped · {c.get('in_sync', 0):,} in sync · "
                         f"{c.get('pairs', 0):,} pairs")
        self.counts_label.setText("   ·   ".join(parts))

    def rebuild_search(self) -> None:
        """(Re)build the reader's search table in the background, chunk by chunk."""
        if self.tasks is None:
            return
        tasks = self.tasks

        def step(epoch):
            if self.tasks is not tasks:
                return
            QueryOp(tasks, lambda r: r.list.build_search_step(epoch), self,
                    priority=PRIO_BACKGROUND, tag=("search", epoch)) \
                .success(lambda more: step(epoch) if more else None) \
                .failure(lambda error: None).run_in_background()

        tasks.reader.drop(lambda tag: isinstance(tag, tuple) and tag[0] == "search")
        QueryOp(tasks, lambda r: r.list.reset_search(), self, priority=PRIO_BACKGROUND,
                tag=("search", "reset")).success(step).run_in_background()

    # -- selection and the panel -------------------------------------------------------------

    def selected_ranges(self) -> list[tuple[int, int]]:
        """The selected rows as ``(first, last)`` runs, in order: no work per row, so
        selecting a million pairs costs what selecting one does."""
        spans = sorted((r.top(), r.bottom()) for r in self.table.selectionModel().selection())
        ranges: list[tuple[int, int]] = []
        for first, last in spans:
            if ranges and first <= ranges[-1][1] + 1:
                ranges[-1] = (ranges[-1][0], max(ranges[-1][1], last))
            else:
                ranges.append((first, last))
        if not ranges and self.table.currentIndex().isValid():
            row = self.table.currentIndex().row()
            ranges = [(row, row)]
        return ranges

    def selection_size(self) -> int:
        return sum(last - first + 1 for first, last in self.selected_ranges())

    def _current_changed(self, current, _previous) -> None:
        self._details_timer.start()

    def _selection_changed(self, *_):
        if self.panel.details is not None:
            self.panel.show_details(self.panel.details, self.selection_size())

    def _load_details(self) -> None:
        if self.tasks is None:
            return
        row = self.table.currentIndex().row()
        data = self.model.row_data(row) if row >= 0 else None
        if data is None:
            if row >= 0:  # not loaded yet: try again once the page arrives
                self._details_timer.start()
            return
        link_id = data.link_id
        self._details_link = link_id
        self.tasks.reader.drop(lambda tag: tag == ("details",))
        operations.details(self.tasks, link_id, self.connection, self) \
            .success(lambda d: self._details_loaded(link_id, d)).run_in_background()

    def _details_loaded(self, link_id: int, details) -> None:
        if link_id != self._details_link:
            return
        self.panel.show_details(details, self.selection_size())
        self.details_shown.emit(link_id)

    def reload_details(self) -> None:
        self._details_timer.start()

    # -- commands ---------------------------------------------------------------------------------

    def run_command(self, command: str) -> None:
        """A key, button or menu command on the selected pairs."""
        if self.tasks is None:
            return
        if command == "edit":
            self.panel.open_editor()
            return
        if command == "edit_focus":
            self.panel.buttons["accept"].setFocus()
            return
        if command == "focus_list":
            self.table.setFocus(Qt.FocusReason.ShortcutFocusReason)
            return
        ranges = self.selected_ranges()
        if not ranges:
            return
        self.model.resolve_link_ids(ranges, lambda ids: self._on_ids(command, ids))

    def _on_ids(self, command: str, ids: list[int]) -> None:
        if not ids or self.tasks is None:
            return
        if command in ("apollo", "salesforce", "skip"):
            op = operations.set_direction(self.tasks, ids, command, parent=self)
            op.success(lambda changed: self._choices_stored(ids, changed, _CHOICE_WORDS[command]))
        elif command == "accept":  # Apply: choose the recommendation, then confirm and write
            op = operations.accept_recommendation(self.tasks, ids, self)
            op.success(lambda changed: (
                self._choices_stored(ids, changed, "Chose the recommendation"),
                changed and self._on_ids("go", changed)))
        elif command == "revert":
            op = operations.revert(self.tasks, ids, self)
            op.success(lambda changed: self._choices_stored(ids, changed,
                                                            "Reverted to the recommendation"))
        elif command == "go":
            op = operations.plan_selection(self.tasks, ids, self)
            op.success(lambda plan: self.confirm_plan(
                plan, "Go", f"Write the {len(ids):,} selected pair{'s' if len(ids) != 1 else ''} "
                            f"to Apollo and Salesforce?"))
        else:
            return
        op.run_in_background()

    def _custom_email(self, email: str) -> None:
        ranges = self.selected_ranges()
        if not ranges or self.tasks is None:
            return

        def store(ids):
            op = operations.set_direction(self.tasks, ids, "custom", email, self)
            op.success(lambda changed: (self.panel.close_editor(),
                                        self._choices_stored(ids, changed, _CHOICE_WORDS["custom"])))
            op.failure(lambda error: self.panel.show_editor_error(str(error))
                       if isinstance(error, ChoiceError) else show_exception(self, error))
            op.run_in_background()
        self.model.resolve_link_ids(ranges, store)

    def _choices_stored(self, ids: list[int], changed: list[int], what: str) -> None:
        self.model.refresh_links(ids)
        self.reload_details()
        self.refresh_counts()
        left = len(ids) - len(changed)
        text = f"{what} for {len(changed):,} pair{'s' if len(changed) != 1 else ''}."
        if left:
            text += (f" {left:,} left as they were (one-sided, in sync, or nothing to change).")
        self.statusBar().showMessage(text, 6000)
        self.operation_finished.emit(what)

    def confirm_plan(self, plan, title: str, intro: str) -> ConfirmWrites:
        """Show the confirmation; on acceptance run the write step."""
        dialog = ConfirmWrites(plan, title, intro, self)
        self._keep(dialog)
        dialog.accepted.connect(lambda: self._write(plan))
        dialog.open()
        self.operation_finished.emit("confirm")
        return dialog

    def _write(self, plan) -> None:
        if self.tasks is None:
            return
        self._start_write(operations.write_plan(self.tasks, self.connection, plan, self), "write")

    def _start_write(self, op, what: str) -> None:
        """Run a write-back or undo job; its outcome shows in the list, the panel and the
        status bar."""
        op.success(self._written)
        op.failure(lambda error: (show_exception(self, error), self.after_decisions_changed(),
                                  self.operation_finished.emit(what)))
        self._start_job(op)

    def _written(self, summary) -> None:
        """Each written pair shows its outcome (applied, conflict, failed) in the list and
        the panel; the status bar sums the run up."""
        self.after_decisions_changed()
        text = (f"Run {summary.run_id}: {summary.done:,} written, {summary.conflict:,} "
                f"conflict{'s' if summary.conflict != 1 else ''} (changed since the pull, not "
                f"overwritten), {summary.failed:,} failed"
                + (f", {summary.skipped:,} not sent (cancelled)" if summary.cancelled else "")
                + ". Run history can undo it.")
        self.statusBar().showMessage(text, 15000)
        self.operation_finished.emit("written")

    def _keep(self, dialog: QDialog) -> None:
        """A dialog lives until it closes (with whatever it holds, such as a write plan)."""
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    # -- long operations --------------------------------------------------------------------------

    def _start_job(self, op) -> None:
        self._job = op.job
        if op.job is not None:
            self._progress(op.job.label, "starting", 0, 0)
        op.run_in_background()

    def _progress(self, label: str, phase: str, done: int, total: int) -> None:
        self.progress_label.setText(f"{label}: {phase}" + (f" {done:,} / {total:,}" if total else ""))
        self.progress_bar.setRange(0, total if total else 0)
        if total:
            self.progress_bar.setValue(done)
        for widget in (self.progress_label, self.progress_bar, self.cancel_button):
            widget.setVisible(True)
        self.cancel_button.setEnabled(True)

    def _busy_changed(self, busy: bool) -> None:
        if not busy:
            for widget in (self.progress_label, self.progress_bar, self.cancel_button):
                widget.setVisible(False)
            self._job = None
        self.act_reconcile.setEnabled(not busy and self.tasks is not None)
        self.act_settings.setEnabled(not busy)  # saving settings starts a job of its own

    def cancel_operation(self) -> None:
        """Cancel the running long operation; what it wrote so far stays consistent."""
        if self._job is not None:
            self._job.cancel.set()
            self.progress_label.setText(f"{self._job.label}: cancelling…")
            self.cancel_button.setEnabled(False)

    def reconcile_all(self) -> None:
        """Pull → match → decide, then the confirmation of the writes."""
        if self.tasks is None or self.tasks.busy:
            return
        op = operations.reconcile_all(self.tasks, self.connection, parent=self)
        op.success(self._reconciled_all)
        op.failure(self._reconcile_failed)
        self._start_job(op)

    def _reconcile_failed(self, error) -> None:
        from gui.errors import is_cancel

        self.after_decisions_changed()
        if is_cancel(error):
            self.statusBar().showMessage("Cancelled. Everything stored so far is consistent; "
                                         "nothing was written to Apollo or Salesforce.", 8000)
            self.operation_finished.emit("cancelled")
            return
        show_exception(self, error)
        self.operation_finished.emit("failed")

    def _reconciled_all(self, result: operations.ReconcileAllResult) -> None:
        self.after_decisions_changed()
        decide = result.summary.decide
        threshold = " and ".join(result.strengths)
        problems = "".join(f"<br>Not pulled: {html.escape(p)}" for p in result.pull.problems)
        intro = (f"{html.escape(result.pull.note)}{problems}<br>Matched and decided "
                 f"{decide.decided:,} differing or one-sided pairs in {result.summary.seconds:.1f} s."
                 f"<br>These writes are your choices plus the <b>{threshold}</b> recommendations; "
                 f"every other pair stays in the review list.")
        self.confirm_plan(result.plan, "Reconcile all", intro)

    def after_decisions_changed(self) -> None:
        """The engine re-decided: read the list, counts and search text again."""
        self.model.refresh()
        self.refresh_counts()
        self.rebuild_search()
        self.reload_details()

    # -- sandbox, links, dialogs -------------------------------------------------------------------

    def _set_syncing(self, syncing: bool) -> None:
        """The banner button and the menu item start the same sync: one at a time."""
        for control in (self.sync_button, self.act_sync):
            control.setEnabled(not syncing)

    def let_apollo_sync(self) -> None:
        """Apollo's own pull in the sandbox, then read both systems and decide again."""
        demo = self.connection.demo
        if demo is None or self.tasks is None or self.tasks.busy or not self.act_sync.isEnabled():
            return
        self._set_syncing(True)

        def synced(report):
            self._set_syncing(False)
            updated = len(getattr(report, "updated", []) or [])
            op = operations.reconcile_all(self.tasks, self.connection, plan=False, parent=self)
            op.success(lambda result: (
                self.after_decisions_changed(),
                self.statusBar().showMessage(
                    f"Apollo's sync saw {getattr(report, 'records_seen', 0):,} Salesforce changes "
                    f"and updated {updated:,} Apollo contacts; the list shows the result.", 10000),
                self.operation_finished.emit("synced")))
            op.failure(self._reconcile_failed)
            self._start_job(op)

        def failed(error):
            self._set_syncing(False)
            show_exception(self, error)
        from gui.tasks import NetworkOp

        NetworkOp(self.tasks, demo.sandbox.pull_tick, self).success(synced).failure(failed) \
            .run_in_background()

    def link_suggestion(self, apollo_id: str, sf_id: str) -> None:
        if self.tasks is None:
            return
        op = operations.link_suggestion(self.tasks, apollo_id, sf_id, self)
        op.success(lambda link_id: (self.after_decisions_changed(), self.statusBar().showMessage(
            "Linked the two records; the pair is decided again.", 6000)))
        op.run_in_background()

    def open_settings(self) -> None:
        if self.tasks is None:
            return

        def loaded(result):
            settings, stages = result
            dialog = SettingsDialog(settings, stages, self)
            self._keep(dialog)
            dialog.accepted.connect(lambda: self._save_settings(dialog.settings()))
            dialog.open()
        operations.settings_and_stages(self.tasks, self).success(loaded).run_in_background()

    def _save_settings(self, settings) -> None:
        op = operations.save_settings_and_redecide(self.tasks, settings, self)
        op.success(lambda summary: (self.after_decisions_changed(), self.statusBar().showMessage(
            f"Settings saved; {summary.decide.decided:,} pairs decided again.", 8000),
            self.operation_finished.emit("settings")))
        op.failure(self._reconcile_failed)
        self._start_job(op)

    def open_connect(self) -> None:
        """The connect dialog, filled from the workspace profile (read off the UI thread)."""
        name = self.workspace_name or "default"

        def show(profile):
            dialog = ConnectDialog(self.tasks, name, profile, self)
            self._keep(dialog)
            dialog.saved.connect(self._connected)
            dialog.open()
            self.dialog_opened.emit(dialog)

        def read_profile():
            try:
                return Workspace(name).load_profile() if self.workspace_name else None
            except Exception:  # a broken profile is shown as a fresh form
                return None
        run_off_ui(self.tasks, read_profile, show, parent=self)

    def _connected(self, name: str) -> None:
        from gui.window_state import remember_workspace

        self.statusBar().showMessage(f"Saved the connection of workspace {name}; secrets are in "
                                     f"the keyring.", 8000)
        if self.connection.demo is None and name != self.workspace_name:
            workspace = Workspace(name)
            run_off_ui(self.tasks, lambda: remember_workspace(name), lambda _: None, parent=self)
            self.open_cache(workspace.cache_path, connections.Connection(workspace=workspace), name)

    def open_history(self) -> None:
        if self.tasks is None:
            return

        def loaded(runs):
            dialog = RunHistoryDialog(runs, self, on_undo=self.undo_run)
            self._keep(dialog)
            dialog.open()
        QueryOp(self.tasks, lambda r: load_runs(r.cache), self).success(loaded).run_in_background()

    def undo_run(self, run_id: int) -> None:
        """Undo a write-back run (from the run history), with progress and Cancel."""
        if self.tasks is None or self.tasks.busy:
            return
        self._start_write(operations.undo_run(self.tasks, self.connection, run_id, self), "undo")

    def open_export(self) -> None:
        """Ask how to export the list as it is filtered now."""
        if self.tasks is None:
            self.statusBar().showMessage("Open a workspace to export its pairs.", 8000)
            return
        query = self.current_query()
        dialog = ExportDialog(describe_query(query), self.model.total, self)
        dialog.export_requested.connect(
            lambda fmt, path, bom, previous: self.export_report(path, fmt, bom, previous, query))
        self._keep(dialog)
        dialog.open()

    def export_report(self, path: str, fmt: str, bom: bool = False, previous: str = "",
                      query: pair_query.PairQuery | None = None) -> None:
        """Export the list's pairs (its current filter unless ``query``) in the background."""
        if self.tasks is None or self.tasks.busy:
            self.statusBar().showMessage("Wait for the running operation to finish.", 8000)
            return
        op = operations.export_report(self.tasks, query or self.current_query(), fmt, path,
                                      bom=bom, previous=previous, connection=self.connection,
                                      parent=self)
        op.success(self._exported).failure(self._export_failed)
        self._start_job(op)

    def _exported(self, done) -> None:
        self.statusBar().showMessage(done.describe(), 15000)
        self.operation_finished.emit("exported")

    def _export_failed(self, error) -> None:
        from gui.errors import is_cancel

        if is_cancel(error):
            self.statusBar().showMessage("Export cancelled; no file was written.", 8000)
            self.operation_finished.emit("cancelled")
            return
        if isinstance(error, (ReportError, OSError)):  # the user can fix these
            show_info(self, "Export report", f"Nothing was exported: {error}")
        else:
            show_exception(self, error)
        self.operation_finished.emit("failed")

    def show_keys(self) -> None:
        rows = "".join(f"<tr><td><b>{html.escape(k)}</b>&nbsp;&nbsp;</td><td>{html.escape(t)}</td></tr>"
                       for k, t in KEY_HELP)
        show_info(self, "Keyboard shortcuts", f"<table>{rows}</table>")

    def show_about(self) -> None:
        QMessageBox.about(self, "About Concord",
                          f"<h3>Concord {core.__version__}</h3><p>See, predict and reconcile the "
                          f"email addresses Apollo.io and Salesforce overwrite in each other.</p>")

    # -- helpers for tests and the screenshot -----------------------------------------------------

    def select_row(self, row: int) -> None:
        index = self.model.index(row, 0)
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(index)
        self.reload_details()

    def row_of(self, predicate) -> int | None:
        """The first loaded row whose data satisfies ``predicate``."""
        for row in range(min(self.model.rowCount(), self.model.loaded_rows())):
            data = self.model.row_data(row)
            if data is not None and predicate(data):
                return row
        return None
