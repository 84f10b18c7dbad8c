"""OAuth: grants, expiry, revocation and client authentication."""

from __future__ import annotations

import base64
from datetime import timedelta

from .conftest import Api, xfindall, xml_root

ORDERS = "/sell/fulfillment/v1/order"
INVALID_TOKEN = {
    "errors": [
        {
            "errorId": 1001,
            "domain": "OAuth",
            "category": "REQUEST",
            "message": "Invalid access token",
            "longMessage": "Invalid access token. Check the value of the Authorization HTTP request header.",
        }
    ]
}


def test_grant_shape_and_accounts(sim) -> None:
    api = Api(sim)
    body = api.grant().json()
    assert set(body) == {"access_token", "expires_in", "token_type"}
    assert body["expires_in"] == 7200 and body["token_type"] == "User Access Token"
    assert body["access_token"] != api.token
    sim.reset_calls()
    other = Api(sim, "acct-2")
    assert other.get(ORDERS).status_code == 200
    assert sim.calls[("acct-2", "token")] == 1 and sim.calls[("acct-2", "getOrders")] == 1


def test_expiry_on_the_simulated_clock(sim) -> None:
    api = Api(sim)
    old = api.token
    sim.advance(timedelta(seconds=7199))
    assert api.get(ORDERS, token=old).status_code == 200
    sim.advance(timedelta(seconds=2))
    resp = api.get(ORDERS, token=old)
    assert resp.status_code == 401 and resp.json() == INVALID_TOKEN
    root = xml_root(api.trading("GetMyeBaySelling", "<ActiveList><Include>true</Include></ActiveList>", token=old))
    assert xfindall(root, "Errors/ErrorCode")[0].text == "21916984"
    assert xfindall(root, "Errors/ErrorClassification")[0].text == "RequestError"
    fresh = api.grant().json()["access_token"]
    assert api.get(ORDERS, token=fresh).status_code == 200


def test_force_expire_and_missing_or_unknown_tokens(sim) -> None:
    api, other = Api(sim), Api(sim, "acct-2")
    sim.expire_access_tokens("acct-1")
    assert api.get(ORDERS, token=api.token).status_code == 401
    assert other.get(ORDERS, token=other.token).status_code == 200
    assert api.get(ORDERS, token="not-a-token").json() == INVALID_TOKEN
    assert api.session.get(sim.base_url + ORDERS).status_code == 401
    fresh = api.grant().json()["access_token"]
    assert api.get("/post-order/v2/inquiry/search", token=fresh, scheme="IAF").status_code == 200
    assert api.get("/post-order/v2/inquiry/search", token=fresh, scheme="Bearer").status_code == 200


def test_revoke_gives_invalid_grant(sim) -> None:
    api = Api(sim)
    old_refresh = sim.refresh_token_for("acct-1")
    sim.revoke("acct-1")
    resp = api.grant(old_refresh)
    assert resp.status_code == 400
    assert resp.json() == {
        "error": "invalid_grant",
        "error_description": "the provided authorization refresh token is invalid or was issued to another client",
    }
    assert api.get(ORDERS).status_code == 200  # issued access tokens stay valid until they expire
    assert api.grant(sim.refresh_token_for("acct-1")).status_code == 200  # re-authorised
    assert api.grant("garbage").json()["error"] == "invalid_grant"


def test_bad_client_gives_invalid_client(sim) -> None:
    api = Api(sim)
    wrong = "Basic " + base64.b64encode(f"{sim.client_id}:wrong".encode()).decode()
    for header in (wrong, "Basic !!!", "Bearer abc"):
        resp = api.grant(authorization=header)
        assert resp.status_code == 401
        assert resp.json() == {"error": "invalid_client", "error_description": "client authentication failed"}
    unsupported = api.session.post(
        sim.base_url + "/identity/v1/oauth2/token",
        data={"grant_type": "password"},
        headers={"Authorization": api.basic()},
    )
    assert unsupported.status_code == 400
