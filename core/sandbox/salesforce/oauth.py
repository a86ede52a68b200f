"""Who may call the Salesforce sandbox: users, the connected app, sessions and the logins.

Covers the OAuth 2.0 flows Concord uses (authorization code with PKCE for a public desktop
client and for a confidential app that requires its secret, refresh with rotation, JWT
bearer, client credentials, and the legacy username-password flow) and the SOAP partner
``login``. As an org does, it redirects only to the callback URLs registered on the app
(exact match), and with rotation on it revokes a refresh token's whole family (its
sessions too) when an already rotated token is presented again. Errors are :class:`OAuthError`
(``{error, error_description}`` with 400/401) or :class:`LoginFault` (a SOAP fault).
Access tokens are Salesforce-shaped session ids (``00D...!...``) that expire after
``session_ttl`` seconds without use, like a real org's session timeout.
:class:`OAuthRoutes` serves the OAuth endpoints and identity URLs (the SOAP route is in
:mod:`core.sandbox.salesforce.soap`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import jwt

from ..ids import CONCORD_USER, ORG_ID, to18
from ..server import Request, Response, json_response
from .wire import bearer

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CODE_TTL = timedelta(minutes=15)  # Salesforce authorization codes live 15 minutes
LOGIN_HOSTS = ("https://login.salesforce.com", "https://test.salesforce.com")


class OAuthError(Exception):
    """A refused OAuth request: ``error`` and ``error_description`` as Salesforce sends them."""

    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status

    def as_wire(self) -> dict:
        return {"error": self.error, "error_description": self.description}


class LoginFault(Exception):
    """A refused SOAP login (rendered as a SOAP fault with HTTP 500)."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass
class User:
    """An org user who can log in, and what their profile and permission sets allow.

    Permissions really vary by org and user, so they are settings here. The default is a
    least-privilege integration user: API Enabled, read access to Contact, Lead and their
    fields, but not "View Setup and Configuration" (which the REST ``/limits`` resource
    needs: developer.salesforce.com REST API guide, "Limits"). ``hidden_objects`` and
    ``hidden_fields`` (``"Contact.EmailBouncedDate"``) are what the user cannot see: SOQL
    then answers INVALID_TYPE / INVALID_FIELD, as for an object or field that is not there.
    """

    username: str
    password: str
    security_token: str
    user_id: str
    display_name: str = "Sandbox User"
    view_setup: bool = False
    api_enabled: bool = True
    hidden_objects: set[str] = field(default_factory=set)
    hidden_fields: set[str] = field(default_factory=set)


@dataclass
class Session:
    """One access token: whose it is and until when it works without being used.
    ``family`` names the refresh-token chain it came from (None: no refresh token)."""

    token: str
    user: User
    client_id: str | None
    ttl: timedelta
    expires_at: datetime
    family: str | None = None


@dataclass
class _RefreshGrant:
    user: User
    client_id: str
    scopes: frozenset[str]
    family: str


@dataclass
class _PendingCode:
    client_id: str
    redirect_uri: str
    challenge: str
    user: User
    scopes: frozenset[str]
    expires_at: datetime


DEFAULT_CALLBACK = "http://localhost:1717/OauthRedirect"


@dataclass
class ConnectedApp:
    """The org's apps: a confidential one (``client_id``, its secret, the certificate's
    public key for JWT bearer) and a public desktop one (``public_client_id``, PKCE only).

    The switches are settings an admin really chooses per app (help.salesforce.com,
    "Configure Basic Connected App Settings" / "Enable OAuth Settings"):
    ``redirect_uris`` are its callback URLs (matched exactly; no loopback wildcard);
    ``require_secret_web_server`` and ``require_secret_refresh`` are "Require Secret for
    Web Server Flow" (recommended, on) and "Require Secret for Refresh Token Flow" of the
    confidential app; ``rotate_refresh_tokens`` is "Enable Refresh Token Rotation".
    """

    client_id: str = field(default_factory=lambda: "3MVG9sandbox" + secrets.token_hex(20))
    client_secret: str = field(default_factory=lambda: secrets.token_hex(32))
    public_client_id: str = field(default_factory=lambda: "3MVG9desktop" + secrets.token_hex(20))
    jwt_public_key: str | None = None  # PEM
    redirect_uris: tuple[str, ...] = (DEFAULT_CALLBACK,)
    run_as: str = CONCORD_USER  # the client-credentials flow's execution user
    require_secret_web_server: bool = True
    require_secret_refresh: bool = True
    rotate_refresh_tokens: bool = True


class Identity:
    """Users, the connected app and live sessions of one org; thread-safe."""

    def __init__(self, clock: Callable[[], datetime], *, session_ttl: float = 7200,
                 app: ConnectedApp | None = None):
        self.clock = clock
        self.session_ttl = timedelta(seconds=session_ttl)
        self.connected_app = app or ConnectedApp()
        self.users: dict[str, User] = {}
        self.instance_url = "https://127.0.0.1"  # set once the server knows its port
        self._sessions: dict[str, Session] = {}
        self._refresh: dict[str, _RefreshGrant] = {}
        self._rotated: dict[str, str] = {}  # refresh tokens rotated away -> their family
        self.revoked_families: list[str] = []  # families revoked for reuse (tests read it)
        self._codes: dict[str, _PendingCode] = {}
        self._lock = threading.Lock()
        self.add_user(User("concord@sandbox.example", "sandbox-password", "SANDBOXTOKEN",
                           to18(CONCORD_USER), "Concord Sandbox"))

    # -- users and sessions ----------------------------------------------------------------

    def add_user(self, user: User) -> User:
        """Register a user who can log in (SOAP, OAuth password, JWT subject)."""
        user.user_id = to18(user.user_id)
        self.users[user.username.lower()] = user
        return user

    @property
    def default_user(self) -> User:
        return next(iter(self.users.values()))

    def user_by_id(self, user_id: str) -> User:
        """The user with this id; an unknown id becomes a user (tokens for any org user)."""
        user_id = to18(user_id)
        for user in self.users.values():
            if user.user_id == user_id:
                return user
        return self.add_user(User(f"{user_id.lower()}@sandbox.example", secrets.token_hex(8),
                                  secrets.token_hex(8), user_id))

    def issue_session(self, user: User, client_id: str | None = None, *,
                      ttl: float | None = None, family: str | None = None) -> Session:
        """A fresh access token for ``user``."""
        token = f"{ORG_ID}!{secrets.token_urlsafe(72)}"
        life = self.session_ttl if ttl is None else timedelta(seconds=ttl)
        session = Session(token, user, client_id, life, self.clock() + life, family)
        with self._lock:
            self._sessions[token] = session
        return session

    def authenticate(self, token: str | None) -> Session | None:
        """The live session of a bearer token (its idle timer restarts), or None."""
        if not token:
            return None
        now = self.clock()
        with self._lock:
            session = self._sessions.get(token)
            if session is None:
                return None
            if session.expires_at <= now:
                del self._sessions[token]
                return None
            session.expires_at = now + session.ttl
            return session

    def expire(self, token: str | None = None) -> int:
        """End one session, or all of them; returns how many ended."""
        with self._lock:
            if token is None:
                count = len(self._sessions)
                self._sessions.clear()
                return count
            return 1 if self._sessions.pop(token, None) else 0

    def revoke(self, token: str) -> bool:
        """Revoke an access or refresh token (``/services/oauth2/revoke``)."""
        with self._lock:
            found = self._sessions.pop(token, None) is not None
            found = self._refresh.pop(token, None) is not None or found
        return found

    # -- token answers -----------------------------------------------------------------------

    def _token_response(self, user: User, client_id: str | None, *, refresh: bool,
                        scopes: frozenset[str] = frozenset({"api"}),
                        family: str | None = None, rotate: bool = True) -> dict:
        if refresh and family is None:
            family = secrets.token_hex(8)
        session = self.issue_session(user, client_id, family=family if refresh else None)
        issued_at = str(int(self.clock().timestamp() * 1000))
        identity_url = f"{self.instance_url}/id/{to18(ORG_ID)}/{user.user_id}"
        signature = base64.b64encode(hmac.new(self.connected_app.client_secret.encode(),
                                              (identity_url + issued_at).encode(),
                                              hashlib.sha256).digest()).decode()
        body = {"access_token": session.token, "instance_url": self.instance_url,
                "id": identity_url, "token_type": "Bearer", "issued_at": issued_at,
                "signature": signature, "scope": " ".join(sorted(scopes))}
        if refresh and rotate:
            refresh_token = f"5Aep861{secrets.token_urlsafe(60)}"
            with self._lock:
                self._refresh[refresh_token] = _RefreshGrant(user, client_id or "", scopes,
                                                             family)  # type: ignore[arg-type]
            body["refresh_token"] = refresh_token
        return body

    def _client(self, client_id: str | None) -> str:
        app = self.connected_app
        if client_id not in (app.client_id, app.public_client_id):
            raise OAuthError("invalid_client_id", "client identifier invalid")
        return client_id  # type: ignore[return-value]

    def token(self, form: dict[str, str], authorization: str | None) -> dict:
        """Answer ``POST /services/oauth2/token``; raises :class:`OAuthError`."""
        grant = form.get("grant_type")
        if grant == "authorization_code":
            return self._grant_code(form)
        if grant == "refresh_token":
            return self._grant_refresh(form)
        if grant == JWT_GRANT:
            return self._grant_jwt(form)
        if grant == "client_credentials":
            return self._grant_client_credentials(form, authorization)
        if grant == "password":
            return self._grant_password(form)
        raise OAuthError("unsupported_grant_type", "grant type not supported")

    # authorization code + PKCE ---------------------------------------------------------------

    def redirect_allowed(self, uri: str) -> bool:
        """Only a callback URL registered on the app, compared exactly (a loopback URL on
        another port is refused too, as Salesforce does: "redirect_uri must match
        configuration")."""
        return uri in self.connected_app.redirect_uris

    def authorize(self, params: dict[str, str]) -> str:
        """Simulated consent: the redirect URL (with ``code``/``state`` or ``error``).

        Raises :class:`OAuthError` when there is no trustworthy place to redirect to.
        """
        client_id = self._client(params.get("client_id"))
        redirect_uri = params.get("redirect_uri") or ""
        if not self.redirect_allowed(redirect_uri):
            raise OAuthError("redirect_uri_mismatch",
                             "redirect_uri must match configuration")
        state = params.get("state")

        def back(**values) -> str:
            if state is not None:
                values["state"] = state
            joiner = "&" if "?" in redirect_uri else "?"
            return redirect_uri + joiner + urlencode(values)

        if params.get("response_type") != "code":
            return back(error="unsupported_response_type",
                        error_description="response type not supported")
        challenge = params.get("code_challenge")
        if not challenge or params.get("code_challenge_method") != "S256":
            return back(error="invalid_request",
                        error_description="this client requires PKCE: send code_challenge "
                                          "with code_challenge_method=S256")
        hint = (params.get("login_hint") or "").lower()
        user = self.users.get(hint) or self.default_user
        scopes = frozenset((params.get("scope") or "api refresh_token").split())
        code = "aPrx" + secrets.token_urlsafe(48)
        with self._lock:
            self._codes[code] = _PendingCode(client_id, redirect_uri, challenge, user, scopes,
                                             self.clock() + CODE_TTL)
        return back(code=code)

    def _grant_code(self, form: dict[str, str]) -> dict:
        client_id = self._client(form.get("client_id"))
        code = form.get("code") or ""
        with self._lock:
            pending = self._codes.pop(code, None)  # single use, even when it fails below
        if pending is None or pending.expires_at <= self.clock():
            raise OAuthError("invalid_grant", "invalid authorization code")
        if pending.client_id != client_id:
            raise OAuthError("invalid_grant", "invalid authorization code")
        if form.get("redirect_uri") != pending.redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri must match configuration")
        self._check_secret(client_id, form, self.connected_app.require_secret_web_server)
        verifier = form.get("code_verifier") or ""
        expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()
                                            ).rstrip(b"=").decode()
        if not verifier or not hmac.compare_digest(expected, pending.challenge):
            raise OAuthError("invalid_grant", "invalid code verifier")
        refresh = bool(pending.scopes & {"refresh_token", "offline_access", "full"})
        return self._token_response(pending.user, client_id, refresh=refresh,
                                    scopes=pending.scopes)

    def _check_secret(self, client_id: str, form: dict[str, str], required: bool) -> None:
        """The confidential app's secret: required when its setting says so, and checked
        whenever it is sent."""
        app = self.connected_app
        sent = form.get("client_secret")
        if client_id != app.client_id:
            return  # the public app has no secret to check
        if (required and not sent) or (sent and not hmac.compare_digest(sent, app.client_secret)):
            raise OAuthError("invalid_client", "invalid client credentials")

    def _grant_refresh(self, form: dict[str, str]) -> dict:
        client_id = self._client(form.get("client_id"))
        token = form.get("refresh_token") or ""
        self._check_secret(client_id, form, self.connected_app.require_secret_refresh)
        rotate = self.connected_app.rotate_refresh_tokens
        with self._lock:
            reused = self._rotated.get(token)
            if reused is not None:
                self._revoke_family(reused)
                raise OAuthError("invalid_grant", "expired access/refresh token")
            grant = self._refresh.get(token)
            if grant is None or grant.client_id != client_id:
                raise OAuthError("invalid_grant", "expired access/refresh token")
            if rotate:  # the old refresh token stops working; presenting it again revokes
                del self._refresh[token]
                self._rotated[token] = grant.family
        return self._token_response(grant.user, client_id, refresh=True, scopes=grant.scopes,
                                    family=grant.family, rotate=rotate)

    def _revoke_family(self, family: str) -> None:
        """Reuse of a rotated refresh token: every refresh token and session of its chain
        stops working (the caller holds the lock)."""
        self.revoked_families.append(family)
        for token in [t for t, g in self._refresh.items() if g.family == family]:
            del self._refresh[token]
        for token in [t for t, s in self._sessions.items() if s.family == family]:
            del self._sessions[token]

    # JWT bearer ----------------------------------------------------------------------------

    def _grant_jwt(self, form: dict[str, str]) -> dict:
        assertion = form.get("assertion") or ""
        key = self.connected_app.jwt_public_key
        if not key:
            raise OAuthError("invalid_client", "no certificate is registered for JWT bearer")
        try:
            claims = jwt.decode(assertion, key, algorithms=["RS256"],
                                options={"require": ["iss", "sub", "aud", "exp"],
                                         "verify_aud": False, "verify_exp": False})
        except jwt.InvalidTokenError as exc:
            raise OAuthError("invalid_grant", f"invalid assertion: {exc}") from None
        if claims["iss"] != self.connected_app.client_id:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        allowed = {*LOGIN_HOSTS, self.instance_url}
        if not any(a.rstrip("/") in allowed for a in audiences):
            raise OAuthError("invalid_grant", f"audience {claims['aud']!r} is not "
                                              f"{self.instance_url} or a login host")
        if float(claims["exp"]) <= self.clock().timestamp():
            raise OAuthError("invalid_grant", "expired assertion")
        user = self.users.get(str(claims["sub"]).lower())
        if user is None:
            raise OAuthError("invalid_grant", "user hasn't approved this consumer")
        return self._token_response(user, self.connected_app.client_id, refresh=False)

    # client credentials and password --------------------------------------------------------

    def _confidential(self, form: dict[str, str], authorization: str | None) -> str:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip()).decode()
            except (ValueError, UnicodeDecodeError):
                raise OAuthError("invalid_client", "invalid client credentials") from None
            client_id, _, secret = decoded.partition(":")
        app = self.connected_app
        if client_id != app.client_id or not secret or \
                not hmac.compare_digest(secret, app.client_secret):
            raise OAuthError("invalid_client", "invalid client credentials")
        return client_id

    def _grant_client_credentials(self, form: dict[str, str], authorization: str | None) -> dict:
        client_id = self._confidential(form, authorization)
        user = self.user_by_id(self.connected_app.run_as)
        return self._token_response(user, client_id, refresh=False)

    def _grant_password(self, form: dict[str, str]) -> dict:
        client_id = self._confidential(form, None)
        user = self.users.get((form.get("username") or "").lower())
        if user is None or form.get("password") not in (user.password + user.security_token,
                                                          user.password):
            raise OAuthError("invalid_grant", "authentication failure")
        return self._token_response(user, client_id, refresh=False)

    # -- SOAP partner login ------------------------------------------------------------------

    def soap_login(self, body: bytes, version: str) -> str:
        """Answer a partner ``login`` envelope with the success envelope; raises LoginFault."""
        if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
            raise LoginFault("INVALID_LOGIN", "Document type declarations are not allowed")
        try:
            root = ElementTree.fromstring(body)
        except ElementTree.ParseError as exc:
            raise LoginFault("INVALID_LOGIN", f"malformed SOAP envelope: {exc}") from None
        values = {el.tag.rsplit("}", 1)[-1]: (el.text or "") for el in root.iter()}
        if "login" not in values:
            raise LoginFault("INVALID_OPERATION", "only the login operation is served here")
        user = self.users.get(values.get("username", "").lower())
        password = values.get("password", "")
        org = values.get("organizationId")
        ok = user is not None and (
            password == user.password + user.security_token
            or (org is not None and to18(org) == to18(ORG_ID) and password == user.password))
        if not ok:
            raise LoginFault("INVALID_LOGIN",
                             "Invalid username, password, security token; or user locked out.")
        session = self.issue_session(user)
        server = f"{self.instance_url}/services/Soap/u/{version}/{ORG_ID}"
        seconds = int(self.session_ttl.total_seconds())
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns="urn:partner.soap.sforce.com" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            "<soapenv:Body><loginResponse><result>"
            f"<metadataServerUrl>{self.instance_url}/services/Soap/m/{version}/{ORG_ID}"
            "</metadataServerUrl>"
            "<passwordExpired>false</passwordExpired><sandbox>true</sandbox>"
            f"<serverUrl>{escape(server)}</serverUrl>"
            f"<sessionId>{escape(session.token)}</sessionId>"
            f"<userId>{user.user_id}</userId>"
            "<userInfo>"
            f"<organizationId>{to18(ORG_ID)}</organizationId>"
            f"<sessionSecondsValid>{seconds}</sessionSecondsValid>"
            f"<userEmail>{escape(user.username)}</userEmail>"
            f"<userFullName>{escape(user.display_name)}</userFullName>"
            f"<userId>{user.user_id}</userId>"
            f"<userName>{escape(user.username)}</userName>"
            "</userInfo></result></loginResponse></soapenv:Body></soapenv:Envelope>"
        )


def soap_fault(fault: LoginFault) -> str:
    """The SOAP fault envelope simple-salesforce reads ``sf:exceptionCode`` from."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:sf="urn:fault.partner.soap.sforce.com" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<soapenv:Body><soapenv:Fault>"
        f"<faultcode>sf:{fault.code}</faultcode>"
        f"<faultstring>{fault.code}: {escape(fault.message)}</faultstring>"
        '<detail><sf:LoginFault xsi:type="sf:LoginFault">'
        f"<sf:exceptionCode>{fault.code}</sf:exceptionCode>"
        f"<sf:exceptionMessage>{escape(fault.message)}</sf:exceptionMessage>"
        "</sf:LoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )


def pkce_pair() -> tuple[str, str]:
    """A PKCE ``(code_verifier, code_challenge)`` pair (S256), for clients and tests."""
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()
                                         ).rstrip(b"=").decode()
    return verifier, challenge


class OAuthRoutes:
    """The OAuth endpoints (authorize, token, revoke) and the identity URLs; needs
    ``self.identity`` and ``self.instance_url``."""

    def _authorize_page(self, request: Request) -> Response:
        params = {k: v[0] for k, v in request.query.items()}
        try:
            location = self.identity.authorize(params)
        except OAuthError as exc:
            return json_response(400, exc.as_wire())
        return Response(302, b"", {"Location": location}, "text/html;charset=UTF-8")

    def _token(self, request: Request) -> Response:
        try:
            body = self.identity.token(request.form(), request.header("authorization"))
        except OAuthError as exc:
            return json_response(exc.status, exc.as_wire())
        return json_response(200, body)

    def _revoke(self, request: Request) -> Response:
        token = request.form().get("token") or request.param("token")
        if not token or not self.identity.revoke(token):
            return json_response(400, {"error": "unsupported_token_type",
                                       "error_description": "this token type is not supported"})
        return Response(200)

    def _userinfo(self, request: Request) -> Response:
        session = self.identity.authenticate(bearer(request))
        if session is None:
            return json_response(403, "Bad_OAuth_Token")
        return json_response(200, self._user_body(session))

    def _identity_url(self, request: Request, org: str, user: str) -> Response:
        session = self.identity.authenticate(bearer(request))
        if session is None or to18(user) != session.user.user_id:
            return json_response(403, "Bad_OAuth_Token")
        return json_response(200, self._user_body(session))

    def _user_body(self, session: Session) -> dict:
        user = session.user
        return {"user_id": user.user_id, "organization_id": to18(ORG_ID),
                "username": user.username, "preferred_username": user.username,
                "display_name": user.display_name, "email": user.username,
                "urls": {"rest": f"{self.instance_url}/services/data/v{{version}}/"}}
