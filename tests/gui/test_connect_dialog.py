"""The connect dialog: profile on disk without secrets, secrets in the keyring only."""

from __future__ import annotations

import json
import socket
import stat

import keyring
import keyring.backends.fail
import pytest

from core import credentials
from core.workspace import Workspace
from gui.connect_dialog import RETIREMENT_NOTICE, ConnectDialog


@pytest.fixture
def dialog(app, qtbot):
    d = ConnectDialog(None, "acme")
    qtbot.addWidget(d)
    d.show()
    return d


def save(qtbot, dialog):
    with qtbot.waitSignal(dialog.saved, timeout=5_000):
        dialog.buttons.button(dialog.buttons.StandardButton.Save).click()


def test_pkce_profile_and_apollo_key(qtbot, dialog, memory_keyring, concord_home):
    dialog.fields["pkce_client_id"].setText("3MVG9consumer")
    dialog.fields["apollo_api_key"].setText("apollo-secret-key-123")
    save(qtbot, dialog)
    # The secret is in the keyring, under the workspace
    assert memory_keyring.secrets[(credentials.SERVICE, "acme:apollo_api_key")] == \
        "apollo-secret-key-123"
    # The profile on disk has what is not secret, and no secret at all
    workspace = Workspace("acme")
    text = workspace.profile_path.read_text()
    assert "apollo-secret-key-123" not in text
    profile = json.loads(text)
    assert profile["salesforce_auth"] == "pkce"
    assert profile["salesforce_client_id"] == "3MVG9consumer"
    assert stat.S_IMODE(workspace.profile_path.stat().st_mode) == 0o600
    # Nothing anywhere under the home holds the secret
    for path in concord_home.rglob("*"):
        if path.is_file():
            assert b"apollo-secret-key-123" not in path.read_bytes()


def test_a_confidential_browser_app_keeps_its_secret_in_the_keyring(qtbot, dialog,
                                                                    memory_keyring):
    dialog.fields["pkce_client_id"].setText("3MVG9consumer")
    assert dialog.fields["pkce_redirect_uri"].text() == "http://localhost:1717/OauthRedirect"
    dialog.confidential.setChecked(True)
    dialog.fields["pkce_client_secret"].setText("consumer-secret-456")
    save(qtbot, dialog)
    assert memory_keyring.secrets[(credentials.SERVICE, "acme:salesforce_client_secret")] == \
        "consumer-secret-456"
    profile = json.loads(Workspace("acme").profile_path.read_text())
    assert profile["salesforce_app_type"] == "confidential"
    assert profile["salesforce_redirect_uri"] == "http://localhost:1717/OauthRedirect"
    assert "consumer-secret-456" not in json.dumps(profile)


def test_legacy_password_shows_the_retirement_notice_and_keeps_secrets(qtbot, dialog,
                                                                       memory_keyring):
    dialog.method_buttons["password"].setChecked(True)
    assert dialog.stack.currentIndex() == 3
    assert dialog.retirement.isVisible() and dialog.retirement.text() == RETIREMENT_NOTICE
    # Shown in full: the label has the height its wrapped text needs
    notice = dialog.retirement
    assert notice.height() >= notice.heightForWidth(notice.width())
    dialog.fields["password_username"].setText("ops@acme.com")
    dialog.fields["password_password"].setText("hunter2-pass")
    dialog.fields["password_token"].setText("tok-XYZ-987")
    save(qtbot, dialog)
    secrets = memory_keyring.secrets
    assert secrets[(credentials.SERVICE, "acme:salesforce_password")] == "hunter2-pass"
    assert secrets[(credentials.SERVICE, "acme:salesforce_security_token")] == "tok-XYZ-987"
    profile = Workspace("acme").load_profile()
    assert (profile.salesforce_auth, profile.salesforce_username) == ("password", "ops@acme.com")


def test_an_insecure_keyring_stores_nothing(qtbot, dialog, concord_home):
    keyring.set_keyring(keyring.backends.fail.Keyring())
    dialog.fields["apollo_api_key"].setText("apollo-secret-key-123")
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    qtbot.waitUntil(dialog.error.isVisible, timeout=5_000)
    assert "keyring" in dialog.error.text().lower()
    assert not Workspace("acme").exists()


def test_a_bad_workspace_name_is_refused_inline(qtbot, dialog):
    dialog.workspace.setText("no spaces allowed")
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    assert dialog.error.isVisible() and "workspace name" in dialog.error.text().lower()


def test_testing_apollo_checks_the_key_with_the_sandbox(qtbot, dialog, memory_keyring):
    from core.sandbox import spawn

    with spawn(records=20, seed=3) as sandbox:
        dialog.fields["apollo_base_url"].setText(sandbox.apollo_url)
        dialog.fields["apollo_api_key"].setText(sandbox.apollo_api_key)
        # The sandbox's certificate authority comes from the profile (as a workspace for
        # the sandbox would have it)
        original = dialog.form

        def form():
            f = original()
            f.profile.ca_path = sandbox.ca_path
            return f
        dialog.form = form
        dialog.apollo_test_button.click()
        qtbot.waitUntil(lambda: dialog.apollo_result.text().startswith(("Connected", "Failed")),
                        timeout=15_000)
        assert dialog.apollo_result.text().startswith("Connected"), dialog.apollo_result.text()
        assert memory_keyring.secrets[(credentials.SERVICE, "acme:apollo_api_key")] == \
            sandbox.apollo_api_key


@pytest.mark.parametrize("browser_opens, says", [
    (False, "No browser could be opened"),
    (True, "If the page did not open"),
])
def test_browser_sign_in_shows_the_address_to_copy(qtbot, dialog, memory_keyring, concord_home,
                                                   browser_opens, says):
    """On a remote or headless session no browser opens: the address is shown, not a silent
    five-minute wait."""
    shown = []
    dialog.open_browser = lambda url: shown.append(url) or browser_opens
    dialog.fields["pkce_client_id"].setText("3MVG9consumer")
    with socket.socket() as probe:  # never the default port, which another run may hold
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dialog.fields["pkce_redirect_uri"].setText(f"http://localhost:{port}/OauthRedirect")
    dialog.sf_test_button.click()
    qtbot.waitUntil(dialog.sign_in_url.isVisible, timeout=5_000)
    assert dialog.sign_in_url.text() == shown[0]
    assert "code_challenge=" in shown[0] and "client_id=3MVG9consumer" in shown[0]
    assert says in dialog.sf_result.text()
    dialog.reject()  # stops the wait for the loopback redirect
    qtbot.waitUntil(lambda: not dialog.sign_in_url.isVisible(), timeout=5_000)


HELP = [
    ("browser sign-in: where the consumer key comes from, scopes, callback", "pkce",
     ("App Manager", "refresh_token", "callback URL")),
    ("JWT: how to prepare the certificate", "jwt", ("certificate", "digital signatures")),
    ("client credentials: the Run As user", "client_credentials", ("Run As",)),
]


@pytest.mark.parametrize("situation, method, words", HELP, ids=[h[0] for h in HELP])
def test_each_sign_in_method_says_what_a_real_org_needs(dialog, situation, method, words):
    dialog.method_buttons[method].setChecked(True)
    assert dialog.method_help.isVisible()
    assert all(word in dialog.method_help.text() for word in words)
    assert not dialog.retirement.isVisible()


def test_the_dialog_explains_workspace_login_host_apollo_key_and_links_the_guide(dialog):
    texts = " ".join(w.text() for w in dialog.findChildren(type(dialog.error)) if w.isVisible())
    for words in ("A workspace is", "test.salesforce.com", "My Domain",
                  "field history tracking", "Settings → Integrations → API"):
        assert words in texts
    assert "docs/connecting.md" in dialog.guide.text() and "href=" in dialog.guide.text()


def test_without_a_keyring_the_secret_fields_do_not_claim_to_keep_anything(app, qtbot):
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        d = ConnectDialog(None, "acme")
        qtbot.addWidget(d)
        qtbot.waitUntil(lambda: d.keyring_note.objectName() == "errorText", timeout=5_000)
        assert d.fields["apollo_api_key"].placeholderText() == "no keyring: cannot be kept"
    finally:
        keyring.set_keyring(previous)
