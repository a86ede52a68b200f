"""Connect a workspace to Salesforce and Apollo.

What is not secret (login host, sign-in method, client id, user name, key file path) goes to
the workspace profile; every secret goes to the operating system's keyring through
:mod:`core.credentials` and nowhere else. Saving and keyring calls run off the UI thread
(a keyring may wait on the desktop's secret service).

Signing in with the browser and the test buttons call :mod:`core.sync.connect`, which signs in,
checks the connection with one API call and keeps what it was given in the keyring.
"""

from __future__ import annotations

import threading
import webbrowser
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from core import credentials
from core.sources.salesforce_auth import DEFAULT_REDIRECT_URI
from core.workspace import Profile, Workspace, WorkspaceError
from gui import connect_help
from gui.tasks import TaskManager, run_off_ui

KEYRING_PLACEHOLDER = "kept in the keyring"


def _help(text: str, name: str = "cardMuted") -> QLabel:
    label = QLabel(text)
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label

METHODS = (
    ("pkce", "Sign in with the browser (OAuth with PKCE, recommended)"),
    ("jwt", "JWT bearer: a connected app with a certificate (server-to-server)"),
    ("client_credentials", "Client credentials: an integration user of a connected app"),
    ("password", "User name, password and security token (legacy)"),
)
RETIREMENT_NOTICE = (
    "Salesforce is retiring password-based sign-in for API access: the SOAP login() call is "
    "being retired and the OAuth username-password flow is blocked by default in new orgs. "
    "Use this only while your org still allows it, and move to browser sign-in.")


@dataclass
class ConnectForm:
    """What the dialog collected (plain data, so saving can run on a worker)."""

    workspace: str
    profile: Profile
    secrets: dict[str, str]


def save_connection(form: ConnectForm, root=None) -> Workspace:
    """Write the profile (nothing secret) and put each secret in the keyring."""
    workspace = Workspace(form.workspace, root)
    form.profile.validate()
    credentials.check_backend()  # refuse before writing anything
    workspace.create(form.profile)
    for name, value in form.secrets.items():
        if value:
            credentials.store_secret(form.workspace, name, value)
    return workspace


class ConnectDialog(QDialog):
    """Workspace name, Salesforce sign-in, Apollo API key; Save stores them."""

    saved = Signal(str)  # the workspace name
    sign_in_page = Signal(str, bool)  # the browser sign-in address, whether a browser opened
    open_browser = staticmethod(webbrowser.open)  # tests replace it with a fake browser

    def __init__(self, tasks: TaskManager | None, workspace: str = "default",
                 profile: Profile | None = None, parent=None, root=None,
                 network=None):
        super().__init__(parent)
        self.setObjectName("connectDialog")
        self.setWindowTitle("Connect Salesforce and Apollo")
        self.resize(720, 780)  # the body scrolls on a smaller screen
        self._tasks = tasks
        self._root = root
        self._network = network  # a TaskManager-like object with .network(); tasks by default
        profile = profile or Profile()
        outer = QVBoxLayout(self)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)

        self.guide = _help(connect_help.guide_link(), name="")
        self.guide.setOpenExternalLinks(True)
        self.guide.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        layout.addWidget(self.guide)
        top = QFormLayout()
        self.workspace = QLineEdit(workspace)
        self.workspace.setAccessibleName("Workspace name")
        self.workspace.setToolTip(connect_help.WORKSPACE)
        top.addRow("Workspace", self.workspace)
        layout.addLayout(top)
        layout.addWidget(_help(connect_help.WORKSPACE))

        sf = QGroupBox("Salesforce")
        sf_layout = QVBoxLayout(sf)
        form = QFormLayout()
        self.login_url = QLineEdit(profile.salesforce_login_url)
        self.login_url.setToolTip(connect_help.LOGIN_HOST)
        form.addRow("Login host", self.login_url)
        sf_layout.addLayout(form)
        sf_layout.addWidget(_help(connect_help.LOGIN_HOST))
        self.method_group = QButtonGroup(self)
        self.method_buttons: dict[str, QRadioButton] = {}
        for key, text in METHODS:
            button = QRadioButton(text)
            button.setObjectName(f"method_{key}")
            self.method_group.addButton(button)
            self.method_buttons[key] = button
            sf_layout.addWidget(button)
            button.toggled.connect(self._method_changed)
        self.stack = QStackedWidget()
        self.fields: dict[str, QLineEdit] = {}
        self._secret_fields: list[QLineEdit] = []

        def page(rows) -> QWidget:
            widget = QWidget()
            f = QFormLayout(widget)
            f.setContentsMargins(0, 4, 0, 0)
            for row in rows:
                f.addRow(*row)
            return widget

        def line(name: str, value: str = "", secret: bool = False) -> QLineEdit:
            edit = QLineEdit(value)
            edit.setObjectName(name)
            edit.setAccessibleName(name.replace("_", " "))
            if secret:
                edit.setEchoMode(QLineEdit.EchoMode.Password)
                edit.setPlaceholderText(KEYRING_PLACEHOLDER)
                self._secret_fields.append(edit)
            self.fields[name] = edit
            return edit

        self.browser_button = QPushButton("Sign in with the browser…")
        self.browser_button.clicked.connect(self._browser_sign_in)
        # Public app: no secret. Confidential app ("Require Secret for Web Server Flow"):
        # its consumer secret goes to the keyring and is sent with the code verifier.
        self.confidential = QCheckBox("The app requires its consumer secret (confidential app)")
        self.confidential.setObjectName("pkce_confidential")
        self.confidential.setChecked(profile.salesforce_app_type == "confidential")
        self.stack.addWidget(page([
            ("Consumer key", line("pkce_client_id", profile.salesforce_client_id)),
            ("", self.confidential),
            ("Consumer secret", line("pkce_client_secret", secret=True)),
            ("Callback URL", line("pkce_redirect_uri", profile.salesforce_redirect_uri
                                  or DEFAULT_REDIRECT_URI)),
            ("", self.browser_button)]))
        key_row = QHBoxLayout()
        key_row.addWidget(line("jwt_key_path", profile.salesforce_private_key_path), 1)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_key)
        key_row.addWidget(browse)
        key_widget = QWidget()
        key_widget.setLayout(key_row)
        key_row.setContentsMargins(0, 0, 0, 0)
        self.stack.addWidget(page([
            ("Consumer key", line("jwt_client_id", profile.salesforce_client_id)),
            ("User name", line("jwt_username", profile.salesforce_username)),
            ("Private key file", key_widget)]))
        self.stack.addWidget(page([
            ("Consumer key", line("cc_client_id", profile.salesforce_client_id)),
            ("Consumer secret", line("cc_client_secret", secret=True))]))
        self.stack.addWidget(page([
            ("User name", line("password_username", profile.salesforce_username)),
            ("Password", line("password_password", secret=True)),
            ("Security token", line("password_token", secret=True))]))
        sf_layout.addWidget(self.stack)
        # Outside the stack: a stacked page does not grow for wrapped text, and clips it.
        self.method_help = _help("")
        sf_layout.addWidget(self.method_help)
        self.retirement = _help(RETIREMENT_NOTICE, name="errorText")
        sf_layout.addWidget(self.retirement)
        sf_layout.addWidget(_help(connect_help.PERMISSIONS))
        sf_test = QHBoxLayout()
        self.sf_test_button = QPushButton("Test Salesforce connection")
        self.sf_test_button.clicked.connect(lambda: self._test("salesforce"))
        sf_test.addWidget(self.sf_test_button)
        sf_test.addStretch(1)
        sf_layout.addLayout(sf_test)
        self.sf_result = _help("", name="")
        sf_layout.addWidget(self.sf_result)
        # The sign-in address, for when no browser opens (a remote or headless session):
        # the user can copy it into a browser that reaches this machine.
        self.sign_in_url = QLineEdit()
        self.sign_in_url.setObjectName("signInUrl")
        self.sign_in_url.setReadOnly(True)
        self.sign_in_url.setAccessibleName("Sign-in address")
        self.sign_in_url.hide()
        sf_layout.addWidget(self.sign_in_url)
        self.sign_in_page.connect(self._show_sign_in_page)
        layout.addWidget(sf)

        apollo = QGroupBox("Apollo")
        apollo_layout = QVBoxLayout(apollo)
        form = QFormLayout()
        form.addRow("API address", line("apollo_base_url", profile.apollo_base_url))
        form.addRow("API key", line("apollo_api_key", secret=True))
        apollo_layout.addLayout(form)
        apollo_layout.addWidget(_help(connect_help.APOLLO_KEY))
        apollo_test = QHBoxLayout()
        self.apollo_test_button = QPushButton("Test Apollo connection")
        self.apollo_test_button.clicked.connect(lambda: self._test("apollo"))
        apollo_test.addWidget(self.apollo_test_button)
        apollo_test.addStretch(1)
        apollo_layout.addLayout(apollo_test)
        self.apollo_result = _help("", name="")
        apollo_layout.addWidget(self.apollo_result)
        layout.addWidget(apollo)

        self.keyring_note = QLabel("Secrets are stored in your system's keyring, never in files.")
        self.keyring_note.setWordWrap(True)
        self.keyring_note.setObjectName("cardMuted")
        layout.addWidget(self.keyring_note)
        self.error = QLabel("")
        self.error.setObjectName("errorText")
        self.error.setWordWrap(True)
        self.error.setVisible(False)
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        outer.addWidget(self.buttons)
        method = profile.salesforce_auth if profile.salesforce_auth in self.method_buttons else "pkce"
        self.method_buttons[method].setChecked(True)
        self._method_changed()
        self._check_keyring()

    # -- form ---------------------------------------------------------------------------------

    @property
    def method(self) -> str:
        for key, button in self.method_buttons.items():
            if button.isChecked():
                return key
        return "pkce"

    def _method_changed(self, *_):
        self.stack.setCurrentIndex([k for k, _ in METHODS].index(self.method))
        if hasattr(self, "method_help"):
            text = connect_help.METHOD_HELP[self.method]
            self.method_help.setText(text)
            self.method_help.setVisible(bool(text))
            self.retirement.setVisible(self.method == "password")

    def _browse_key(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Private key file", "",
                                              "Keys (*.key *.pem);;All files (*)")
        if path:
            self.fields["jwt_key_path"].setText(path)

    def form(self) -> ConnectForm:
        """The profile and secrets as entered (secrets only for the chosen method)."""
        f = {name: edit.text().strip() for name, edit in self.fields.items()}
        method = self.method
        client_id = {"pkce": f["pkce_client_id"], "jwt": f["jwt_client_id"],
                     "client_credentials": f["cc_client_id"]}.get(method, "")
        username = {"jwt": f["jwt_username"], "password": f["password_username"]}.get(method, "")
        profile = Profile(
            salesforce_login_url=self.login_url.text().strip(),
            salesforce_auth=method,
            salesforce_client_id=client_id,
            salesforce_username=username,
            salesforce_private_key_path=f["jwt_key_path"] if method == "jwt" else "",
            apollo_base_url=f["apollo_base_url"] or "https://api.apollo.io",
            salesforce_redirect_uri=f["pkce_redirect_uri"] if method == "pkce" else "",
            salesforce_app_type=("confidential" if method == "pkce"
                                 and self.confidential.isChecked() else "public"),
        )
        secrets = {credentials.APOLLO_API_KEY: f["apollo_api_key"]}
        if method == "client_credentials":
            secrets[credentials.SALESFORCE_CLIENT_SECRET] = f["cc_client_secret"]
        if method == "pkce" and self.confidential.isChecked():
            secrets[credentials.SALESFORCE_CLIENT_SECRET] = f["pkce_client_secret"]
        if method == "password":
            secrets[credentials.SALESFORCE_PASSWORD] = f["password_password"]
            secrets[credentials.SALESFORCE_SECURITY_TOKEN] = f["password_token"]
        return ConnectForm(self.workspace.text().strip(), profile, secrets)

    # -- background work --------------------------------------------------------------------------

    def _run(self, fn, success, failure) -> None:
        run_off_ui(self._network or self._tasks, fn, success, failure, parent=self)

    def _check_keyring(self) -> None:
        def ok(_):
            pass

        def bad(error):
            for edit in self._secret_fields:  # nothing can be kept: say so, not the opposite
                edit.setPlaceholderText("no keyring: cannot be kept")
            self.keyring_note.setText(str(error))
            self.keyring_note.setObjectName("errorText")
            self.keyring_note.style().unpolish(self.keyring_note)
            self.keyring_note.style().polish(self.keyring_note)
        self._run(credentials.check_backend, ok, bad)

    def save(self) -> None:
        try:
            form = self.form()
            Workspace(form.workspace, self._root)
            form.profile.validate()
        except WorkspaceError as exc:
            self._show_error(str(exc))
            return
        self.buttons.setEnabled(False)
        self.error.setVisible(False)

        def done(_):
            self.buttons.setEnabled(True)
            self.saved.emit(form.workspace)
            self.accept()

        def failed(error):
            self.buttons.setEnabled(True)
            self._show_error(credentials.redact(str(error)))
        self._run(lambda: save_connection(form, self._root), done, failed)

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(True)

    def _test(self, system: str) -> None:
        """Sign in (Salesforce: with the chosen method; browser sign-in opens the browser)
        and check the connection with one call; what works is kept in the keyring."""
        from core.sync import connect

        label = self.sf_result if system == "salesforce" else self.apollo_result
        try:
            form = self.form()
            workspace = Workspace(form.workspace, self._root)
            form.profile.validate()
        except WorkspaceError as exc:
            label.setText(str(exc))
            return
        if system == "apollo" and not form.secrets.get(credentials.APOLLO_API_KEY):
            label.setText("Enter the API key first.")
            return
        cancel = threading.Event()
        self._cancel_test = cancel
        label.setText("Waiting for the browser sign-in…" if form.profile.salesforce_auth == "pkce"
                      and system == "salesforce" else "Testing…")

        def show_page(url: str) -> None:  # on the worker: a signal takes it to the UI thread
            try:
                opened = bool(self.open_browser(url))
            except Exception:  # noqa: BLE001 (no usable browser is an answer, not a failure)
                opened = False
            try:
                self.sign_in_page.emit(url, opened)
            except RuntimeError:
                pass  # the dialog was closed; its cancel ends the wait

        def run():
            if not workspace.exists():
                workspace.create(form.profile)
            if system == "apollo":
                return connect.connect_apollo(workspace, form.secrets[credentials.APOLLO_API_KEY],
                                              form.profile)
            secrets = form.secrets
            return connect.connect_salesforce(
                workspace, form.profile,
                client_secret=secrets.get(credentials.SALESFORCE_CLIENT_SECRET) or None,
                password=secrets.get(credentials.SALESFORCE_PASSWORD) or None,
                security_token=secrets.get(credentials.SALESFORCE_SECURITY_TOKEN) or None,
                open_browser=show_page, cancel=cancel)

        def ok(result):
            self.sign_in_url.hide()
            where = f" to {result.instance_url}" if result.instance_url else ""
            notices = " ".join(result.notices)
            label.setText(f"Connected{where}; kept in the keyring. {notices}".strip())

        def bad(error):
            self.sign_in_url.hide()
            label.setText(f"Failed: {credentials.redact(str(error))}")
        self._run(run, ok, bad)

    def _show_sign_in_page(self, url: str, opened: bool) -> None:
        self.sf_result.setText(
            "Waiting for the browser sign-in… If the page did not open, copy this address "
            "into a browser on this computer:" if opened else
            "No browser could be opened here. Copy this address into a browser on this "
            "computer and sign in; Concord is waiting:")
        self.sign_in_url.setText(url)
        self.sign_in_url.setCursorPosition(0)
        self.sign_in_url.show()

    def _browser_sign_in(self) -> None:
        self._test("salesforce")

    def done(self, result: int) -> None:  # noqa: D102 (closing stops a browser sign-in)
        cancel = getattr(self, "_cancel_test", None)
        if cancel is not None:
            cancel.set()
        super().done(result)
