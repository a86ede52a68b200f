"""Signing in to Salesforce: the OAuth flows Concord performs itself, and token storage.

Concord talks to a configurable login host (``https://login.salesforce.com``,
``https://test.salesforce.com``, a My Domain such as ``https://acme.my.salesforce.com``, or
a sandbox on 127.0.0.1) and hands the resulting access token and instance URL to
simple-salesforce as a direct session. Flows:

- authorization code with PKCE (S256) in the user's browser, redirected to a one-shot
  listener on the callback URL registered in the app (:data:`DEFAULT_REDIRECT_URI` unless
  the workspace names another), or to a code the user pastes when that port is taken
  (:func:`authorize_in_browser`). A public app sends no secret; a confidential one ("Require
  Secret for Web Server Flow") sends its secret with the code verifier;
- refresh with rotation (:func:`refresh_access_token`): a rotated refresh token is saved
  before the new access token is used, and a refresh runs under a lock shared by every
  process of the workspace (:class:`~core.sources.refresh_lock.RefreshLock`);
- JWT bearer with a private key (:func:`jwt_bearer_token`);
- client credentials against a My Domain (:func:`client_credentials_token`);
- the legacy SOAP username + password + security token login
  (:func:`soap_password_login`), which Salesforce retires in Summer '27: it works, with
  :data:`LEGACY_PASSWORD_NOTICE` shown wherever it is used.

An :class:`Authenticator` wraps one flow for the connection: a first token, and a new one
after Salesforce answers 401 ``INVALID_SESSION_ID``, without asking the user.
"""

from __future__ import annotations

import base64
import hashlib
import html
import http.server
import logging
import secrets
import threading
import time
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import requests
from simple_salesforce.exceptions import SalesforceAuthenticationFailed
from simple_salesforce.login import soap_login

from core import credentials
from core.credentials import remember_for_redaction
from core.sources.errors import AuthError, NotConnected, SourceUnavailable

log = logging.getLogger(__name__)

SYSTEM = "salesforce"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
DEFAULT_SCOPE = "api refresh_token"
# Salesforce redirects only to a callback URL registered on the app, compared exactly
# ("redirect_uri must match configuration"), so the listener cannot pick a free port: it
# listens where the app says. This loopback shape is the one command-line tools commonly
# register; a workspace may name another (Profile.salesforce_redirect_uri).
# Sources: help.salesforce.com "Configure Basic Connected App Settings" (Callback URL) and
# help article 001122778 (redirect_uri_mismatch when the URLs differ).
DEFAULT_REDIRECT_URI = "http://localhost:1717/OauthRedirect"
LEGACY_PASSWORD_NOTICE = (
    "This workspace signs in to Salesforce with a username, password and security token "
    "(SOAP login). Salesforce retires that login in Summer '27; switch the workspace to "
    "browser sign-in (PKCE), JWT or client credentials before then.")


@dataclass(frozen=True)
class Token:
    """An access token and where to use it (plus a refresh token when one was issued)."""

    access_token: str = field(repr=False)
    instance_url: str
    refresh_token: str | None = field(default=None, repr=False)


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


def token_endpoint(login_url: str) -> str:
    """``/services/oauth2/token`` on the login host."""
    return login_url.rstrip("/") + "/services/oauth2/token"


def authorize_endpoint(login_url: str) -> str:
    """``/services/oauth2/authorize`` on the login host."""
    return login_url.rstrip("/") + "/services/oauth2/authorize"


def request_token(session: requests.Session, login_url: str, form: dict[str, str], *,
                  basic: tuple[str, str] | None = None) -> Token:
    """POST a token request; return the token or raise :class:`AuthError` with the reason."""
    headers = {"Accept": "application/json"}
    if basic is not None:
        pair = f"{basic[0]}:{basic[1]}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    try:
        response = session.post(token_endpoint(login_url), data=form, headers=headers)
    except requests.RequestException as exc:
        raise SourceUnavailable(SYSTEM, f"Could not reach the Salesforce login host "
                                        f"{_host(login_url)}: {type(exc).__name__}") from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
        if isinstance(body, dict) and body.get("error"):
            reason = f"{body['error']}: {body.get('error_description') or ''}".strip(": ")
        else:
            reason = f"HTTP {response.status_code}"
        raise AuthError(SYSTEM, f"Salesforce refused the sign-in at {_host(login_url)} "
                                f"({form.get('grant_type', 'token')}): {reason}. Sign in again.")
    remember_for_redaction(body["access_token"])
    remember_for_redaction(body.get("refresh_token"))
    return Token(body["access_token"], body.get("instance_url") or login_url.rstrip("/"),
                 body.get("refresh_token"))


# -- authorization code + PKCE ------------------------------------------------------------

def pkce_pair() -> tuple[str, str]:
    """A ``(code_verifier, code_challenge)`` pair for S256."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _loopback(redirect_uri: str | None) -> tuple[str, int, str]:
    """``(host, port, path)`` of a loopback redirect (:data:`DEFAULT_REDIRECT_URI` if none)."""
    parts = urlsplit(redirect_uri or DEFAULT_REDIRECT_URI)
    if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "localhost"):
        raise AuthError(SYSTEM, f"The browser sign-in redirect must be http://127.0.0.1 or "
                                f"http://localhost (with a port), not {redirect_uri!r}.")
    return parts.hostname, parts.port or 80, parts.path or "/"


_DONE_PAGE = ("<!doctype html><meta charset=utf-8><title>Concord</title>"
              "<p style='font-family:sans-serif'>{message}</p>")


class PortTaken(Exception):
    """The registered callback's port is in use by another program."""


class LoopbackReceiver:
    """A one-shot HTTP listener on 127.0.0.1 at the registered callback's port and path.

    It serves in a background thread until a request to that path carries the expected
    ``state`` (other requests, such as a favicon or a stale tab, are answered and
    ignored), then stops. Raises :class:`PortTaken` when the port is in use.
    """

    def __init__(self, state: str, redirect_uri: str | None = None):
        self.state = state
        self.params: dict[str, str] | None = None
        host, port, path = _loopback(redirect_uri)
        self.host, self.path = host, path
        self._done = threading.Event()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, fmt, *args):  # the query string holds the code: never log it
                pass

            def do_GET(self):
                parts = urlsplit(self.path)
                params = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if parts.path != receiver.path or params.get("state") != receiver.state:
                    self._answer(404, "Nothing to see here.")
                    return
                receiver.params = params
                if "error" in params:
                    self._answer(200, "Salesforce did not connect Concord: "
                                      f"{html.escape(params.get('error_description') or params['error'])}. "
                                      "You can close this tab.")
                else:
                    self._answer(200, "Concord is connected to Salesforce. You can close this tab.")
                receiver._done.set()

            def _answer(self, status: int, message: str):
                body = _DONE_PAGE.format(message=message).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

        self.redirect_uri = redirect_uri or DEFAULT_REDIRECT_URI
        try:
            self._server = http.server.HTTPServer(("127.0.0.1", port), Handler)
        except OSError as exc:
            raise PortTaken(f"127.0.0.1:{port}: {exc.strerror}") from None
        self._server.timeout = 0.1
        self._thread = threading.Thread(target=self._serve, name="oauth-loopback", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._done.is_set():
            self._server.handle_request()

    def wait(self, timeout: float, cancel: threading.Event | None = None) -> dict[str, str] | None:
        """The callback's parameters, or None after ``timeout`` seconds or a cancel."""
        deadline = time.monotonic() + timeout
        while not self._done.wait(0.1):
            if time.monotonic() >= deadline or (cancel is not None and cancel.is_set()):
                return None
        return self.params

    def close(self) -> None:
        """Stop listening."""
        self._done.set()
        self._thread.join(timeout=2)
        self._server.server_close()


def _pasted_answer(text: str | None, state: str) -> dict[str, str] | None:
    """The callback parameters from what the user pasted: the whole address the browser
    ended on (its ``state`` must match), or the code alone."""
    text = (text or "").strip()
    if not text:
        return None
    if "code=" in text or "error=" in text:
        query = urlsplit(text).query or text.split("?", 1)[-1]
        params = {k: v[0] for k, v in parse_qs(query).items()}
        if params.get("state", state) != state:
            raise AuthError(SYSTEM, "The pasted address belongs to another sign-in attempt; "
                                    "start the sign-in again.")
        return params
    return {"code": text}


def authorize_in_browser(session: requests.Session, login_url: str, client_id: str, *,
                         open_browser: Callable[[str], object] = webbrowser.open,
                         timeout: float = 300.0, scope: str = DEFAULT_SCOPE,
                         login_hint: str | None = None, redirect_uri: str | None = None,
                         client_secret: str | None = None,
                         paste: Callable[[str], str | None] | None = None,
                         cancel: threading.Event | None = None) -> Token:
    """Sign in through the user's browser (authorization code + PKCE).

    ``open_browser(url)`` shows Salesforce's sign-in page (tests pass a function that plays
    the browser). ``redirect_uri`` is the callback URL registered on the app
    (:data:`DEFAULT_REDIRECT_URI` if None): Concord listens there. When that port is taken,
    ``paste(message)`` is asked for the address the browser ended on (or the code in it);
    without ``paste`` that is an :class:`AuthError`. ``client_secret`` is sent with the code
    verifier for a confidential app ("Require Secret for Web Server Flow"; PKCE still
    applies: help.salesforce.com "Proof Key for Code Exchange (PKCE) Extension").
    Raises :class:`AuthError` when the user refuses, the wait times out, or the exchange
    fails.
    """
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(24)
    redirect_uri = redirect_uri or DEFAULT_REDIRECT_URI
    try:
        receiver: LoopbackReceiver | None = LoopbackReceiver(state, redirect_uri)
    except PortTaken as taken:
        if paste is None:
            raise AuthError(SYSTEM, f"Cannot listen on {taken} for the browser sign-in; close "
                                    f"what uses that port, or register another callback URL "
                                    f"on the app and in the workspace.") from None
        receiver = None
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
              "code_challenge": challenge, "code_challenge_method": "S256", "state": state,
              "scope": scope, "prompt": "login consent"}
    if login_hint:
        params["login_hint"] = login_hint
    try:
        open_browser(authorize_endpoint(login_url) + "?" + urlencode(params))
        if receiver is not None:
            answer = receiver.wait(timeout, cancel)
        else:
            answer = _pasted_answer(paste(
                f"Another program uses the port of {redirect_uri}, so Concord cannot receive "
                f"the sign-in by itself. After signing in, copy the address the browser ends "
                f"on (it contains code=...) and paste it here."), state)  # type: ignore[misc]
    finally:
        if receiver is not None:
            receiver.close()
    if answer is None:
        raise AuthError(SYSTEM, f"No answer from the Salesforce sign-in page within "
                                f"{int(timeout)} s (or it was cancelled); try again.")
    if "error" in answer or not answer.get("code"):
        reason = answer.get("error_description") or answer.get("error") or "no code returned"
        raise AuthError(SYSTEM, f"Salesforce did not connect Concord: {reason}.")
    remember_for_redaction(answer["code"])
    form = {"grant_type": "authorization_code", "code": answer["code"], "client_id": client_id,
            "redirect_uri": redirect_uri, "code_verifier": verifier}
    if client_secret:
        form["client_secret"] = client_secret
    return request_token(session, login_url, form)


def refresh_access_token(session: requests.Session, login_url: str, client_id: str,
                         refresh_token: str, client_secret: str | None = None) -> Token:
    """A new access token from a refresh token (Salesforce may rotate the refresh token)."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}
    if client_secret:
        form["client_secret"] = client_secret
    return request_token(session, login_url, form)


# -- JWT bearer and client credentials ----------------------------------------------------

def jwt_audience(login_url: str) -> str:
    """The ``aud`` claim: the login host itself for login/test and local sandboxes; for a
    My Domain, login.salesforce.com (test.salesforce.com for a Salesforce sandbox org)."""
    host = urlsplit(login_url).hostname or ""
    if host in ("login.salesforce.com", "test.salesforce.com", "127.0.0.1", "localhost"):
        return login_url.rstrip("/")
    if ".sandbox.my.salesforce.com" in host or "--" in host:
        return "https://test.salesforce.com"
    return "https://login.salesforce.com"


def jwt_bearer_token(session: requests.Session, login_url: str, client_id: str, username: str,
                     private_key: str, *, audience: str | None = None,
                     lifetime: int = 180) -> Token:
    """An access token for ``username`` from an RS256 assertion signed with ``private_key``."""
    claims = {"iss": client_id, "sub": username, "aud": audience or jwt_audience(login_url),
              "exp": int(time.time()) + lifetime}
    try:
        assertion = jwt.encode(claims, private_key, algorithm="RS256")
    except (ValueError, TypeError, jwt.PyJWTError) as exc:
        raise AuthError(SYSTEM, f"The JWT private key cannot sign ({type(exc).__name__}); "
                                f"check the key file of this workspace.") from None
    return request_token(session, login_url, {"grant_type": JWT_GRANT, "assertion": assertion})


def client_credentials_token(session: requests.Session, login_url: str, client_id: str,
                             client_secret: str) -> Token:
    """An access token for the connected app's run-as user (needs a My Domain login URL)."""
    host = urlsplit(login_url).hostname or ""
    if host in ("login.salesforce.com", "test.salesforce.com"):
        raise AuthError(SYSTEM, "The client credentials flow needs the org's My Domain "
                                "login URL (https://<domain>.my.salesforce.com), not "
                                f"{host}.")
    return request_token(session, login_url, {"grant_type": "client_credentials"},
                         basic=(client_id, client_secret))


# -- legacy SOAP login ----------------------------------------------------------------------

def soap_password_login(session: requests.Session, login_url: str, username: str,
                        password: str, security_token: str, version: str) -> Token:
    """The legacy SOAP partner ``login`` (see :data:`LEGACY_PASSWORD_NOTICE`)."""
    body = (
        '<?xml version="1.0" encoding="utf-8" ?>'
        '<env:Envelope xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:urn="urn:partner.soap.sforce.com">'
        "<env:Header><urn:CallOptions><urn:client>Concord</urn:client>"
        "<urn:defaultNamespace>sf</urn:defaultNamespace></urn:CallOptions></env:Header>"
        '<env:Body><n1:login xmlns:n1="urn:partner.soap.sforce.com">'
        f"<n1:username>{html.escape(username)}</n1:username>"
        f"<n1:password>{html.escape(password)}{html.escape(security_token)}</n1:password>"
        "</n1:login></env:Body></env:Envelope>")
    url = f"{login_url.rstrip('/')}/services/Soap/u/{version}"
    headers = {"content-type": "text/xml", "charset": "UTF-8", "SOAPAction": "login"}
    try:
        session_id, instance = soap_login(url, body, headers, None, session)
    except SalesforceAuthenticationFailed as exc:
        raise AuthError(SYSTEM, f"Salesforce refused the username/password login at "
                                f"{_host(login_url)}: {exc.code}.") from None
    except requests.RequestException as exc:
        raise SourceUnavailable(SYSTEM, f"Could not reach {_host(login_url)}: "
                                        f"{type(exc).__name__}") from None
    remember_for_redaction(session_id)
    return Token(session_id, f"https://{instance}")


# -- where tokens live ------------------------------------------------------------------------

class TokenStore:
    """Keeps the current access token (and the refresh token) between calls and runs.

    This base class keeps them in memory only (a sandbox, a test); see
    :class:`KeyringTokenStore` for a workspace.
    """

    def __init__(self, token: Token | None = None, refresh_token: str | None = None):
        self._token = token
        self._refresh = refresh_token

    def load(self) -> Token | None:
        """The current token, or None."""
        return self._token

    def save(self, token: Token) -> None:
        """Keep a new token; a rotated refresh token is saved before the access token."""
        if token.refresh_token:
            self.save_refresh_token(token.refresh_token)
        self._token = token

    def refresh_token(self) -> str | None:
        """The refresh token, or None."""
        return self._refresh

    def save_refresh_token(self, value: str) -> None:
        """Keep a (rotated) refresh token."""
        self._refresh = value


class KeyringTokenStore(TokenStore):
    """Tokens of a workspace in the OS keyring; the instance URL (not secret) goes to
    ``on_instance_url`` (the workspace profile)."""

    def __init__(self, workspace: str, instance_url: str = "",
                 on_instance_url: Callable[[str], None] | None = None):
        super().__init__()
        self.workspace = workspace
        self.instance_url = instance_url
        self.on_instance_url = on_instance_url

    def load(self) -> Token | None:
        access = credentials.get_secret(self.workspace, credentials.SALESFORCE_ACCESS_TOKEN)
        if not access or not self.instance_url:
            return None
        remember_for_redaction(access)
        return Token(access, self.instance_url)

    def save(self, token: Token) -> None:
        if token.refresh_token:
            self.save_refresh_token(token.refresh_token)
        credentials.store_secret(self.workspace, credentials.SALESFORCE_ACCESS_TOKEN,
                                 token.access_token)
        if token.instance_url != self.instance_url:
            self.instance_url = token.instance_url
            if self.on_instance_url is not None:
                self.on_instance_url(token.instance_url)

    def refresh_token(self) -> str | None:
        value = credentials.get_secret(self.workspace, credentials.SALESFORCE_REFRESH_TOKEN)
        remember_for_redaction(value)
        return value

    def save_refresh_token(self, value: str) -> None:
        credentials.store_secret(self.workspace, credentials.SALESFORCE_REFRESH_TOKEN, value)


# -- authenticators -------------------------------------------------------------------------

class Authenticator:
    """One sign-in method: :meth:`token` gives a usable token, :meth:`renew` a new one after
    Salesforce refused the current one. ``notice`` is a warning to show the user, if any."""

    method = "token"
    notice: str | None = None

    def __init__(self, store: TokenStore | None = None):
        self.store = store or TokenStore()
        self.renewals = 0

    def token(self, session: requests.Session) -> Token:
        """The stored token if there is one, else a fresh one."""
        return self.store.load() or self.renew(session)

    def renew(self, session: requests.Session, failed: Token | None = None) -> Token:
        """A new token (saved in the store before it is returned); ``failed`` is the token
        Salesforce just refused, if any."""
        token = self._fetch(session)
        self.store.save(token)
        self.renewals += 1
        return token

    def _fetch(self, session: requests.Session) -> Token:
        raise NotImplementedError


class StaticTokenAuth(Authenticator):
    """A token handed over as is (a sandbox's info file); it cannot be renewed."""

    method = "token"

    def __init__(self, access_token: str, instance_url: str):
        remember_for_redaction(access_token)
        super().__init__(TokenStore(Token(access_token, instance_url)))

    def _fetch(self, session):
        raise AuthError(SYSTEM, "The Salesforce session expired and this connection has no "
                                "way to renew it; connect again.")


class RefreshTokenAuth(Authenticator):
    """A connection made once in the browser (PKCE): renewed with the stored refresh token.

    With a ``lock`` (a workspace), the refresh is single-flight across processes: under the
    lock the stored token is read again, and if another process already renewed the session
    its token is used instead of sending a refresh token that may have been rotated away
    (with rotation on, Salesforce revokes on reuse). ``client_secret`` is sent when the app
    requires it ("Require Secret for Refresh Token Flow").
    """

    method = "pkce"

    def __init__(self, login_url: str, client_id: str, store: TokenStore,
                 client_secret: str | None = None, lock=None):
        super().__init__(store)
        self.login_url = login_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.lock = lock
        self._handed_out: str | None = None  # the access token this connection last used

    def token(self, session: requests.Session) -> Token:
        token = super().token(session)
        self._handed_out = token.access_token
        return token

    def renew(self, session: requests.Session, failed: Token | None = None) -> Token:
        refused = failed.access_token if failed is not None else self._handed_out
        if self.lock is None:
            token = super().renew(session)
        else:
            with self.lock:
                stored = self.store.load()
                if stored is not None and stored.access_token != refused:
                    token = stored  # another process renewed the session meanwhile
                else:
                    token = super().renew(session)
        self._handed_out = token.access_token
        return token

    def _fetch(self, session):
        refresh = self.store.refresh_token()
        if not refresh:
            raise NotConnected(SYSTEM, "This workspace has no Salesforce sign-in yet; connect "
                                       "it (browser sign-in) first.")
        return refresh_access_token(session, self.login_url, self.client_id, refresh,
                                    self.client_secret)


class JwtAuth(Authenticator):
    """JWT bearer: a new assertion whenever a token is needed (no refresh token)."""

    method = "jwt"

    def __init__(self, login_url: str, client_id: str, username: str, private_key: str,
                 store: TokenStore | None = None, audience: str | None = None):
        super().__init__(store)
        self.login_url, self.client_id, self.username = login_url, client_id, username
        self._private_key = private_key
        self.audience = audience

    def _fetch(self, session):
        return jwt_bearer_token(session, self.login_url, self.client_id, self.username,
                                self._private_key, audience=self.audience)


class ClientCredentialsAuth(Authenticator):
    """Client credentials against a My Domain (the connected app's run-as user)."""

    method = "client_credentials"

    def __init__(self, login_url: str, client_id: str, client_secret: str,
                 store: TokenStore | None = None):
        super().__init__(store)
        self.login_url, self.client_id = login_url, client_id
        self._client_secret = client_secret
        remember_for_redaction(client_secret)

    def _fetch(self, session):
        return client_credentials_token(session, self.login_url, self.client_id,
                                        self._client_secret)


class PasswordAuth(Authenticator):
    """Legacy username + password + security token (SOAP login); carries a notice."""

    method = "password"
    notice = LEGACY_PASSWORD_NOTICE

    def __init__(self, login_url: str, username: str, password: str, security_token: str,
                 version: str, store: TokenStore | None = None):
        super().__init__(store)
        self.login_url, self.username, self.version = login_url, username, version
        self._password, self._security_token = password, security_token
        remember_for_redaction(password)
        remember_for_redaction(security_token)

    def _fetch(self, session):
        return soap_password_login(session, self.login_url, self.username, self._password,
                                   self._security_token, self.version)
