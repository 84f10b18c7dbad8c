"""Orders evolve with the simulated clock; recorded modifications touch about the fraction asked."""

from __future__ import annotations

from datetime import datetime, timedelta

from ebay_pipelines.simulator import EbaySimulator, SimulatorConfig

from .conftest import NOW, Api, iso


def _order(api: Api, order_id: str) -> dict:
    resp = api.get(f"/sell/fulfillment/v1/order/{order_id}")
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_order_lifecycle_follows_the_clock(api: Api, sim) -> None:
    candidates = sim.truth.orders_created("acct-1", NOW - timedelta(days=12), NOW - timedelta(days=10))
    chosen = next(o for o in candidates if len(o["lineItems"]) > 1 and o["orderFulfillmentStatus"] == "FULFILLED")
    oid = chosen["orderId"]
    created = datetime.fromisoformat(chosen["creationDate"].replace("Z", "+00:00"))
    sim.set_now(created + timedelta(seconds=1))
    first = _order(api, oid)
    assert first["orderPaymentStatus"] == "PENDING"
    assert first["orderFulfillmentStatus"] == "NOT_STARTED" and first["lastModifiedDate"] == first["creationDate"]
    assert first["paymentSummary"]["payments"] == [] and first["fulfillmentHrefs"] == []
    states = [(first["orderPaymentStatus"], first["orderFulfillmentStatus"], first["lastModifiedDate"])]
    for _ in range(8 * 24):
        sim.advance(timedelta(hours=1))
        cur = _order(api, oid)
        state = (cur["orderPaymentStatus"], cur["orderFulfillmentStatus"], cur["lastModifiedDate"])
        if state != states[-1]:
            assert cur["lastModifiedDate"] > states[-1][2]
            assert cur["lastModifiedDate"] <= iso(sim.now)
            states.append(state)
    assert cur == chosen
    payment = [s[0] for s in states]
    fulfillment = [s[1] for s in states]
    assert "PAID" in payment and "IN_PROGRESS" in fulfillment and fulfillment[-1] == "FULFILLED"
    assert payment.index("PAID") < fulfillment.index("IN_PROGRESS") < fulfillment.index("FULFILLED")


def test_refunds_appear_later_with_finance_records(api: Api, sim) -> None:
    refunded = [
        o
        for o in sim.truth.orders_created("acct-1", NOW - timedelta(days=40), NOW - timedelta(days=10))
        if o["paymentSummary"]["refunds"]
    ]
    assert refunded
    target = refunded[0]
    refund = target["paymentSummary"]["refunds"][0]
    refund_at = datetime.fromisoformat(refund["refundDate"].replace("Z", "+00:00"))
    sim.set_now(refund_at - timedelta(milliseconds=1))
    before = _order(api, target["orderId"])
    assert before["paymentSummary"]["refunds"] == [] and before["orderPaymentStatus"] == "PAID"
    assert before["lastModifiedDate"] < refund["refundDate"]
    sim.set_now(refund_at)
    after = _order(api, target["orderId"])
    assert after["orderPaymentStatus"] in ("FULLY_REFUNDED", "PARTIALLY_REFUNDED")
    assert after["lastModifiedDate"] == refund["refundDate"]
    line_refunds = [r for li in after["lineItems"] for r in li.get("refunds", [])]
    assert [r["refundId"] for r in line_refunds] == [refund["refundId"]]
    txns = api.get_all(
        "/sell/finances/v1/transaction",
        [
            ("filter", f"transactionDate:[{refund['refundDate']}..{refund['refundDate']}]"),
            ("filter", "transactionType:{REFUND}"),
        ],
        "transactions",
    )
    assert [(t["transactionId"], t["orderId"], t["amount"]) for t in txns] == [
        (refund["refundId"], target["orderId"], refund["amount"])
    ]


def test_advancing_clock_changes_lmd_window(api: Api, sim) -> None:
    before = {o["orderId"]: o for o in sim.truth.orders("acct-1", NOW - timedelta(days=10), NOW)}
    sim.advance(timedelta(hours=6))
    changed = api.get_all(
        "/sell/fulfillment/v1/order",
        {"filter": f"lastmodifieddate:[{iso(NOW + timedelta(milliseconds=1))}..{iso(sim.now)}]", "limit": 200},
        "orders",
    )
    assert changed
    old = [o for o in changed if o["orderId"] in before]
    assert old, "existing orders should have changed"
    for o in old:
        assert o["lastModifiedDate"] > before[o["orderId"]]["lastModifiedDate"]
        assert o != before[o["orderId"]]


def test_created_after_now_does_not_exist(api: Api, sim) -> None:
    sim.advance(timedelta(hours=5))
    future = sim.truth.orders_created("acct-1", NOW + timedelta(hours=1), NOW + timedelta(hours=5))
    assert future
    sim.set_now(NOW)
    resp = api.get(f"/sell/fulfillment/v1/order/{future[0]['orderId']}")
    assert resp.status_code == 404
    assert sim.truth.orders_created("acct-1", NOW + timedelta(hours=1), NOW + timedelta(hours=5)) == []


def _modified(sim: EbaySimulator, at) -> list[dict]:
    return sim.truth.orders("acct-1", at, at)


def test_modify_orders_fraction_and_determinism(api: Api, sim) -> None:
    at = NOW + timedelta(hours=1)
    existing = sim.truth.orders_created("acct-1", NOW - timedelta(days=400), NOW)
    sim.modify_orders("acct-1", fraction=0.1, at=at)
    assert _modified(sim, at) == []  # not yet: the clock has not reached ``at``
    sim.set_now(at + timedelta(minutes=1))
    changed = _modified(sim, at)
    assert 0.06 * len(existing) <= len(changed) <= 0.14 * len(existing)
    assert all(o["lastModifiedDate"] == iso(at) and o["buyerCheckoutNotes"] for o in changed)
    assert any(o["creationDate"] < iso(at - timedelta(days=30)) for o in changed)
    by_http = api.get_all(
        "/sell/fulfillment/v1/order", {"filter": f"lastmodifieddate:[{iso(at)}..{iso(at)}]", "limit": 200}, "orders"
    )
    assert by_http == changed
    old = {o["orderId"]: o for o in existing}
    for o in changed:
        assert o["salesRecordReference"] != old[o["orderId"]]["salesRecordReference"]
    twin = EbaySimulator(SimulatorConfig(seed=7, now=NOW))
    twin.modify_orders("acct-1", fraction=0.1, at=at)
    twin.set_now(at + timedelta(minutes=1))
    assert _modified(twin, at) == changed
    other = EbaySimulator(SimulatorConfig(seed=7, now=NOW))
    other.modify_orders("acct-2", fraction=0.1, at=at)
    other.set_now(at + timedelta(minutes=1))
    assert _modified(other, at) == []
