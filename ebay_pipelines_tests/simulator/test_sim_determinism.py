"""Same seed, same data; different accounts or seeds, different data."""

from __future__ import annotations

from datetime import timedelta

from ebay_pipelines.simulator import EbaySimulator, SimulatorConfig

from .conftest import NOW, Api, iso, xfindall, xml_root


def _snapshot(sim: EbaySimulator, account: str) -> dict:
    api = Api(sim, account)
    window = f"[{iso(NOW - timedelta(days=15))}..{iso(NOW)}]"
    selling = xml_root(api.trading("GetMyeBaySelling", "<ActiveList><Include>true</Include></ActiveList>"))
    return {
        "orders": api.get_all(
            "/sell/fulfillment/v1/order", {"filter": f"lastmodifieddate:{window}", "limit": 200}, "orders"
        ),
        "transactions": api.get_all(
            "/sell/finances/v1/transaction", {"filter": f"transactionDate:{window}", "limit": 1000}, "transactions"
        ),
        "inventory": api.get("/sell/inventory/v1/inventory_item", {"limit": 200}).json()["inventoryItems"],
        "returns": api.get("/post-order/v2/return/search", {"limit": 200}, scheme="IAF").json()["members"],
        "listings": [e.text for e in xfindall(selling, "ActiveList/ItemArray/Item/Title")],
    }


def test_same_seed_same_payloads_and_accounts_differ() -> None:
    with EbaySimulator(SimulatorConfig(seed=7, now=NOW)) as a, EbaySimulator(SimulatorConfig(seed=7, now=NOW)) as b:
        first, second = _snapshot(a, "acct-1"), _snapshot(b, "acct-1")
        assert first == second
        assert all(first[k] for k in first)
        other = _snapshot(a, "acct-2")
        for key in first:
            assert first[key] != other[key], key
        ids_1 = {o["orderId"] for o in first["orders"]}
        ids_2 = {o["orderId"] for o in other["orders"]}
        assert not ids_1 & ids_2
    with EbaySimulator(SimulatorConfig(seed=8, now=NOW)) as c:
        assert _snapshot(c, "acct-1")["orders"] != first["orders"]


def test_truth_is_stable_across_calls_and_caches() -> None:
    sim = EbaySimulator(SimulatorConfig(seed=11, now=NOW, plan_cache_orders=50))
    start, end = NOW - timedelta(days=20), NOW
    once = sim.truth.orders("acct-9", start, end)
    again = sim.truth.orders("acct-9", start, end)
    fresh = EbaySimulator(SimulatorConfig(seed=11, now=NOW)).truth.orders("acct-9", start, end)
    assert once == again == fresh and once


def test_wall_clock_mode() -> None:
    from datetime import UTC, datetime

    with EbaySimulator(SimulatorConfig(seed=7)) as sim:
        assert abs((sim.now - datetime.now(UTC)).total_seconds()) < 5
        api = Api(sim)
        recent = api.get_all(
            "/sell/fulfillment/v1/order",
            {"filter": f"creationdate:[{iso(sim.now - timedelta(days=3))}..]", "limit": 200},
            "orders",
        )
        assert recent and all(o["creationDate"] <= iso(sim.now) for o in recent)
        sim.advance(timedelta(days=1))
        assert abs((sim.now - datetime.now(UTC)).total_seconds() - 86_400) < 5
