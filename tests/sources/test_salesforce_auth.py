"""Every Salesforce sign-in flow end to end against the sandbox, through the real
simple-salesforce client over HTTPS; secrets in an in-memory keyring."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from core import credentials
from core.sources.errors import AuthError, NotConnected
from core.sources.salesforce import SalesforceSource
from core.sources.salesforce_auth import (
    DEFAULT_REDIRECT_URI,
    LEGACY_PASSWORD_NOTICE,
    ClientCredentialsAuth,
    JwtAuth,
    PasswordAuth,
    StaticTokenAuth,
    TokenStore,
)
from core.sync.connect import connect_salesforce
from core.workspace import Profile, Workspace
from tests.harness import SimulatedBrowser, free_callback


def record_requests(source: SalesforceSource) -> list:
    """Every request the source sends (method, url, body), via a response hook."""
    sent = []
    source.session.hooks["response"].append(
        lambda response, *a, **k: sent.append((response.request.method, response.request.url,
                                               response.request.body)))
    return sent


@pytest.fixture
def workspace(tmp_path, small_sandbox, memory_keyring):
    """A workspace whose profile points at the sandbox (PKCE with the desktop client and a
    callback URL registered on the app)."""
    sf = small_sandbox.info()["salesforce"]
    space = Workspace("acme", root=tmp_path / "workspaces")
    space.create(Profile(salesforce_login_url=sf["login_url"], salesforce_auth="pkce",
                         salesforce_client_id=sf["public_client_id"],
                         salesforce_redirect_uri=free_callback(small_sandbox.salesforce_app),
                         apollo_base_url=small_sandbox.apollo_url,
                         ca_path=small_sandbox.ca_path, sandbox=True))
    return space


def test_pkce_in_the_browser_then_pulls_without_the_user(workspace, small_sandbox, memory_keyring):
    # Given a workspace set up for browser sign-in
    browser = SimulatedBrowser(small_sandbox.ca_path)
    # When the user connects once
    result = connect_salesforce(workspace, open_browser=browser, timeout=20)
    # Then the browser was sent to the org's authorize page with PKCE S256 and the
    # callback URL registered on the app (exactly)
    params = {k: v[0] for k, v in parse_qs(urlsplit(browser.opened[0]).query).items()}
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) >= 43
    assert params["redirect_uri"] == workspace.load_profile().salesforce_redirect_uri
    assert params["response_type"] == "code" and "client_secret" not in params
    # and the refresh token, the access token and the instance URL were kept
    assert credentials.get_secret("acme", credentials.SALESFORCE_REFRESH_TOKEN)
    assert credentials.get_secret("acme", credentials.SALESFORCE_ACCESS_TOKEN)
    assert workspace.load_profile().salesforce_instance_url == small_sandbox.salesforce_url
    assert result.details["daily_api_requests"]["Max"] > 0 and result.notices == []
    # When a later pull finds its session expired
    small_sandbox.salesforce_app.expire_sessions()
    source = SalesforceSource.from_profile(workspace)
    sent = record_requests(source)
    old_refresh = credentials.get_secret("acme", credentials.SALESFORCE_REFRESH_TOKEN)
    # Then it renews the session with the refresh token, without the user
    assert source.count("Contact") > 0
    assert source.auth.renewals == 1
    new_refresh = credentials.get_secret("acme", credentials.SALESFORCE_REFRESH_TOKEN)
    assert new_refresh and new_refresh != old_refresh  # rotated, and the new one kept
    bodies = [body or "" for _, _, body in sent]
    assert not any("client_secret" in str(b) or "grant_type=password" in str(b) for b in bodies)
    assert any("grant_type=refresh_token" in str(b) for b in bodies)


def test_pkce_refused_in_the_browser_is_an_auth_error(workspace, small_sandbox):
    with pytest.raises(AuthError, match="denied"):
        connect_salesforce(workspace, open_browser=SimulatedBrowser(small_sandbox.ca_path, deny=True),
                           timeout=20)
    assert credentials.get_secret("acme", credentials.SALESFORCE_REFRESH_TOKEN) is None


def test_pkce_with_no_browser_answer_times_out(workspace):
    with pytest.raises(AuthError, match="No answer"):
        connect_salesforce(workspace, open_browser=lambda url: True, timeout=0.5)


def test_pull_without_a_connection_says_connect_first(workspace):
    source = SalesforceSource.from_profile(workspace)
    with pytest.raises(NotConnected, match="connect"):
        source.count("Contact")


def test_jwt_bearer_with_a_generated_key(small_sandbox, memory_keyring, tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    small_sandbox.salesforce_app.register_jwt_key(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    sf = small_sandbox.info()["salesforce"]
    key_file = tmp_path / "server.key"
    key_file.write_text(pem)
    space = Workspace("jwt", root=tmp_path / "ws").create(Profile(
        salesforce_login_url=sf["login_url"], salesforce_auth="jwt",
        salesforce_client_id=sf["client_id"], salesforce_username=sf["username"],
        salesforce_private_key_path=str(key_file), ca_path=small_sandbox.ca_path))
    connect_salesforce(space)
    source = SalesforceSource.from_profile(space)
    assert source.count("Lead") > 0
    # an expired session is renewed with a new assertion
    small_sandbox.salesforce_app.expire_sessions()
    assert source.count("Lead") > 0 and source.auth.renewals == 1
    # a key the org does not know is refused with a clear message
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    wrong = SalesforceSource(JwtAuth(sf["login_url"], sf["client_id"], sf["username"], other),
                             ca_path=small_sandbox.ca_path)
    with pytest.raises(AuthError, match="invalid_grant"):
        wrong.count("Lead")


def test_client_credentials(small_sandbox, memory_keyring, tmp_path):
    sf = small_sandbox.info()["salesforce"]
    space = Workspace("cc", root=tmp_path / "ws").create(Profile(
        salesforce_login_url=sf["login_url"], salesforce_auth="client_credentials",
        salesforce_client_id=sf["client_id"], ca_path=small_sandbox.ca_path))
    connect_salesforce(space, client_secret=sf["client_secret"])
    assert credentials.get_secret("cc", credentials.SALESFORCE_CLIENT_SECRET) == sf["client_secret"]
    source = SalesforceSource.from_profile(space)
    sent = record_requests(source)
    small_sandbox.salesforce_app.expire_sessions()
    assert source.count("Contact") > 0 and source.auth.renewals == 1
    token_requests = [r for r in sent if r[1].endswith("/services/oauth2/token")]
    assert len(token_requests) == 1 and "grant_type=client_credentials" in token_requests[0][2]


def test_a_mistyped_secret_keeps_the_connection_that_worked(small_sandbox, memory_keyring,
                                                            tmp_path):
    sf = small_sandbox.info()["salesforce"]
    space = Workspace("typo", root=tmp_path / "ws").create(Profile(
        salesforce_login_url=sf["login_url"], salesforce_auth="client_credentials",
        salesforce_client_id=sf["client_id"], ca_path=small_sandbox.ca_path))
    connect_salesforce(space, client_secret=sf["client_secret"])
    token = credentials.get_secret("typo", credentials.SALESFORCE_ACCESS_TOKEN)
    assert token
    with pytest.raises(AuthError):
        connect_salesforce(space, client_secret="mistyped-" + "x" * 20)
    assert credentials.get_secret("typo", credentials.SALESFORCE_CLIENT_SECRET) == \
        sf["client_secret"]
    assert credentials.get_secret("typo", credentials.SALESFORCE_ACCESS_TOKEN) == token
    assert SalesforceSource.from_profile(space).count("Contact") > 0


def test_client_credentials_refused_with_a_wrong_secret_never_shows_it(small_sandbox):
    sf = small_sandbox.info()["salesforce"]
    secret = "wrong-secret-" + "x" * 20
    source = SalesforceSource(ClientCredentialsAuth(sf["login_url"], sf["client_id"], secret),
                              ca_path=small_sandbox.ca_path)
    with pytest.raises(AuthError) as failure:
        source.count("Contact")
    assert "invalid_client" in str(failure.value) and secret not in str(failure.value)


def test_client_credentials_needs_a_my_domain():
    auth = ClientCredentialsAuth("https://login.salesforce.com", "id", "secret-value")
    with pytest.raises(AuthError, match="My Domain"):
        SalesforceSource(auth).count("Contact")


def test_legacy_password_login_works_with_its_notice(small_sandbox, memory_keyring, tmp_path):
    sf = small_sandbox.info()["salesforce"]
    space = Workspace("legacy", root=tmp_path / "ws").create(Profile(
        salesforce_login_url=sf["login_url"], salesforce_auth="password",
        salesforce_username=sf["username"], ca_path=small_sandbox.ca_path))
    result = connect_salesforce(space, password=sf["password"], security_token=sf["security_token"])
    assert result.notices == [LEGACY_PASSWORD_NOTICE] and "Summer '27" in LEGACY_PASSWORD_NOTICE
    source = SalesforceSource.from_profile(space)
    assert source.notices == [LEGACY_PASSWORD_NOTICE]
    small_sandbox.salesforce_app.expire_sessions()
    assert source.count("Contact") > 0 and source.auth.renewals == 1
    bad = SalesforceSource(PasswordAuth(sf["login_url"], sf["username"], "not-the-password",
                                        "nope-token", "59.0"), ca_path=small_sandbox.ca_path)
    with pytest.raises(AuthError, match="INVALID_LOGIN"):
        bad.count("Contact")


def test_a_session_that_cannot_be_renewed_asks_to_connect_again(small_sandbox):
    sf = small_sandbox.info()["salesforce"]
    source = SalesforceSource(StaticTokenAuth(sf["access_token"], sf["instance_url"]),
                              ca_path=small_sandbox.ca_path)
    assert source.count("Contact") > 0
    small_sandbox.salesforce_app.expire_sessions()
    with pytest.raises(AuthError, match="connect again"):
        source.count("Contact")


def test_a_session_refused_again_after_renewal_stops_instead_of_looping(small_sandbox):
    sf = small_sandbox.info()["salesforce"]
    store = TokenStore()
    source = SalesforceSource(ClientCredentialsAuth(sf["login_url"], sf["client_id"],
                                                    sf["client_secret"], store),
                              ca_path=small_sandbox.ca_path)
    small_sandbox.salesforce_app.faults.add("session_expiry", route=r"/query/?$")
    with pytest.raises(AuthError, match="refused a fresh session"):
        source.count("Contact")
    assert source.auth.renewals == 2  # the first token, then one renewal: no loop


def test_the_default_callback_is_the_registered_loopback_shape():
    assert DEFAULT_REDIRECT_URI == "http://localhost:1717/OauthRedirect"
    assert Profile().salesforce_redirect_uri in ("", DEFAULT_REDIRECT_URI)


def test_a_callback_the_app_does_not_know_is_refused_by_salesforce(workspace, small_sandbox):
    # Given a workspace whose callback URL is not registered on the app
    profile = workspace.load_profile()
    profile.salesforce_redirect_uri = profile.salesforce_redirect_uri.replace(
        "/OauthRedirect", "/elsewhere")
    workspace.save_profile(profile)
    browser = SimulatedBrowser(small_sandbox.ca_path)
    # When the user signs in, Salesforce refuses to redirect there (no code ever comes)
    with pytest.raises(AuthError, match="No answer"):
        connect_salesforce(workspace, open_browser=browser, timeout=1)
    browser.thread.join(10)
    assert browser.refused == ["redirect_uri_mismatch"]


def test_when_the_callback_port_is_taken_the_user_pastes_the_address(workspace, small_sandbox):
    import socket

    # Given another program listening on the registered callback's port
    port = urlsplit(workspace.load_profile().salesforce_redirect_uri).port
    with socket.socket() as other:
        other.bind(("127.0.0.1", port))
        other.listen()
        browser = SimulatedBrowser(small_sandbox.ca_path, follow=False)
        asked = []

        def paste(message):  # the user copies the address the browser ended on
            asked.append(message)
            browser.thread.join(10)
            return browser.landed[0]

        # When the user signs in, Concord asks for the address instead of listening
        connect_salesforce(workspace, open_browser=browser, paste=paste, timeout=5)
    # Then the code from the pasted address was exchanged and kept as a refresh token
    assert asked and "paste" in asked[0]
    assert credentials.get_secret("acme", credentials.SALESFORCE_REFRESH_TOKEN)


def test_a_pasted_address_from_another_attempt_is_refused(workspace, small_sandbox):
    import socket

    port = urlsplit(workspace.load_profile().salesforce_redirect_uri).port
    with socket.socket() as other:
        other.bind(("127.0.0.1", port))
        other.listen()
        with pytest.raises(AuthError, match="another sign-in attempt"):
            connect_salesforce(workspace, open_browser=lambda url: True, timeout=5,
                               paste=lambda message: "http://localhost/x?code=abc&state=old")


def test_a_redirect_that_is_not_loopback_is_refused(workspace):
    profile = workspace.load_profile()
    profile.salesforce_redirect_uri = "https://example.com/callback"
    workspace.save_profile(profile)
    with pytest.raises(AuthError, match="127.0.0.1 or"):
        connect_salesforce(workspace, open_browser=lambda url: True, timeout=1)


def test_a_confidential_app_sends_its_secret_with_the_verifier(small_sandbox, memory_keyring,
                                                               tmp_path):
    # Given an app with "Require Secret for Web Server Flow" on (the sandbox's confidential app)
    sf = small_sandbox.info()["salesforce"]
    space = Workspace("conf", root=tmp_path / "ws").create(Profile(
        salesforce_login_url=sf["login_url"], salesforce_auth="pkce",
        salesforce_client_id=sf["client_id"], salesforce_app_type="confidential",
        salesforce_redirect_uri=free_callback(small_sandbox.salesforce_app),
        ca_path=small_sandbox.ca_path))
    # When the user signs in with the browser, giving the app's secret
    connect_salesforce(space, open_browser=SimulatedBrowser(small_sandbox.ca_path), timeout=20,
                       client_secret=sf["client_secret"])
    # Then the secret is in the keyring and renewals send it too
    assert credentials.get_secret("conf", credentials.SALESFORCE_CLIENT_SECRET) == sf["client_secret"]
    source = SalesforceSource.from_profile(space)
    sent = record_requests(source)
    small_sandbox.salesforce_app.expire_sessions()
    assert source.count("Contact") > 0
    refresh = [body for _, url, body in sent if url.endswith("/services/oauth2/token")]
    assert len(refresh) == 1 and "client_secret=" in refresh[0]


def test_a_confidential_app_without_its_secret_asks_for_it(small_sandbox, memory_keyring, tmp_path):
    sf = small_sandbox.info()["salesforce"]
    space = Workspace("conf", root=tmp_path / "ws").create(Profile(
        salesforce_login_url=sf["login_url"], salesforce_auth="pkce",
        salesforce_client_id=sf["client_id"], salesforce_app_type="confidential",
        ca_path=small_sandbox.ca_path))
    with pytest.raises(NotConnected, match="consumer secret"):
        connect_salesforce(space, open_browser=lambda url: True, timeout=1)


def test_two_processes_renewing_at_once_send_the_refresh_token_once(workspace, small_sandbox):
    import threading

    # Given the window and a scheduled run on one workspace, both holding the session
    connect_salesforce(workspace, open_browser=SimulatedBrowser(small_sandbox.ca_path), timeout=20)
    window, scheduled = SalesforceSource.from_profile(workspace), SalesforceSource.from_profile(workspace)
    assert window.count("Contact") > 0 and scheduled.count("Contact") > 0
    sent_window, sent_scheduled = record_requests(window), record_requests(scheduled)
    small_sandbox.salesforce_app.expire_sessions()
    # When the scheduled run renews while the window is between reading the refresh token
    # and sending it (the race rotation punishes)
    other_waits_or_ends = threading.Event()
    lock = getattr(scheduled.auth, "lock", None)
    if lock is not None:
        lock.on_wait = other_waits_or_ends.set
    counts: list[int] = []

    def scheduled_run():
        try:
            counts.append(scheduled.count("Contact"))
        finally:
            other_waits_or_ends.set()

    read_refresh_token = window.auth.store.refresh_token
    other = threading.Thread(target=scheduled_run)

    def interleaved():
        value = read_refresh_token()
        if not other.is_alive() and not counts:
            other.start()
            other_waits_or_ends.wait(20)
        return value

    window.auth.store.refresh_token = interleaved
    counts.append(window.count("Contact"))
    other.join(20)
    # Then both carry on, one refresh token was sent once, and nothing was revoked
    assert len(counts) == 2 and all(counts)
    refreshes = [r for r in sent_window + sent_scheduled if "grant_type=refresh_token" in str(r[2])]
    assert len(refreshes) == 1
    assert small_sandbox.salesforce_app.identity.revoked_families == []


def test_a_session_handed_to_the_source_is_renewed_when_it_expires(workspace, small_sandbox):
    # Given a source given the stored session directly (as the first sign-in does)
    connect_salesforce(workspace, open_browser=SimulatedBrowser(small_sandbox.ca_path), timeout=20)
    source = SalesforceSource.from_profile(workspace)
    source.use_token(source.auth.store.load())
    # When that session expires, the refresh token renews it (the stored token is the one
    # that failed, not a newer one from another process)
    small_sandbox.salesforce_app.expire_sessions()
    assert source.count("Contact") > 0 and source.auth.renewals == 1
