"""Starting the application: one QApplication, the style, and the window on a workspace or
on the demo sandbox (optionally saving a screenshot and leaving)."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

import core
from core.sync.connections import Connection
from core.sync.demo import DEMO_RECORDS, DEMO_SEED, DemoSession, start_demo
from core.workspace import Workspace, WorkspaceError, list_workspaces
from gui import theme, window_state
from gui.errors import show_exception
from gui.icons import app_icon, apply_style
from gui.main_window import MainWindow
from gui.tasks import Detached, run_off_ui
from gui.window_state import last_workspace, remember_workspace

log = logging.getLogger(__name__)
SCREENSHOT_TIMEOUT_S = 120


def application(argv: list[str] | None = None) -> QApplication:
    """The one QApplication (created on first use), styled for its palette."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv or [sys.argv[0]])
    app.setApplicationName("Concord")
    app.setApplicationVersion(core.__version__)
    app.setOrganizationName("Concord")
    app.setWindowIcon(app_icon())
    theme.apply_theme(app, window_state.theme())
    apply_style(app)
    return app


def open_workspace_window(name: str | None = None) -> MainWindow:
    """The window on a named workspace (the last one by default)."""
    window = MainWindow()
    name = name or last_workspace()
    if name is None:
        names = list_workspaces()
        name = names[0] if len(names) == 1 else None
    workspace = None
    if name:
        try:
            workspace = Workspace(name)
            if not workspace.exists():
                workspace = None
        except WorkspaceError:
            workspace = None
    if workspace is None:
        window.show_empty(
            "<h2>No workspace yet</h2><p>Connect Salesforce and Apollo with <b>File → "
            "Connect…</b>,<br>or try Concord on generated data: run <code>concord demo</code>.</p>")
        QTimer.singleShot(0, window.open_connect)
    else:
        window.open_cache(workspace.cache_path, Connection(workspace=workspace), workspace.name)
        run_off_ui(window.tasks, lambda: remember_workspace(workspace.name), lambda _: None,
                   parent=window)
    return window


def open_demo_window(records: int = DEMO_RECORDS, seed: int = DEMO_SEED,
                     on_ready=None) -> tuple[MainWindow, dict]:
    """The window at once, the sandbox started in the background, then shown in the window.

    Returns the window and a holder whose ``"session"`` is the :class:`DemoSession` once it
    runs (so the caller can stop it).
    """
    window = MainWindow()
    holder: dict = {"session": None}
    window.show_sandbox_banner(
        f"<b>Sandbox</b> — starting local emulators of Salesforce and Apollo with generated "
        f"data ({records:,} people, seed {seed})…")
    window.show_empty("<h2>Starting the sandbox…</h2><p>Generating data and serving it through "
                      "local emulators of both APIs. Nothing here touches a real system.</p>")

    def progress(phase: str, done: int, total: int) -> None:
        window._progress("Sandbox", phase, done, total)

    def started(session: DemoSession | None, error) -> None:
        for widget in (window.progress_label, window.progress_bar, window.cancel_button):
            widget.setVisible(False)
        if error is not None:
            window.show_empty("<h2>The sandbox did not start</h2>")
            show_exception(window, error)
            return
        holder["session"] = session
        window.show_sandbox_banner(
            f"<b>Sandbox</b> — generated data ({session.records:,} people, some only in one "
            f"system) served by local emulators of Salesforce and Apollo on 127.0.0.1. Nothing "
            f"here touches a real system. "
            f"Choose directions, press <b>Reconcile all</b>, or let Apollo's own sync run.",
            ready=True)
        window.open_cache(session.cache_path, Connection(demo=session))
        if on_ready:
            on_ready(window, session)

    job = Detached(lambda job: start_demo(records, seed, job.progress, job.cancel), started,
                   progress, window)
    window._job = job.job
    holder["starter"] = job.start()
    return window, holder


def run_window(workspace: str | None = None) -> int:
    """``concord``: the window on the last workspace."""
    app = application()
    window = open_workspace_window(workspace)
    window.show()
    return app.exec()


def run_demo(records: int = DEMO_RECORDS, seed: int = DEMO_SEED,
             screenshot: str | None = None) -> int:
    """``concord demo``: the window on a fresh sandbox; with ``screenshot``, save a PNG of the
    window with a conflict selected, then exit."""
    app = application()
    result = {"code": 0}
    window, holder = open_demo_window(records, seed,
                                      on_ready=(lambda w, s: _screenshot_when_ready(
                                          app, w, screenshot, result)) if screenshot else None)

    def stop_sandbox():
        session = holder.get("session")
        if session is not None:
            holder["session"] = None
            session.stop()

    app.aboutToQuit.connect(window.close_cache)
    app.aboutToQuit.connect(stop_sandbox)
    window.show()
    if screenshot:
        def give_up():
            print(f"concord: the window was not ready after {SCREENSHOT_TIMEOUT_S} s; "
                  f"no screenshot saved", file=sys.stderr)
            result["code"] = 3
            app.quit()
        QTimer.singleShot(SCREENSHOT_TIMEOUT_S * 1000, give_up)
    code = app.exec()
    stop_sandbox()
    return result["code"] or code


SCREENSHOT_SIZE = (1280, 800)


def _screenshot_when_ready(app, window: MainWindow, path: str, result: dict) -> None:
    """Once the list has settled, select a conflict, wait for its panel, grab and quit."""
    state = {"done": False}
    if app.platformName() == "offscreen":
        # The offscreen platform's screen is a small square; a picture is taken at the size
        # of a laptop's window instead (a real display keeps the size fitted to its screen).
        window.resize(*SCREENSHOT_SIZE)

    def pick():
        def interesting(row):
            return (row.apollo_email and row.sf_email and not row.one_sided
                    and row.status == "open")
        row = 0
        for predicate in (lambda r: interesting(r) and r.conflict and r.rec_rule == "LAST_EDIT",
                          lambda r: interesting(r) and r.conflict, interesting):
            found = window.row_of(predicate)
            if found is not None:
                row = found
                break
        window.details_shown.connect(lambda _link: QTimer.singleShot(300, save))
        window.select_row(row)
        window.table.setFocus()

    def save():
        if state["done"]:
            return
        state["done"] = True
        target = Path(path).expanduser().resolve()
        target.parent.mkdir(parents=True, exist_ok=True)
        ok = window.grab().save(str(target), "PNG")
        if ok:
            print(f"Saved a screenshot of the window to {target}")
        else:
            print(f"concord: could not write {target}", file=sys.stderr)
            result["code"] = 3
        app.quit()

    def settled(_total=None):
        try:
            window.model.query_settled.disconnect(settled)
        except (RuntimeError, TypeError):
            pass
        QTimer.singleShot(200, pick)

    if window.model.total is not None and window.model.rowCount():
        settled()
    else:
        window.model.query_settled.connect(settled)


def headless() -> bool:
    """No display to open a window on (Linux without X11 or Wayland, no platform chosen)."""
    return (sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM")
            and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")))


def offscreen_if_headless(screenshot: bool) -> None:
    """Use Qt's offscreen platform for a screenshot when there is no display."""
    if screenshot and headless():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
