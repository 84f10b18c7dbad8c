"""Records evolve with the simulated clock: orders, finance transaction statuses and message flags;
recorded modifications touch about the fraction asked."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from decimal import Decimal

from ebay_pipelines.simulator import EbaySimulator, SimulatorConfig

from .conftest import NOW, Api, iso, xfind, xfindall, xml_root


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
    assert [(t["transactionId"], t["orderId"]) for t in txns] == [(refund["refundId"], target["orderId"])]
    # The REFUND books the seller's loss net of the fees and the tax eBay gives back (README "Wire facts":
    # Fee credits): with those added back it is the order's refund.
    (txn,) = txns
    tax = txn.get("ebayCollectedTaxAmount", {"value": "0"})
    given_back = sum(Decimal(a["value"]) for a in (txn["amount"], txn["totalFeeAmount"], tax))
    assert (str(given_back), txn["amount"]["currency"]) == (refund["amount"]["value"], refund["amount"]["currency"])


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


FUNDS_ORDER = ("FUNDS_PROCESSING", "FUNDS_ON_HOLD", "FUNDS_AVAILABLE_FOR_PAYOUT", "PAYOUT")


def _sales(api: Api, start: datetime, end: datetime, *extra: tuple[str, str]) -> list[dict]:
    return api.get_all(
        "/sell/finances/v1/transaction",
        [
            ("filter", f"transactionDate:[{iso(start)}..{iso(end)}]"),
            ("filter", "transactionType:{SALE}"),
            ("limit", 1000),
            *extra,
        ],
        "transactions",
    )


def test_sale_funds_move_to_payout_as_the_clock_advances(api: Api, sim) -> None:
    """A SALE's transactionStatus follows eBay's payout path: FUNDS_PROCESSING, sometimes
    FUNDS_ON_HOLD, then FUNDS_AVAILABLE_FOR_PAYOUT and PAYOUT, never backwards.

    Sources: Finances ``TransactionStatusEnum``
    (https://developer.ebay.com/api-docs/sell/finances/types/pay:TransactionStatusEnum) for the states;
    eBay help "How payouts work for managed payments sellers" (funds show as Processing, become
    Available within about a business day unless held, and are paid out daily); the Finances
    contract's ``Transaction.payoutId`` ("will not be returned if eBay has not yet begun processing
    the payout") and ``transactionDate`` (when the transaction occurred, so it never moves).
    """
    start, end = NOW - timedelta(days=60), NOW - timedelta(days=56)
    sim.set_now(start)
    seen: dict[str, list[str]] = {}
    dates: dict[str, str] = {}
    payouts: dict[str, str] = {}
    while sim.now < end + timedelta(days=26):
        sim.advance(timedelta(hours=3))
        for t in _sales(api, start, end):
            tid = t["transactionId"]
            assert dates.setdefault(tid, t["transactionDate"]) == t["transactionDate"] <= iso(sim.now)
            assert ("payoutId" in t) is (t["transactionStatus"] == "PAYOUT")
            if "payoutId" in t:
                assert payouts.setdefault(tid, t["payoutId"]) == t["payoutId"]
            statuses = seen.setdefault(tid, [])
            if not statuses or statuses[-1] != t["transactionStatus"]:
                statuses.append(t["transactionStatus"])
    assert len(seen) > 30
    for statuses in seen.values():
        assert statuses == sorted(statuses, key=FUNDS_ORDER.index), statuses
        assert statuses[-1] == "PAYOUT"
    full = ["FUNDS_PROCESSING", "FUNDS_AVAILABLE_FOR_PAYOUT", "PAYOUT"]
    assert any(s == full for s in seen.values())
    held = [s for s in seen.values() if "FUNDS_ON_HOLD" in s]
    assert held and len(held) < len(seen) / 4
    assert all(s[0] == "FUNDS_PROCESSING" for s in held)
    assert _sales(api, start, end) == sim.truth.finance_transactions("acct-1", start, end, "SALE")


def test_transaction_status_filter_uses_the_status_at_now(api: Api, sim) -> None:
    """``transactionStatus:{...}`` selects transactions by their status at the time of the call, and a
    value outside ``TransactionStatusEnum`` is rejected with errorId 135007.

    Sources: getTransactions ``filter`` (transactionStatus) in the Finances contract; Finances
    ``TransactionStatusEnum`` (https://developer.ebay.com/api-docs/sell/finances/types/pay:TransactionStatusEnum);
    "135007 status filter" in /work/shared/ebay-api/README.md (Finances errors).
    """
    start, end = NOW - timedelta(days=4), NOW
    every = _sales(api, start, end)
    by_status: dict[str, list[dict]] = {}
    for t in every:
        by_status.setdefault(t["transactionStatus"], []).append(t)
    assert {"FUNDS_PROCESSING", "FUNDS_AVAILABLE_FOR_PAYOUT", "PAYOUT"} <= set(by_status)
    for status, expected in by_status.items():
        assert _sales(api, start, end, ("filter", f"transactionStatus:{{{status}}}")) == expected
    both = _sales(api, start, end, ("filter", "transactionStatus:{FUNDS_PROCESSING|PAYOUT}"))
    assert both == [t for t in every if t["transactionStatus"] in ("FUNDS_PROCESSING", "PAYOUT")]
    assert by_status["FUNDS_PROCESSING"]
    sim.advance(timedelta(days=3))  # processing lasts at most three days: none of them is processing now
    window = [("filter", f"transactionDate:[{iso(start)}..{iso(end)}]"), ("filter", "transactionType:{SALE}")]
    later = api.get("/sell/finances/v1/transaction", [*window, ("filter", "transactionStatus:{FUNDS_PROCESSING}")])
    assert later.status_code == 204
    bad = api.get("/sell/finances/v1/transaction", {"filter": "transactionStatus:{SETTLED}"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["errorId"] == 135007


def _one_transaction(api: Api, t: dict) -> dict:
    window = [("filter", f"transactionDate:[{t['transactionDate']}..{t['transactionDate']}]"), ("limit", 1000)]
    found = api.get_all("/sell/finances/v1/transaction", window, "transactions")
    return next(x for x in found if x["transactionId"] == t["transactionId"])


def _without_status(t: dict) -> dict:
    return {k: v for k, v in t.items() if k not in ("transactionStatus", "payoutId")}


def test_debits_are_settled_by_the_next_daily_payout(api: Api, sim) -> None:
    """Fees, shipping labels and refunds are taken from the funds when incurred, so they are never
    FUNDS_PROCESSING: FUNDS_AVAILABLE_FOR_PAYOUT from their transactionDate, PAYOUT (with a payoutId)
    from the payout at the end of that UTC day; nothing else about them changes.

    Sources: eBay help "How fees and selling costs are charged" (shipping labels, ad fees and refunds
    to buyers are deducted from Available and Processing funds at the time they are incurred); eBay's
    "Managed Payments APIs" deck (a payout transfers the balance at the end of the day); Finances
    ``TransactionStatusEnum`` (https://developer.ebay.com/api-docs/sell/finances/types/pay:TransactionStatusEnum).
    """
    start, end = NOW - timedelta(days=30), NOW - timedelta(days=20)
    params = [("filter", f"transactionDate:[{iso(start)}..{iso(end)}]"), ("limit", 1000)]
    every = api.get_all("/sell/finances/v1/transaction", params, "transactions")
    debits = [t for t in every if t["bookingEntry"] == "DEBIT"]
    kinds = ("REFUND", "SHIPPING_LABEL", "NON_SALE_CHARGE")
    chosen = [next(t for t in debits if t["transactionType"] == kind) for kind in kinds]
    for t in chosen:
        assert t["transactionStatus"] == "PAYOUT" and t["payoutId"]
        date = datetime.fromisoformat(t["transactionDate"].replace("Z", "+00:00"))
        payout = datetime.combine(date.date() + timedelta(days=1), datetime.min.time(), date.tzinfo)
        for at in (date, payout - timedelta(milliseconds=1)):
            sim.set_now(at)
            waiting = _one_transaction(api, t)
            assert waiting["transactionStatus"] == "FUNDS_AVAILABLE_FOR_PAYOUT" and "payoutId" not in waiting
            assert _without_status(waiting) == _without_status(t)
        sim.set_now(payout)
        assert _one_transaction(api, t) == t


def _message_headers(api: Api, start: datetime, end: datetime) -> list[ET.Element]:
    api.token = api.grant().json()["access_token"]  # the simulated clock may have passed the token's expiry
    root = xml_root(
        api.trading(
            "GetMyMessages",
            f"<DetailLevel>ReturnHeaders</DetailLevel><StartTime>{iso(start)}</StartTime>"
            f"<EndTime>{iso(end)}</EndTime><Pagination><EntriesPerPage>200</EntriesPerPage></Pagination>",
        )
    )
    assert _text(root, "Ack") == "Success"
    return xfindall(root, "Messages/Message")


def _text(elem: ET.Element, path: str) -> str:
    found = xfind(elem, path)
    assert found is not None and found.text is not None, path
    return found.text


def test_message_flags_turn_true_over_days(api: Api, sim) -> None:
    """A message's Read, Replied and Flagged turn true some time after it arrives (and stay true);
    Replied never comes before Read; ReceiveDate never moves.

    Sources: Trading ``MyMessagesMessageType`` (Read: whether the message has been viewed, and
    retrieving it with the API does not mark it read; Flagged; Replied; ReceiveDate: when My Messages
    received it) and ``ReviseMyMessages`` (the read and flagged states change after arrival), as
    listed for GetMyMessages in /work/shared/ebay-api/README.md ("Trading API").
    """
    start, end = NOW - timedelta(days=26), NOW - timedelta(days=20)
    sim.set_now(start)
    flags = ("Read", "Replied", "Flagged")
    seen: dict[str, list[tuple[bool, ...]]] = {}
    received: dict[str, str] = {}
    while sim.now < end + timedelta(days=3):
        sim.advance(timedelta(hours=2))
        for m in _message_headers(api, start, end):
            mid, receive = _text(m, "MessageID"), _text(m, "ReceiveDate")
            assert received.setdefault(mid, receive) == receive and receive <= iso(sim.now)
            state = tuple(_text(m, f) == "true" for f in flags)
            read, replied, _ = state
            assert read or not replied
            history = seen.setdefault(mid, [])
            if not history or history[-1] != state:
                history.append(state)
    assert len(seen) > 20
    for history in seen.values():
        for before, after in itertools.pairwise(history):
            assert all(a or not b for b, a in zip(before, after, strict=True)), history
    finals = [h[-1] for h in seen.values()]
    for i, name in enumerate(flags):
        turned = [h for h in seen.values() if not h[0][i] and h[-1][i]]
        assert turned, f"no message became {name}"
    assert any(not f[0] for f in finals), "some messages are never read"
    assert sum(f[1] for f in finals) < sum(f[0] for f in finals)
    truth = {m["MessageID"]: m for m in sim.truth.messages("acct-1", start, end)}
    assert {mid: h[-1] for mid, h in seen.items()} == {mid: tuple(truth[mid][f] for f in flags) for mid in truth}
    inbox = sim.truth.messages("acct-1", sim.now - timedelta(days=200), sim.now + timedelta(milliseconds=1))
    summary = xml_root(api.trading("GetMyMessages", "<DetailLevel>ReturnSummary</DetailLevel>"))
    assert int(_text(summary, "Summary/NewMessageCount")) == sum(not m["Read"] for m in inbox)
    assert int(_text(summary, "Summary/FlaggedMessageCount")) == sum(m["Flagged"] for m in inbox)


def test_unanswered_disputes_and_escalated_returns_close(sim) -> None:
    """No problem stays open forever.

    A payment dispute the seller leaves unanswered past its ``respondByDate`` is decided by eBay and
    closed (Fulfillment PaymentDisputeSummary ``respondByDate``: the seller must act by then;
    DisputeStateEnum CLOSED); an escalated return closes with its case (Post-Order ReturnStateEnum
    ESCALATED then CLOSED; CaseStatusEnum CLOSED).
    """
    since, until = NOW - timedelta(days=110), NOW - timedelta(days=30)
    disputes = sim.truth.dispute_summaries("acct-1", since, until)
    assert disputes and all(d["paymentDisputeStatus"] == "CLOSED" for d in disputes)
    late = [d for d in disputes if d["closedDate"] > d["respondByDate"]]
    assert late, "some disputes were closed by eBay after the seller's deadline"
    returns = sim.truth.returns("acct-1", since, until)
    details = sim.truth.return_details("acct-1", since, until)
    assert returns and all(r["state"] == "CLOSED" for r in returns)
    escalated = [d["detail"] for r, d in zip(returns, details) if "actualRefundAmount" not in r["sellerTotalRefund"]]
    assert escalated, "some returns were escalated instead of refunded"
    # RefundInfoType: actualRefundDetail only once the seller refunded.
    assert all("actualRefundDetail" not in d["refundInfo"] for d in escalated), (
        "unrefunded escalated returns closed too"
    )
