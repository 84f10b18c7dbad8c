"""Paging across page boundaries returns every record exactly once, for every API module.

Each sync runs over real HTTP against the simulator and is compared with ``sim.truth``.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import timedelta

from ebay_pipelines.ebay import buying, finances, fulfillment, inventory, messages, postorder, selling

from .conftest import ACCOUNT, NOW, Wired, in_ebay_order, window


def _flatten(pages):
    pages = list(pages)
    assert all(isinstance(p, list) and p for p in pages), "pages are non-empty lists"
    return pages, [record for page in pages for record in page]


def _once(ids: list[str]) -> None:
    dupes = [k for k, n in Counter(ids).items() if n > 1]
    assert not dupes, f"records returned more than once: {dupes[:5]}"


def test_orders_every_record_once(wired: Wired) -> None:
    since, until = window(30)
    pages, orders = _flatten(in_ebay_order(fulfillment.iter_orders(wired.rest, since, until, page_size=50)))
    truth = wired.sim.truth.orders(ACCOUNT, since, until)
    assert len(truth) > 150
    ids = [o["orderId"] for o in orders]
    _once(ids)
    assert ids == [o["orderId"] for o in truth]
    assert orders == truth
    assert len(pages) == math.ceil(len(truth) / 50)
    assert wired.rest.calls[(ACCOUNT, "getOrders")] == len(pages) == wired.sim.calls[(ACCOUNT, "getOrders")]
    assert wired.rest.pages[(ACCOUNT, "getOrders")] == len(pages)


def test_disputes_every_record_once_across_90_day_windows(wired: Wired) -> None:
    since, until = NOW - timedelta(days=119), NOW
    _, disputes = _flatten(fulfillment.iter_disputes(wired.rest, since, until, page_size=3))
    truth = wired.sim.truth.disputes(ACCOUNT, since, until)
    assert len(truth) > 6
    _once([d["paymentDisputeId"] for d in disputes])
    assert sorted(disputes, key=lambda d: d["paymentDisputeId"]) == sorted(truth, key=lambda d: d["paymentDisputeId"])
    assert wired.sim.calls[(ACCOUNT, "getPaymentDispute")] == len(truth)
    assert (
        wired.rest.calls[(ACCOUNT, "getPaymentDisputeSummaries")]
        == wired.sim.calls[(ACCOUNT, "getPaymentDisputeSummaries")]
    )


def test_finance_transactions_every_record_once(wired: Wired) -> None:
    since, until = window(20)
    pages, txns = _flatten(in_ebay_order(finances.iter_transactions(wired.rest, since, until, page_size=100)))
    truth = wired.sim.truth.finance_transactions(ACCOUNT, since, until)
    assert len(truth) > 200 and len(pages) == math.ceil(len(truth) / 100)
    _once([(t["transactionId"], t["transactionType"]) for t in txns])
    assert txns == truth
    dates = [t["transactionDate"] for t in txns]
    assert dates == sorted(dates)


def test_refund_transactions_filter(wired: Wired) -> None:
    since, until = window(60)
    _, refunds = _flatten(in_ebay_order(finances.iter_transactions(wired.rest, since, until, "REFUND", page_size=5)))
    truth = wired.sim.truth.finance_transactions(ACCOUNT, since, until, "REFUND")
    assert len(truth) > 5
    assert refunds == truth
    assert {t["transactionType"] for t in refunds} == {"REFUND"}


def test_inventory_items_every_record_once(wired: Wired) -> None:
    pages, items = _flatten(in_ebay_order(inventory.iter_inventory_items(wired.rest, page_size=7)))
    truth = wired.sim.truth.inventory_items(ACCOUNT)
    assert items == truth
    assert len(pages) == math.ceil(len(truth) / 7)
    _once([i["sku"] for i in items])


def test_offers_every_record_once(wired: Wired) -> None:
    skus = [i["sku"] for i in wired.sim.truth.inventory_items(ACCOUNT)]
    unknown = "SK00-999999"
    _, offers = _flatten(inventory.iter_offers_for_skus(wired.rest, [*skus[:10], unknown, *skus[10:]], page_size=1))
    truth = wired.sim.truth.offers(ACCOUNT)
    _once([o["offerId"] for o in offers])
    assert offers == truth
    multi = sum(1 for sku in skus if sum(o["sku"] == sku for o in truth) > 1)
    assert multi > 0, "some SKU has two offers, so page_size=1 crosses a page boundary"
    # one call per page of each SKU, plus the unknown SKU's 404 (skipped, not an error)
    assert wired.sim.calls[(ACCOUNT, "getOffers")] == len(truth) + 1 == wired.rest.calls[(ACCOUNT, "getOffers")]


def test_inquiries_every_record_once(wired: Wired) -> None:
    since, until = window(90)
    _, inquiries = _flatten(in_ebay_order(postorder.iter_inquiries(wired.rest, since, until, page_size=5)))
    truth = wired.sim.truth.inquiries(ACCOUNT, since, until)
    assert len(truth) > 10
    _once([i["inquiryId"] for i in inquiries])
    assert inquiries == truth
    searches = math.ceil(len(truth) / 5)
    # plus the one probe learning what offset counts (see ebay_pipelines.ebay.offsets)
    assert wired.sim.calls[(ACCOUNT, "searchInquiries")] == searches + 1
    assert wired.sim.calls[(ACCOUNT, "getInquiry")] == 0, "InquirySummaryType holds every column"


def test_cases_every_record_once(wired: Wired) -> None:
    since, until = window(90)
    _, cases = _flatten(in_ebay_order(postorder.iter_cases(wired.rest, since, until, page_size=4)))
    truth = wired.sim.truth.case_details(ACCOUNT, since, until)
    assert len(truth) > 4
    _once([c["caseId"] for c in cases])
    assert cases == truth
    assert {c["caseType"] for c in cases} <= {"ITEM_NOT_RECEIVED", "RETURN"}


def test_returns_every_record_once_with_detail_only_when_refunded(wired: Wired) -> None:
    """Open returns come from the search without return_state, closed ones from return_state=CLOSED
    (CountSummaryType, ReturnCountFilterEnum); only refunded ones cost a getReturn."""
    since, until = window(90)
    _, returns = _flatten(postorder.iter_returns(wired.rest, since, until, page_size=5))
    summaries = wired.sim.truth.returns(ACCOUNT, since, until)
    details = {s["returnId"]: d for s, d in zip(summaries, wired.sim.truth.return_details(ACCOUNT, since, until))}
    assert len(summaries) > 5
    _once([r["returnId"] for r in returns])
    closed = [s["returnId"] for s in summaries if s["state"] == "CLOSED"]
    still_open = [s["returnId"] for s in summaries if s["state"] != "CLOSED"]
    assert closed and still_open
    got = [r["returnId"] for r in returns]
    assert set(got[: len(still_open)]) == set(still_open), "the open search first"
    assert set(got[len(still_open) :]) == set(closed), "then the closed one"
    refunded = [s for s in summaries if "actualRefundAmount" in s["sellerTotalRefund"]]
    unrefunded = [s for s in summaries if "actualRefundAmount" not in s["sellerTotalRefund"]]
    assert refunded and unrefunded
    by_id = {r["returnId"]: r for r in returns}
    for s in refunded:
        assert by_id[s["returnId"]] == {**s, **details[s["returnId"]]}
    for s in unrefunded:
        assert by_id[s["returnId"]] == s
    assert wired.sim.calls[(ACCOUNT, "getReturn")] == len(refunded)


def test_messages_every_record_once_with_bodies(wired: Wired) -> None:
    since, until = window(10)
    pages, msgs = _flatten(messages.iter_messages(wired.trading, since, until, entries_per_page=20))
    truth = wired.sim.truth.messages(ACCOUNT, since, until)
    assert len(truth) > 25
    _once([m["MessageID"] for m in msgs])
    assert [m["MessageID"] for m in msgs] == [t["MessageID"] for t in truth]
    assert [m["Text"] for m in msgs] == [t["Text"] for t in truth]
    header_calls = len(truth) // 20 + 1  # the last page has fewer than 20 (or none)
    body_calls = sum(math.ceil(len(p) / 10) for p in pages)
    assert wired.sim.calls[(ACCOUNT, "GetMyMessages")] == header_calls + body_calls


def test_active_listings_every_record_once(wired: Wired) -> None:
    pages, items = _flatten(in_ebay_order(selling.iter_active_listings(wired.trading, entries_per_page=15)))
    truth = wired.sim.truth.active_listings(ACCOUNT)
    assert len(pages) == math.ceil(len(truth) / 15)
    _once([i["ItemID"] for i in items])
    assert [i["ItemID"] for i in items] == [t["ItemID"] for t in truth]
    assert wired.sim.calls[(ACCOUNT, "GetMyeBaySelling")] == len(pages)


def test_purchases_every_record_once(wired: Wired) -> None:
    _, txns = _flatten(in_ebay_order(buying.iter_purchases(wired.trading, entries_per_page=4)))
    truth = wired.sim.truth.purchases(ACCOUNT)
    assert len(truth) > 4
    _once([t["OrderLineItemID"] for t in txns])
    assert [t["OrderLineItemID"] for t in txns] == [t["OrderLineItemID"] for t in truth]


def test_empty_windows_yield_nothing(wired: Wired) -> None:
    since = NOW - timedelta(days=400)
    until = since + timedelta(days=1)
    assert list(fulfillment.iter_orders(wired.rest, since, until)) == []
    assert list(finances.iter_transactions(wired.rest, since, until)) == []
    assert list(postorder.iter_inquiries(wired.rest, since, until)) == []
    assert list(messages.iter_messages(wired.trading, since, until)) == []
