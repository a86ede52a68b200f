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
    QApplication,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

import core
from core.report.rows import ReportError, describe_query
from core.store import pairs as pair_query
from core.sync import connections
from core.sync.changes import Changes
from core.workspace import Workspace
from gui import keys, operations, screen_fit, window_state
from gui.confirm import ConfirmWrites
from gui.connect_dialog import ConnectDialog
from gui.errors import show_exception, show_info
from gui.export_dialog import ExportDialog
from gui.filter_bar import FilterBar
from gui.history_dialog import RunHistoryDialog, load_runs
from gui.icons import app_icon, icon
from gui.job_progress import JobProgress
from gui.pair_commands import PairCommands
from gui.pair_model import PairTableModel
from gui.pair_panel import PairPanel
from gui.pair_table import PairTable
from gui.settings_dialog import SettingsDialog
from gui.tasks import PRIO_BACKGROUND, QueryOp, TaskManager, run_off_ui


class MainWindow(QMainWindow):
    """Concord's window over one workspace cache (or the demo sandbox's)."""

    cache_opened = Signal()
    details_shown = Signal(int)  # link id
    operation_finished = Signal(str)  # a short description, for tests and the screenshot
    dialog_opened = Signal(object)  # a dialog opened after a background read
    changes = Signal(object)  # core.sync.changes.Changes: the one way views learn of a change

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
        self._build()
        self._update_title()
        self._placed = False
        # Read once at start (a few bytes, before the event loop runs), kept in memory after.
        self._saved_geometry, self._saved_splitter = window_state.layout()
        self.theme_choice = window_state.theme()
        if self._saved_splitter:
            self.splitter.restoreState(self._saved_splitter)

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

        self.filters = FilterBar()
        self.filters.changed.connect(self.apply_filters)
        self.filters.to_list.connect(self.focus_list)
        outer.addWidget(self.filters)
        # The filter widgets by their old names (tests and the benchmark use them).
        self.filter_box, self.view_combo = self.filters.text, self.filters.view
        self.rule_combo, self.strength_combo = self.filters.rule, self.filters.strength

        self.table = PairTable()
        self.table.setModel(self.model)
        self.table.command.connect(self.run_command)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.panel = PairPanel()
        self.panel.command.connect(self.run_command)
        self.panel.link_requested.connect(self.link_suggestion)
        self.commands = PairCommands(self, self.table, self.model, self.panel)
        self.commands.changed.connect(self.changes)
        self.commands.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.commands.finished.connect(self.operation_finished)
        self.commands.plan_ready.connect(self.confirm_plan)
        self.commands.return_focus.connect(self.focus_list)
        self.changes.connect(self._refresh)
        self.empty = QLabel()
        self.empty.setObjectName("cardMuted")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setTextFormat(Qt.TextFormat.RichText)
        self.empty.setVisible(False)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.panel)
        self.splitter.setStretchFactor(0, 1)  # a taller window gives the list more rows
        self.splitter.setStretchFactor(1, 0)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([330, 430])
        body = QVBoxLayout()
        body.setContentsMargins(10, 0, 10, 4)
        body.addWidget(self.empty)
        body.addWidget(self.splitter, 1)
        outer.addLayout(body, 1)

        self._details_timer = QTimer(self)
        self._details_timer.setSingleShot(True)
        self._details_timer.setInterval(40)
        self._details_timer.timeout.connect(self._load_details)

        status = self.statusBar()
        self.counts_label = QLabel("")
        self.counts_label.setObjectName("countsLabel")
        # Permanent, so a passing message never hides the counts.
        status.addPermanentWidget(self.counts_label)
        self.progress = JobProgress(status)
        # The progress widgets by their old names (the demo start-up and tests use them).
        self.progress_label, self.progress_bar = self.progress.label, self.progress.bar
        self.cancel_button = self.progress.cancel_button

        self.model.query_started.connect(lambda q: self._show_list_state(loading=True))
        self.model.first_page_shown.connect(self._first_page_shown)
        self.model.query_settled.connect(lambda total: self._show_list_state())
        self._build_actions()

    def _action(self, name: str, slot: Callable) -> QAction:
        """The action of a command of :mod:`gui.keys`, with its label, icon, key and tip."""
        command = keys.BY_NAME[name]
        action = QAction(icon(command.icon) if command.icon else QIcon(), command.label, self)
        action.triggered.connect(lambda _=False: slot())
        if command.shortcut:
            action.setShortcut(QKeySequence(command.shortcut))
        elif command.list_keys:
            # Shown in the menu; the list handles the key itself (it must not fire while typing).
            action.setShortcut(QKeySequence(command.list_keys[0].upper()))
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        tip = f"{command.tip} ({command.key_text})" if command.key_text else command.tip
        action.setToolTip(tip)
        action.setStatusTip(command.tip)
        return action

    def _build_actions(self) -> None:
        slots = {"reconcile": self.reconcile_all, "connect": self.open_connect,
                 "settings": self.open_settings, "history": self.open_history,
                 "export": self.open_export, "sync": self.let_apollo_sync,
                 "filter": self.focus_filter, "quit": self.close, "keys": self.show_keys,
                 "about": self.show_about}
        self.actions_by_name: dict[str, QAction] = {}
        for command in keys.PAIR_COMMANDS:
            self.actions_by_name[command.name] = self._action(
                command.name, lambda c=command.name: self.run_command(c))
        for name, slot in slots.items():
            self.actions_by_name[name] = self._action(name, slot)
        stack = self.commands.undo_stack
        for name, make in (("undo", stack.createUndoAction), ("redo", stack.createRedoAction)):
            action = make(self, keys.BY_NAME[name].label)
            action.setShortcuts([QKeySequence(keys.BY_NAME[name].shortcut)]
                                + ([QKeySequence("Ctrl+Y")] if name == "redo" else []))
            self.actions_by_name[name] = action
        act = self.actions_by_name
        self.act_reconcile, self.act_go, self.act_sync = act["reconcile"], act["go"], act["sync"]
        self.act_settings = act["settings"]

        def menu(title: str, names) -> QMenu:
            m = self.menuBar().addMenu(title)
            for name in names:
                m.addSeparator() if name is None else m.addAction(act[name])
            return m
        menu("&File", ("connect", "export", None, "quit"))
        menu("&Edit", ("undo", "redo", None, "filter"))
        menu("&Pair", [c.name for c in keys.PAIR_COMMANDS if c.name != "go"] + [None, "go"])
        menu("&Reconcile", ("reconcile", "history", None, "settings"))
        self.sandbox_menu = menu("&Sandbox", ("sync",))
        self.sandbox_menu.menuAction().setVisible(False)
        menu("&Help", ("keys", "about"))

        toolbar = QToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for name in ("reconcile", "go", None, "settings", "connect", "history"):
            toolbar.addSeparator() if name is None else toolbar.addAction(act[name])
        self.addToolBar(toolbar)
        self._set_enabled(False)

    def _set_enabled(self, on: bool) -> None:
        for name in [c.name for c in keys.PAIR_COMMANDS] + ["reconcile", "settings", "history",
                                                            "sync"]:
            self.actions_by_name[name].setEnabled(on)
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
        self.commands.set_tasks(self.tasks)
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
            self.commands.set_tasks(None)
            self.tasks.close()
            self.tasks.deleteLater()
            self.tasks = None
            self._busy_changed(False)  # its results are no longer delivered: clear the bar
        self.panel.show_details(None)
        self._set_enabled(False)

    def showEvent(self, event) -> None:  # noqa: N802
        if not self._placed:  # the screen is known once the window is about to show
            self._placed = True
            screen_fit.place(self, self._saved_geometry)
        super().showEvent(event)

    def closeEvent(self, event) -> None:  # noqa: N802
        self.close_cache()
        try:
            window_state.remember_layout(bytes(self.saveGeometry()), bytes(self.splitter.saveState()))
        except OSError:  # an unwritable home: the next start uses the defaults
            pass
        super().closeEvent(event)

    def _fit_panel(self) -> None:
        """Once, unless the user placed the splitter before: the panel gets what it needs, the
        list every other row."""
        if self._saved_splitter is not None or not self.splitter.isVisible():
            return
        self._saved_splitter = b""
        total = sum(self.splitter.sizes())
        need = self.panel.needed_height()
        panel = min(need, int(total * 0.6))
        self.splitter.setSizes([total - panel, panel])

    # -- list, filters, counts --------------------------------------------------------------------

    def current_query(self) -> pair_query.PairQuery:
        return self.filters.query(self.model.query)

    def apply_filters(self) -> None:
        query = self.current_query()
        if self.tasks is not None:
            self.model.set_query(query)

    def focus_filter(self) -> None:
        self.filters.focus_text()

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
            parts.append(f"Apollo's sync: {c.get('pending', 0):,} pending, "
                         f"{c.get('missed', 0):,} missed")
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
        return self.commands.selected_ranges()

    def selection_size(self) -> int:
        return self.commands.selection_size()

    def _current_changed(self, current, _previous) -> None:
        # An address typed for one pair must never be stored on the next one.
        if self.panel.editor.isVisible():
            self.panel.close_editor()
        self._details_timer.start()

    def _selection_changed(self, *_):
        if self.panel.details is not None:
            self.panel.show_details(self.panel.details, self.selection_size())
            self._match_pair_actions()

    def _match_pair_actions(self) -> None:
        """The Pair menu offers what the panel's buttons offer, no more."""
        for command in keys.PAIR_COMMANDS:
            self.actions_by_name[command.name].setEnabled(
                self.panel.buttons[command.name].isEnabled())

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
        self._match_pair_actions()
        if self._saved_splitter is None:
            QTimer.singleShot(0, self._fit_panel)  # once the panel has laid out its text
        self.details_shown.emit(link_id)

    def reload_details(self) -> None:
        self._details_timer.start()

    # -- commands ---------------------------------------------------------------------------------

    def run_command(self, command: str) -> None:
        """A key, button or menu command on the highlighted pairs."""
        self.commands.run(command)

    def focus_list(self) -> None:
        """The list takes the keyboard again, on the row it was on."""
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)
        if not self.table.currentIndex().isValid() and self.model.rowCount():
            self.select_row(0)

    def _refresh(self, changes: Changes) -> None:
        """Read again exactly what ``changes`` says changed (the one place that decides)."""
        if self.tasks is None or changes.empty:
            return
        if changes.all_pairs or changes.membership:
            self.model.refresh()
        elif changes.link_ids:
            self.model.refresh_links(changes.link_ids)
        if changes.membership:
            self.rebuild_search()
        if changes.any_pair:
            self.refresh_counts()
            if changes.touches(self._details_link):
                self.reload_details()

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
        op.failure(lambda error: (self._keep_box(show_exception(self, error)),
                                  self.changes.emit(Changes(all_pairs=True, runs=True)),
                                  self.operation_finished.emit(what)))
        self._start_job(op)

    def _written(self, summary) -> None:
        """Each written pair shows its outcome (applied, conflict, failed) in the list and
        the panel; the status bar sums the run up."""
        self.changes.emit(Changes(all_pairs=True, runs=True))
        text = (f"Run {summary.run_id}: {summary.done:,} written, {summary.conflict:,} "
                f"conflict{'s' if summary.conflict != 1 else ''} (changed since the pull, not "
                f"overwritten), {summary.failed:,} failed"
                + (f", {summary.skipped:,} not sent (cancelled)" if summary.cancelled else "")
                + ". Run history can undo it.")
        self.statusBar().showMessage(text, 15000)
        self.operation_finished.emit("written")

    def _keep(self, dialog: QDialog) -> None:
        """A dialog lives until it closes (with whatever it holds, such as a write plan); then
        the list has the keyboard again, on the row it was on."""
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _=0: self.focus_list())

    def _keep_box(self, box: QMessageBox | None) -> None:
        if box is not None:  # None: the user cancelled, nothing was shown
            self._keep(box)

    # -- long operations --------------------------------------------------------------------------

    def _start_job(self, op) -> None:
        self.progress.start(op)

    def _progress(self, label: str, phase: str, done: int, total: int) -> None:
        self.progress.show(label, phase, done, total)

    @property
    def _job(self):
        return self.progress.job

    @_job.setter
    def _job(self, job) -> None:
        self.progress.job = job

    def _busy_changed(self, busy: bool) -> None:
        if not busy:
            self.progress.hide()
        self.act_reconcile.setEnabled(not busy and self.tasks is not None)
        self.act_settings.setEnabled(not busy)  # saving settings starts a job of its own

    def cancel_operation(self) -> None:
        """Cancel the running long operation; what it wrote so far stays consistent."""
        self.progress.cancel()

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

        self.changes.emit(Changes.redecided(runs=True))  # what was stored before it stopped
        if is_cancel(error):
            self.statusBar().showMessage("Cancelled. Everything stored so far is consistent; "
                                         "nothing was written to Apollo or Salesforce.", 8000)
            self.operation_finished.emit("cancelled")
            return
        self._keep_box(show_exception(self, error))
        self.operation_finished.emit("failed")

    def _reconciled_all(self, result: operations.ReconcileAllResult) -> None:
        self.changes.emit(result.changes)
        decide = result.summary.decide
        threshold = " and ".join(result.strengths)
        problems = "".join(f"<br>Not pulled: {html.escape(p)}" for p in result.pull.problems)
        intro = (f"{html.escape(result.pull.note)}{problems}<br>Matched and decided "
                 f"{decide.decided:,} differing or one-sided pairs in {result.summary.seconds:.1f} s."
                 f"<br>These writes are your choices plus the <b>{threshold}</b> recommendations; "
                 f"every other pair stays in the review list.")
        self.confirm_plan(result.plan, "Reconcile all", intro)

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
        self.focus_list()  # before the button is disabled, or Qt moves focus to the filter box
        self._set_syncing(True)

        def synced(report):
            self._set_syncing(False)
            updated = len(getattr(report, "updated", []) or [])
            op = operations.reconcile_all(self.tasks, self.connection, plan=False, parent=self)
            op.success(lambda result: (
                self.changes.emit(result.changes), self.focus_list(),
                self.statusBar().showMessage(
                    f"Apollo's sync saw {getattr(report, 'records_seen', 0):,} Salesforce changes "
                    f"and updated {updated:,} Apollo contacts; the list shows the result.", 10000),
                self.operation_finished.emit("synced")))
            op.failure(self._reconcile_failed)
            self._start_job(op)

        def failed(error):
            self._set_syncing(False)
            self._keep_box(show_exception(self, error))
        from gui.tasks import NetworkOp

        NetworkOp(self.tasks, demo.sandbox.pull_tick, self).success(synced).failure(failed) \
            .run_in_background()

    def link_suggestion(self, apollo_id: str, sf_id: str) -> None:
        if self.tasks is None:
            return
        op = operations.link_suggestion(self.tasks, apollo_id, sf_id, self)
        op.success(lambda changes: (self.changes.emit(changes), self.statusBar().showMessage(
            "Linked the two records; the pair is decided again.", 6000)))
        op.run_in_background()

    def open_settings(self) -> None:
        if self.tasks is None:
            return

        def loaded(result):
            settings, stages = result
            dialog = SettingsDialog(settings, stages, self, theme=self.theme_choice)
            self._keep(dialog)
            dialog.accepted.connect(lambda: self._settings_accepted(dialog, settings))
            dialog.open()
        operations.settings_and_stages(self.tasks, self).success(loaded).run_in_background()

    def _settings_accepted(self, dialog: SettingsDialog, before) -> None:
        if dialog.theme() != self.theme_choice:
            self.use_theme(dialog.theme())
            run_off_ui(self.tasks, lambda c=dialog.theme(): window_state.remember_theme(c),
                       lambda _: None, parent=self)
        if dialog.settings() != before:  # only what changes Apollo's rules re-decides
            self._save_settings(dialog.settings())
        else:
            self.statusBar().showMessage("Settings saved.", 6000)
            self.operation_finished.emit("settings")

    def use_theme(self, choice: str) -> None:
        """Switch the theme now: palette, style sheet colours and icons."""
        from gui.icons import apply_style
        from gui.theme import apply_theme

        app = QApplication.instance()
        self.theme_choice = choice
        apply_theme(app, choice)
        apply_style(app)
        for name, action in self.actions_by_name.items():
            if keys.BY_NAME[name].icon:
                action.setIcon(icon(keys.BY_NAME[name].icon))
        self.panel.retint()

    def _save_settings(self, settings) -> None:
        op = operations.save_settings_and_redecide(self.tasks, settings, self)
        op.success(lambda result: (self.changes.emit(result[1]), self.statusBar().showMessage(
            f"Settings saved; {result[0].decide.decided:,} pairs decided again.", 8000),
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
                       for k, t in keys.help_rows())
        self._keep(show_info(self, "Keyboard shortcuts", f"<table>{rows}</table>"))

    def show_about(self) -> None:
        self._keep(show_info(self, "About Concord",
                             f"<h3>Concord {core.__version__}</h3><p>See, predict and reconcile "
                             f"the email addresses Apollo.io and Salesforce overwrite in each "
                             f"other.</p>"))

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
