"""What the API does on every call: the daily request budget, expired sessions."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceExpiredSession, SalesforceRefusedRequest


def test_limit_info_and_budget(sf, sf_app, sf_http, sf_server):
    sf.query("SELECT Id FROM Account")
    used = sf_app.api_used
    assert sf.api_usage["api-usage"].used == used and sf.api_usage["api-usage"].total == 15000
    sf_app.identity.default_user.view_setup = True  # /limits needs View Setup and Configuration
    limits = sf.limits()
    assert limits["DailyApiRequests"] == {"Max": 15000, "Remaining": 15000 - used - 1}
    admin = {"X-Sandbox-Admin": sf_server.admin_token}
    state = sf_http.post(f"{sf_server.base_url}/__sandbox/limits", json={"used": 99, "max": 100},
                         headers=admin).json()
    assert state == {"used": 99, "max": 100}
    sf.query("SELECT Id FROM Account")  # the 100th request is still allowed
    with pytest.raises(SalesforceRefusedRequest) as err:
        sf.query("SELECT Id FROM Account")
    assert err.value.status == 403
    assert err.value.content == [{"message": "TotalRequests Limit exceeded.",
                                  "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    response = sf_http.get(f"{sf_server.base_url}/services/data/v59.0/limits/",
                           headers={"Authorization": f"Bearer {sf_app.issue_token()}"})
    assert response.headers["Sforce-Limit-Info"] == "api-usage=100/100"
    sf_app.set_api_usage(used=0)
    assert sf.query("SELECT Id FROM Account")["totalSize"] == 2


def test_expired_session(sf, sf_app):
    sf_app.expire_sessions()
    with pytest.raises(SalesforceExpiredSession) as err:
        sf.query("SELECT Id FROM Contact")
    assert err.value.status == 401
    assert err.value.content == [{"message": "Session expired or invalid",
                                  "errorCode": "INVALID_SESSION_ID"}]
