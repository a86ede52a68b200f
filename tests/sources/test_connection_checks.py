"""Connection checks as a real org and a real Apollo team answer them (issue 12, item 4).

Salesforce: ``/limits`` needs "View Setup and Configuration", which a least-privilege
integration user lacks, so the check runs the pull's own queries and names what the user
cannot read. Apollo: ``/auth/health`` answers 200 for any key and says in its body whether
the key was accepted.
"""

from __future__ import annotations

import pytest

from core import credentials
from core.sources.errors import AuthError, PermissionDenied
from core.sync.connect import connect_apollo, connect_salesforce
from core.workspace import Profile, Workspace


def _cc_workspace(tmp_path, sandbox_) -> Workspace:
    sf = sandbox_.info()["salesforce"]
    return Workspace("check", root=tmp_path / "ws").create(Profile(
        salesforce_login_url=sf["login_url"], salesforce_auth="client_credentials",
        salesforce_client_id=sf["client_id"], apollo_base_url=sandbox_.apollo_url,
        ca_path=sandbox_.ca_path))


# One row per situation: what the org's admin gave the integration user, and what the
# check must say (a phrase of the notice; None: nothing to report).
ACCESS = [
    ("least privilege: API Enabled and read access, no View Setup", {}, None),
    ("EmailBouncedDate hidden by field-level security",
     {"hidden_fields": {"Contact.EmailBouncedDate"}}, "Contact fields: EmailBouncedDate"),
    ("Email and EmailBouncedDate hidden on Lead",
     {"hidden_fields": {"Lead.Email", "Lead.EmailBouncedDate"}}, "Lead fields: Email, EmailBouncedDate"),
    ("no Read on Lead", {"hidden_objects": {"Lead"}}, "cannot read Lead records"),
    ("no access to Contact field history", {"hidden_objects": {"ContactHistory"}},
     "ContactHistory cannot be read (INVALID_TYPE)"),
]


@pytest.mark.parametrize("situation, grants, notice", ACCESS, ids=[a[0] for a in ACCESS])
def test_salesforce_check_names_what_the_user_cannot_read(small_sandbox, memory_keyring,
                                                          tmp_path, situation, grants, notice):
    user = small_sandbox.salesforce_app.identity.default_user  # the client-credentials run-as user
    assert user.view_setup is False  # the sandbox's user is least-privilege by default
    for name, value in grants.items():
        setattr(user, name, value)
    result = connect_salesforce(_cc_workspace(tmp_path, small_sandbox),
                                client_secret=small_sandbox.info()["salesforce"]["client_secret"])
    if notice is None:
        assert result.notices == []
    else:
        assert any(notice in n for n in result.notices), (situation, result.notices)
    assert result.details["daily_api_requests"]["Max"] > 0  # from Sforce-Limit-Info


def test_salesforce_check_says_when_the_user_lacks_api_enabled(small_sandbox, memory_keyring,
                                                               tmp_path):
    small_sandbox.salesforce_app.identity.default_user.api_enabled = False
    with pytest.raises(PermissionDenied, match="API Enabled"):
        connect_salesforce(_cc_workspace(tmp_path, small_sandbox),
                           client_secret=small_sandbox.info()["salesforce"]["client_secret"])


@pytest.mark.parametrize("situation, key, accepted", [
    ("the team's key", "right", True),
    ("a key Apollo does not know (200, is_logged_in false)", "wrong", False),
])
def test_apollo_check_reads_the_health_body(small_sandbox, memory_keyring, tmp_path, situation,
                                            key, accepted):
    space = _cc_workspace(tmp_path, small_sandbox)
    api_key = small_sandbox.apollo_api_key if key == "right" else "not-a-key-of-this-team-000"
    if accepted:
        assert connect_apollo(space, api_key).details["health"]["is_logged_in"] is True
        assert credentials.get_secret("check", credentials.APOLLO_API_KEY) == api_key
    else:
        with pytest.raises(AuthError, match="did not accept the API key"):
            connect_apollo(space, api_key)
        assert credentials.get_secret("check", credentials.APOLLO_API_KEY) is None
