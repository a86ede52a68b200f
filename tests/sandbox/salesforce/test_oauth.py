"""Logging in to the Salesforce sandbox: OAuth flows, SOAP login, sessions.

Concord performs OAuth itself, so the token endpoint is exercised with plain ``requests``;
simple-salesforce's own login paths (SOAP, JWT, client credentials) reach the sandbox
through a transport adapter that sends ``https://*.salesforce.com`` to it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import threading
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceAuthenticationFailed, SalesforceRefusedRequest

from core.sandbox.ids import CONCORD_USER, ORG_ID, to18
from core.sandbox.salesforce.oauth import pkce_pair
from tests.sandbox.salesforce.org import LoopbackRewrite, contact_id


@pytest.fixture
def rerouted(sf_http, sf_server):
    """The test session, with Salesforce login hosts rerouted to the sandbox."""
    for host in ("https://login.salesforce.com", "https://test.salesforce.com",
                 "https://acme.my.salesforce.com"):
        sf_http.mount(host, LoopbackRewrite(sf_server.base_url))
    return sf_http


@pytest.fixture
def redirect_listener(sf_app):
    """A throwaway loopback HTTP server that records the redirect the browser lands on
    (its URL registered on the apps as a callback)."""
    landed: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            landed.append(self.path)
            body = b"You may close this window."
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    uri = f"http://127.0.0.1:{server.server_address[1]}/callback"
    sf_app.register_callback(uri)
    yield uri, landed
    server.shutdown()
    server.server_close()


def token(sf_http, sf_server, status: int = 200, **form) -> dict:
    response = sf_http.post(f"{sf_server.base_url}/services/oauth2/token", data=form,
                            auth=form.pop("_auth", None))
    assert response.status_code == status, response.text
    return response.json()


def browser_login(sf_http, sf_server, sf_app, redirect_uri, landed, challenge, **extra):
    """What a browser does: open the authorize URL, consent, land on the redirect URI."""
    params = {"response_type": "code", "client_id": sf_app.public_client_id,
              "redirect_uri": redirect_uri, "state": "xyz", "code_challenge": challenge,
              "code_challenge_method": "S256", "scope": "api refresh_token", **extra}
    consent = sf_http.get(f"{sf_server.base_url}/services/oauth2/authorize", params=params,
                          allow_redirects=False)
    assert consent.status_code == 302
    landing = sf_http.get(consent.headers["Location"])  # the browser follows the redirect
    assert landing.status_code == 200
    return {k: v[0] for k, v in parse_qs(urlsplit(landed[-1]).query).items()}


# -- authorization code with PKCE (the desktop flow) -----------------------------------------

def test_pkce_code_flow_gives_a_working_session(sf_http, sf_server, sf_app, redirect_listener):
    redirect_uri, landed = redirect_listener
    verifier, challenge = pkce_pair()
    query = browser_login(sf_http, sf_server, sf_app, redirect_uri, landed, challenge)
    assert query["state"] == "xyz" and query["code"]
    body = token(sf_http, sf_server, grant_type="authorization_code", code=query["code"],
                 client_id=sf_app.public_client_id, redirect_uri=redirect_uri,
                 code_verifier=verifier)  # a public client: no client_secret
    assert body["token_type"] == "Bearer" and body["instance_url"] == sf_server.base_url
    assert body["id"] == f"{sf_server.base_url}/id/{to18(ORG_ID)}/{to18(CONCORD_USER)}"
    assert body["access_token"].startswith(ORG_ID + "!") and body["refresh_token"]
    expected = base64.b64encode(hmac.new(sf_app.client_secret.encode(),
                                         (body["id"] + body["issued_at"]).encode(),
                                         hashlib.sha256).digest()).decode()
    assert body["signature"] == expected
    sf = Salesforce(instance_url=body["instance_url"], session_id=body["access_token"],
                    version="59.0", session=sf_http)
    assert sf.Contact.get(contact_id(1))["LastName"] == "Lovelace"
    identity = sf_http.get(body["id"], headers={"Authorization": f"Bearer {body['access_token']}"})
    assert identity.json()["username"] == sf_app.username

    # the code works once
    again = token(sf_http, sf_server, 400, grant_type="authorization_code", code=query["code"],
                  client_id=sf_app.public_client_id, redirect_uri=redirect_uri,
                  code_verifier=verifier)
    assert again == {"error": "invalid_grant", "error_description": "invalid authorization code"}


@pytest.mark.parametrize("change, error, description", [
    ({"code_verifier": "not-the-verifier-" + "x" * 40}, "invalid_grant", "invalid code verifier"),
    ({"code_verifier": None}, "invalid_grant", "invalid code verifier"),
    ({"redirect_uri": "http://127.0.0.1:1/other"}, "invalid_grant",
     "redirect_uri must match configuration"),
    ({"client_id": "3MVG9unknown"}, "invalid_client_id", "client identifier invalid"),
    ({"code": "aPrxmadeup"}, "invalid_grant", "invalid authorization code"),
])
def test_code_exchange_refusals(sf_http, sf_server, sf_app, redirect_listener, change, error,
                                description):
    redirect_uri, landed = redirect_listener
    verifier, challenge = pkce_pair()
    query = browser_login(sf_http, sf_server, sf_app, redirect_uri, landed, challenge)
    form = {"grant_type": "authorization_code", "code": query["code"],
            "client_id": sf_app.public_client_id, "redirect_uri": redirect_uri,
            "code_verifier": verifier, **change}
    body = token(sf_http, sf_server, 400, **{k: v for k, v in form.items() if v is not None})
    assert body == {"error": error, "error_description": description}


def test_authorize_requires_pkce_and_a_loopback_redirect(sf_http, sf_server, sf_app,
                                                         redirect_listener):
    redirect_uri, landed = redirect_listener
    base = {"response_type": "code", "client_id": sf_app.public_client_id, "state": "s1"}
    url = f"{sf_server.base_url}/services/oauth2/authorize"
    no_pkce = sf_http.get(url, params={**base, "redirect_uri": redirect_uri},
                          allow_redirects=False)
    assert no_pkce.status_code == 302
    query = parse_qs(urlsplit(no_pkce.headers["Location"]).query)
    assert query["error"] == ["invalid_request"] and query["state"] == ["s1"]
    plain = sf_http.get(url, params={**base, "redirect_uri": redirect_uri, "code_challenge": "c",
                                     "code_challenge_method": "plain"}, allow_redirects=False)
    assert parse_qs(urlsplit(plain.headers["Location"]).query)["error"] == ["invalid_request"]
    elsewhere = sf_http.get(url, params={**base, "redirect_uri": "https://evil.example/cb",
                                         "code_challenge": "c", "code_challenge_method": "S256"},
                            allow_redirects=False)
    assert elsewhere.status_code == 400
    assert elsewhere.json()["error"] == "redirect_uri_mismatch"
    unknown = sf_http.get(url, params={**base, "client_id": "nope", "redirect_uri": redirect_uri},
                          allow_redirects=False)
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_client_id"


def _signed_in(sf_http, sf_server, sf_app, redirect_uri, landed, client_id=None, **extra):
    verifier, challenge = pkce_pair()
    query = browser_login(sf_http, sf_server, sf_app, redirect_uri, landed, challenge,
                          client_id=client_id or sf_app.public_client_id)
    return token(sf_http, sf_server, grant_type="authorization_code", code=query["code"],
                 client_id=client_id or sf_app.public_client_id, redirect_uri=redirect_uri,
                 code_verifier=verifier, **extra)


def test_refresh_token_rotates_and_reuse_revokes_the_family(sf_http, sf_server, sf_app,
                                                            redirect_listener):
    # "Refresh token rotation ensures that each refresh token is used only one time"
    # (help.salesforce.com, OAuth 2.0 Refresh Token Flow for Renewed Sessions)
    redirect_uri, landed = redirect_listener
    first = _signed_in(sf_http, sf_server, sf_app, redirect_uri, landed)
    second = token(sf_http, sf_server, grant_type="refresh_token",
                   refresh_token=first["refresh_token"], client_id=sf_app.public_client_id)
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    reused = token(sf_http, sf_server, 400, grant_type="refresh_token",
                   refresh_token=first["refresh_token"], client_id=sf_app.public_client_id)
    assert reused == {"error": "invalid_grant", "error_description": "expired access/refresh token"}
    # the reuse revoked the chain: the newer refresh token and its session stop working too
    token(sf_http, sf_server, 400, grant_type="refresh_token",
          refresh_token=second["refresh_token"], client_id=sf_app.public_client_id)
    limits = sf_http.get(f"{sf_server.base_url}/services/data/v59.0/sobjects/",
                         headers={"Authorization": f"Bearer {second['access_token']}"})
    assert limits.status_code == 401


def test_without_rotation_the_refresh_token_stays(sf_http, sf_server, sf_app, redirect_listener):
    sf_app.identity.connected_app.rotate_refresh_tokens = False  # an app setting
    redirect_uri, landed = redirect_listener
    first = _signed_in(sf_http, sf_server, sf_app, redirect_uri, landed)
    for _ in range(2):
        again = token(sf_http, sf_server, grant_type="refresh_token",
                      refresh_token=first["refresh_token"], client_id=sf_app.public_client_id)
        assert "refresh_token" not in again and again["access_token"]


@pytest.mark.parametrize("situation, redirect, allowed", [
    ("the registered callback", "registered", True),
    ("a loopback on another port", "http://127.0.0.1:1/callback", False),
    ("the default callback, not registered by this test's app", None, True),
    ("the registered one with a trailing slash", "registered/", False),
])
def test_authorize_redirects_only_to_a_registered_callback(sf_http, sf_server, sf_app,
                                                           redirect_listener, situation,
                                                           redirect, allowed):
    registered, _ = redirect_listener
    uri = {"registered": registered, "registered/": registered + "/",
           None: "http://localhost:1717/OauthRedirect"}.get(redirect, redirect)
    _, challenge = pkce_pair()
    answer = sf_http.get(f"{sf_server.base_url}/services/oauth2/authorize", allow_redirects=False,
                         params={"response_type": "code", "client_id": sf_app.public_client_id,
                                 "redirect_uri": uri, "state": "s", "code_challenge": challenge,
                                 "code_challenge_method": "S256"})
    assert (answer.status_code == 302) == allowed, situation
    if not allowed:
        assert answer.json()["error"] == "redirect_uri_mismatch"


@pytest.mark.parametrize("situation, secret, verifier, error", [
    ("secret and verifier", "right", True, None),
    ("no secret (Require Secret for Web Server Flow is on)", None, True, "invalid_client"),
    ("a wrong secret", "wrong", True, "invalid_client"),
    ("the secret but no verifier", "right", False, "invalid_grant"),
])
def test_a_confidential_app_needs_its_secret_and_the_verifier(sf_http, sf_server, sf_app,
                                                              redirect_listener, situation,
                                                              secret, verifier, error):
    redirect_uri, landed = redirect_listener
    code_verifier, challenge = pkce_pair()
    query = browser_login(sf_http, sf_server, sf_app, redirect_uri, landed, challenge,
                          client_id=sf_app.client_id)
    form = {"grant_type": "authorization_code", "code": query["code"],
            "client_id": sf_app.client_id, "redirect_uri": redirect_uri}
    if secret:
        form["client_secret"] = sf_app.client_secret if secret == "right" else "not-the-secret"
    if verifier:
        form["code_verifier"] = code_verifier
    body = token(sf_http, sf_server, 400 if error else 200, **form)
    assert body.get("error") == error, situation


def test_a_confidential_refresh_needs_the_secret(sf_http, sf_server, sf_app, redirect_listener):
    redirect_uri, landed = redirect_listener
    first = _signed_in(sf_http, sf_server, sf_app, redirect_uri, landed,
                       client_id=sf_app.client_id, client_secret=sf_app.client_secret)
    refused = token(sf_http, sf_server, 400, grant_type="refresh_token",
                    refresh_token=first["refresh_token"], client_id=sf_app.client_id)
    assert refused["error"] == "invalid_client"
    assert token(sf_http, sf_server, grant_type="refresh_token",
                 refresh_token=first["refresh_token"], client_id=sf_app.client_id,
                 client_secret=sf_app.client_secret)["access_token"]


def test_without_refresh_scope_no_refresh_token(sf_http, sf_server, sf_app, redirect_listener):
    redirect_uri, landed = redirect_listener
    verifier, challenge = pkce_pair()
    query = browser_login(sf_http, sf_server, sf_app, redirect_uri, landed, challenge,
                          scope="api")
    body = token(sf_http, sf_server, grant_type="authorization_code", code=query["code"],
                 client_id=sf_app.public_client_id, redirect_uri=redirect_uri,
                 code_verifier=verifier)
    assert "refresh_token" not in body


# -- JWT bearer ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def rsa_key():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public


def assertion(private: bytes, **claims) -> str:
    return jwt.encode(claims, private, algorithm="RS256")


def test_jwt_bearer(sf_http, sf_server, sf_app, sf_clock, rsa_key):
    private, public = rsa_key
    sf_app.register_jwt_key(public)
    exp = int(sf_clock().timestamp()) + 180
    good = {"iss": sf_app.client_id, "sub": sf_app.username, "aud": sf_server.base_url,
            "exp": exp}
    body = token(sf_http, sf_server, grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer",
                 assertion=assertion(private, **good))
    assert body["instance_url"] == sf_server.base_url and "refresh_token" not in body
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    refusals = [
        (assertion(other_key, **good), "invalid_grant"),
        (assertion(private, **{**good, "exp": exp - 600}), "invalid_grant"),
        (assertion(private, **{**good, "aud": "https://elsewhere.example"}), "invalid_grant"),
        (assertion(private, **{**good, "iss": "someone-else"}), "invalid_client_id"),
        (assertion(private, **{**good, "sub": "nobody@sandbox.example"}), "invalid_grant"),
        ("not.a.jwt", "invalid_grant"),
    ]
    for bad, error in refusals:
        answer = token(sf_http, sf_server, 400,
                       grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer", assertion=bad)
        assert answer["error"] == error, answer


def test_simple_salesforce_jwt_login(rerouted, sf_app, rsa_key):
    private, public = rsa_key
    sf_app.register_jwt_key(public)
    sf = Salesforce(username=sf_app.username, consumer_key=sf_app.client_id,
                    privatekey=private.decode(), domain="test", version="59.0", session=rerouted)
    assert sf.query("SELECT Id FROM Lead WHERE IsConverted = false")["totalSize"] == 2


# -- client credentials, password, errors -------------------------------------------------------

def test_client_credentials(sf_http, sf_server, sf_app):
    body = token(sf_http, sf_server, grant_type="client_credentials",
                 _auth=(sf_app.client_id, sf_app.client_secret))
    assert body["access_token"] and "refresh_token" not in body
    for auth in [(sf_app.client_id, "wrong"), ("other", sf_app.client_secret)]:
        refused = token(sf_http, sf_server, 400, grant_type="client_credentials", _auth=auth)
        assert refused == {"error": "invalid_client",
                           "error_description": "invalid client credentials"}
    assert token(sf_http, sf_server, 400, grant_type="client_credentials")["error"] == \
        "invalid_client"


def test_simple_salesforce_client_credentials(rerouted, sf_app):
    sf = Salesforce(consumer_key=sf_app.client_id, consumer_secret=sf_app.client_secret,
                    domain="acme.my", version="59.0", session=rerouted)
    # a least-privilege user may query but not read /limits ("View Setup and Configuration")
    assert sf.query("SELECT Id FROM Contact LIMIT 1")["totalSize"] >= 0
    with pytest.raises(SalesforceRefusedRequest):
        sf.limits()
    sf_app.identity.default_user.view_setup = True
    assert sf.limits()["DailyApiRequests"]["Max"] == 15000


@pytest.mark.parametrize("form, error", [
    ({"grant_type": "device_code"}, "unsupported_grant_type"),
    ({}, "unsupported_grant_type"),
    ({"grant_type": "refresh_token", "client_id": "nope", "refresh_token": "x"},
     "invalid_client_id"),
    ({"grant_type": "password", "username": "concord@sandbox.example", "password": "x"},
     "invalid_client"),
])
def test_token_endpoint_errors(sf_http, sf_server, form, error):
    assert token(sf_http, sf_server, 400, **form)["error"] == error


def test_password_grant(sf_http, sf_server, sf_app):
    body = token(sf_http, sf_server, grant_type="password", client_id=sf_app.client_id,
                 client_secret=sf_app.client_secret, username=sf_app.username,
                 password=sf_app.password + sf_app.security_token)
    assert body["access_token"]
    refused = token(sf_http, sf_server, 400, grant_type="password", client_id=sf_app.client_id,
                    client_secret=sf_app.client_secret, username=sf_app.username,
                    password="wrong")
    assert refused == {"error": "invalid_grant", "error_description": "authentication failure"}


def test_revoke(sf_http, sf_server, sf_app):
    access = sf_app.issue_token()
    url = f"{sf_server.base_url}/services/oauth2/revoke"
    assert sf_http.post(url, data={"token": access}).status_code == 200
    after = sf_http.get(f"{sf_server.base_url}/services/data/v59.0/sobjects/",
                        headers={"Authorization": f"Bearer {access}"})
    assert after.status_code == 401
    assert sf_http.post(url, data={"token": access}).status_code == 400


# -- SOAP partner login ---------------------------------------------------------------------------

def test_soap_login_through_simple_salesforce(rerouted, sf_app, sf_server):
    sf = Salesforce(username=sf_app.username, password=sf_app.password,
                    security_token=sf_app.security_token, domain="test", version="59.0",
                    session=rerouted)
    assert sf.sf_instance == f"127.0.0.1:{sf_server.port}"
    assert sf.session_id.startswith(ORG_ID + "!")
    assert sf.query("SELECT Id FROM Contact")["totalSize"] == 6


@pytest.mark.parametrize("password, token_", [("wrong", None), (None, "WRONG"), (None, "")])
def test_soap_login_failure(rerouted, sf_app, password, token_):
    with pytest.raises(SalesforceAuthenticationFailed) as err:
        Salesforce(username=sf_app.username, password=password or sf_app.password,
                   security_token=sf_app.security_token if token_ is None else token_,
                   domain="login", version="59.0", session=rerouted)
    assert err.value.code == "INVALID_LOGIN"
    assert "Invalid username, password, security token" in err.value.auth_message


def test_soap_login_escapes_and_fault_is_http_500(sf_http, sf_server, sf_app):
    envelope = ("<soapenv:Envelope xmlns:soapenv='http://schemas.xmlsoap.org/soap/envelope/' "
                "xmlns:urn='urn:partner.soap.sforce.com'><soapenv:Body><urn:login>"
                "<urn:username>nobody@x.example</urn:username><urn:password>p&amp;&lt;"
                "</urn:password></urn:login></soapenv:Body></soapenv:Envelope>")
    response = sf_http.post(f"{sf_server.base_url}/services/Soap/u/59.0", data=envelope,
                            headers={"Content-Type": "text/xml", "SOAPAction": "login"})
    assert response.status_code == 500
    assert "<sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode>" in response.text


def test_password_login_recovers_from_an_expired_session(rerouted, sf_app):
    sf = Salesforce(username=sf_app.username, password=sf_app.password,
                    security_token=sf_app.security_token, domain="test", version="59.0",
                    session=rerouted)
    old = sf.session_id
    sf_app.expire_sessions()
    assert sf.query("SELECT Id FROM Account")["totalSize"] == 2  # the client logged in again
    assert sf.session_id != old


def test_sessions_expire_after_idle_ttl(sf_http, sf_server, sf_app, sf_clock):
    access = sf_app.issue_token(ttl=60)
    url = f"{sf_server.base_url}/services/data/v59.0/sobjects/"
    headers = {"Authorization": f"Bearer {access}"}
    sf_clock.advance(seconds=50)
    assert sf_http.get(url, headers=headers).status_code == 200  # use restarts the idle timer
    sf_clock.advance(seconds=50)
    assert sf_http.get(url, headers=headers).status_code == 200
    sf_clock.advance(seconds=61)
    expired = sf_http.get(url, headers=headers)
    assert expired.status_code == 401
    assert expired.json() == [{"message": "Session expired or invalid",
                               "errorCode": "INVALID_SESSION_ID"}]
