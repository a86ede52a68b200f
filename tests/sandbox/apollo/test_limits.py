"""Apollo's fixed-window rate limits over HTTPS: usage headers, 429 bodies, Retry-After."""

from __future__ import annotations

import pytest

from core.sandbox.ids import apollo_id
from tests.sandbox.apollo.harness import ApolloHarness, sample_contacts

UPGRADE = "Please upgrade your plan from https://app.apollo.io/#/settings/plans/upgrade."
LIVE = ("x-rate-limit-24-hour", "x-24-hour-usage", "x-24-hour-requests-left")
DOCUMENTED = ("x-rate-limit-daily", "x-daily-usage", "x-daily-requests-left")


@pytest.fixture
def limited(tls_material, request):
    options = dict(getattr(request, "param", {}))
    options.setdefault("limits", {"minute": 3, "hour": 400, "day": 2000})
    harness = ApolloHarness(tls_material, sample_contacts(5), **options)
    yield harness
    harness.close()


@pytest.mark.parametrize("limited, daily, absent", [
    ({"header_style": "live"}, LIVE, DOCUMENTED),
    ({"header_style": "documented"}, DOCUMENTED, LIVE),
], indirect=["limited"])
def test_usage_headers_count_down(limited, daily, absent):
    seen = []
    for _ in range(3):
        response = limited.search({})
        assert response.status_code == 200
        h = response.headers
        seen.append((h["x-rate-limit-minute"], h["x-minute-usage"], h["x-minute-requests-left"],
                     h["x-rate-limit-hourly"], h["x-hourly-usage"], h["x-hourly-requests-left"],
                     h[daily[0]], h[daily[1]], h[daily[2]]))
        assert not any(name in h for name in absent)
    assert seen == [("3", "1", "2", "400", "1", "399", "2000", "1", "1999"),
                    ("3", "2", "1", "400", "2", "398", "2000", "2", "1998"),
                    ("3", "3", "0", "400", "3", "397", "2000", "3", "1997")]


@pytest.mark.parametrize("limited, retry_after", [
    ({"retry_after": True}, True),
    ({"retry_after": False}, False),
], indirect=["limited"])
def test_minute_window_spent(limited, retry_after):
    for _ in range(3):
        assert limited.search({}).status_code == 200
    limited.clock.advance(seconds=20)
    response = limited.search({})
    assert response.status_code == 429
    assert response.json() == {"message": "The maximum number of api calls allowed for "
                                          f"api/v1/contacts/search is 3 times per minute. {UPGRADE}"}
    if retry_after:
        assert response.headers["Retry-After"] == "40"  # seconds until the window ends
    else:
        assert "Retry-After" not in response.headers
    assert "x-minute-usage" not in response.headers
    # Refused requests are not counted, and the window is per route.
    assert limited.request("GET", f"/api/v1/contacts/{apollo_id(1)}").status_code == 200
    limited.clock.advance(seconds=41)  # a new minute window opens
    again = limited.search({})
    assert again.status_code == 200
    assert again.headers["x-minute-usage"] == "1"
    assert again.headers["x-hourly-usage"] == "4"


@pytest.mark.parametrize("limited, window, spend, advance, retry", [
    ({"limits": {"minute": 100, "hour": 2, "day": 2000}}, "hour", 2, {"minutes": 10}, "3000"),
    ({"limits": {"minute": 100, "hour": 400, "day": 2}}, "day", 2, {"hours": 2}, "79200"),
], indirect=["limited"])
def test_hour_and_day_windows(limited, window, spend, advance, retry):
    for _ in range(spend):
        assert limited.request("GET", "/api/v1/contact_stages").status_code == 200
    limited.clock.advance(**advance)
    response = limited.request("GET", "/api/v1/contact_stages")
    assert response.status_code == 429
    assert response.json()["message"] == ("The maximum number of api calls allowed for "
                                          f"api/v1/contact_stages/index is 2 times per {window}. "
                                          f"{UPGRADE}")
    assert response.headers["Retry-After"] == retry


def test_unlimited_window_sends_empty_limit(tls_material):
    harness = ApolloHarness(tls_material, sample_contacts(2),
                            limits={"minute": 50, "hour": None, "day": 600})
    try:
        headers = harness.search({}).headers
        assert headers["x-rate-limit-hourly"] == ""
        assert headers["x-hourly-requests-left"] == ""
        assert headers["x-minute-requests-left"] == "49"
    finally:
        harness.close()


def test_admin_resets_the_windows(limited):
    for _ in range(3):
        limited.search({})
    assert limited.search({}).status_code == 429
    assert limited.admin("DELETE", "/__sandbox/rate_limits").status_code == 204
    assert limited.search({}).status_code == 200


def test_admin_moves_the_clock(limited):
    for _ in range(3):
        limited.search({})
    before = limited.admin("GET", "/__sandbox/clock").json()["now"]
    after = limited.admin("POST", "/__sandbox/clock", {"minutes": 2}).json()["now"]
    assert after > before
    assert limited.search({}).status_code == 200
