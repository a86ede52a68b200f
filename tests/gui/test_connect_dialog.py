"""The connect dialog: profile on disk without secrets, secrets in the keyring only."""

from __future__ import annotations

import json
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


def test_legacy_password_shows_the_retirement_notice_and_keeps_secrets(qtbot, dialog,
                                                                       memory_keyring):
    dialog.method_buttons["password"].setChecked(True)
    assert dialog.stack.currentIndex() == 3
    labels = [w.text() for w in dialog.stack.currentWidget().findChildren(type(dialog.error))]
    assert RETIREMENT_NOTICE in labels
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
    dialog.sf_test_button.click()
    qtbot.waitUntil(dialog.sign_in_url.isVisible, timeout=5_000)
    assert dialog.sign_in_url.text() == shown[0]
    assert "code_challenge=" in shown[0] and "client_id=3MVG9consumer" in shown[0]
    assert says in dialog.sf_result.text()
    dialog.reject()  # stops the wait for the loopback redirect
    qtbot.waitUntil(lambda: not dialog.sign_in_url.isVisible(), timeout=5_000)
