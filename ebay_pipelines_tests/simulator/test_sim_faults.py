"""Fault injection: each kind gives its documented answer; times/probability/account scoping work."""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET

import pytest
import requests

from ebay_pipelines.simulator import EbaySimulator, FaultRule, SimulatorConfig

from .conftest import NOW, Api, xfindall, xml_root

ORDERS = "/sell/fulfillment/v1/order"
SELLING = "<ActiveList><Include>true</Include></ActiveList>"


def test_429_times_then_normal_and_counted(api: Api, sim) -> None:
    sim.reset_calls()
    rule = sim.faults.add(FaultRule(kind="429", endpoint="getOrders", times=2, retry_after=3))
    for _ in range(2):
        resp = api.get(ORDERS)
        assert resp.status_code == 429
        assert resp.headers["Retry-After"] == "3"
        assert resp.json()["errors"][0]["errorId"] == 2001
    assert api.get(ORDERS).status_code == 200
    assert rule.spent and rule.fired == 2
    assert sim.calls[("acct-1", "getOrders")] == 3
    assert sim.faults.fired[("429", "getOrders")] == 2
    assert api.get("/sell/inventory/v1/inventory_item").status_code == 200


@pytest.mark.parametrize("kind", ["500", "502", "503", "504"])
def test_server_errors(api: Api, sim, kind: str) -> None:
    sim.faults.add(FaultRule(kind=kind, times=1))
    resp = api.get("/sell/finances/v1/transaction")
    assert resp.status_code == int(kind)
    assert resp.json()["errors"][0]["errorId"] == 135000
    assert api.get("/sell/finances/v1/transaction").status_code == 200


def test_slow_drop_malformed(api: Api, sim) -> None:
    sim.faults.add(FaultRule(kind="slow", endpoint="getInventoryItems", times=1, delay=0.3))
    started = time.monotonic()
    assert api.get("/sell/inventory/v1/inventory_item").status_code == 200
    assert time.monotonic() - started >= 0.3
    sim.faults.add(FaultRule(kind="drop", endpoint="getOrders", times=1))
    with pytest.raises(requests.ConnectionError):
        api.get(ORDERS)
    assert api.get(ORDERS).status_code == 200
    sim.faults.add(FaultRule(kind="malformed", endpoint="getOrders", times=1))
    broken = api.get(ORDERS)
    assert broken.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(broken.content)
    sim.faults.add(FaultRule(kind="malformed", endpoint="GetMyeBaySelling", times=1))
    with pytest.raises(ET.ParseError):
        ET.fromstring(api.trading("GetMyeBaySelling", SELLING).content)
    assert sim.calls[("acct-1", "getOrders")] == 3  # the dropped call is counted too


def test_expire_token_and_revoke(api: Api, sim) -> None:
    sim.faults.add(FaultRule(kind="expire_token", endpoint="getOrder", times=1))
    resp = api.get(ORDERS + "/whatever", token=api.token)
    assert resp.status_code == 401 and resp.json()["errors"][0]["errorId"] == 1001
    sim.faults.add(FaultRule(kind="expire_token", endpoint="GetMyeBayBuying", times=1))
    root = xml_root(api.trading("GetMyeBayBuying", "<WonList><Include>true</Include></WonList>"))
    assert xfindall(root, "Ack")[0].text == "Failure"
    assert xfindall(root, "Errors/ErrorCode")[0].text == "21916984"
    sim.faults.add(FaultRule(kind="revoke", times=1))
    denied = api.grant()
    assert denied.status_code == 400 and denied.json()["error"] == "invalid_grant"
    assert api.grant().status_code == 200


def test_postorder_and_trading_rate_limits(api: Api, sim) -> None:
    sim.faults.add(FaultRule(kind="429", endpoint="searchReturns", times=1, retry_after=2))
    resp = api.get("/post-order/v2/return/search", scheme="IAF")
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "2"
    assert resp.json()["errorMessage"]["error"][0]["errorId"] == 2001
    sim.faults.add(FaultRule(kind="429", endpoint="GetMyeBaySelling", times=1))
    limited = api.trading("GetMyeBaySelling", SELLING)
    assert limited.status_code == 200
    assert xfindall(xml_root(limited), "Errors/ErrorCode")[0].text == "518"
    sim.faults.add(FaultRule(kind="503", endpoint="GetMyMessages", times=1))
    assert api.trading("GetMyMessages", "<DetailLevel>ReturnSummary</DetailLevel>").status_code == 503
    assert api.trading("GetMyMessages", "<DetailLevel>ReturnSummary</DetailLevel>").status_code == 200


def test_account_scoping_and_clear(sim) -> None:
    one, two = Api(sim, "acct-1"), Api(sim, "acct-2")
    sim.faults.add(FaultRule(kind="503", account="acct-2"))
    assert one.get(ORDERS).status_code == 200
    assert two.get(ORDERS).status_code == 503
    assert two.get(ORDERS).status_code == 503
    sim.faults.clear()
    assert two.get(ORDERS).status_code == 200
    assert sim.calls[("acct-2", "getOrders")] == 3


def _pattern(seed: int) -> list[int]:
    with EbaySimulator(SimulatorConfig(seed=seed, now=NOW)) as s:
        api = Api(s)
        s.faults.add(FaultRule(kind="500", endpoint="getInventoryItems", probability=0.5))
        return [api.get("/sell/inventory/v1/inventory_item", {"limit": 1}).status_code for _ in range(40)]


def test_probability_is_seeded() -> None:
    first = _pattern(7)
    assert 8 <= first.count(500) <= 32 and set(first) == {200, 500}
    assert first == _pattern(7)


def test_probability_bounds(api: Api, sim) -> None:
    never = sim.faults.add(FaultRule(kind="500", endpoint="getOffers", probability=0.0))
    always = sim.faults.add(FaultRule(kind="502", endpoint="getInventoryItems", probability=1.0, times=3))
    assert [api.get("/sell/inventory/v1/offer", {"sku": "nope"}).status_code for _ in range(5)] == [404] * 5
    assert [api.get("/sell/inventory/v1/inventory_item").status_code for _ in range(4)] == [502, 502, 502, 200]
    assert never.fired == 0 and always.fired == 3


def test_unknown_kind_rejected() -> None:
    with pytest.raises(ValueError):
        FaultRule(kind="418")
