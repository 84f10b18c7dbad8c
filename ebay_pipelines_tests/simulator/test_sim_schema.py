"""Every payload the simulator emits conforms to eBay's published schemas."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from .conftest import NOW, Api, iso, xfindall, xml_root


def _window(days: int) -> str:
    return f"[{iso(NOW - timedelta(days=days))}..{iso(NOW)}]"


def test_orders_conform_and_cover_lifecycle(api: Api, fulfillment_spec) -> None:
    orders = api.get_all(
        "/sell/fulfillment/v1/order", {"filter": f"creationdate:{_window(60)}", "limit": 200}, "orders"
    )
    assert len(orders) > 300
    first = api.get("/sell/fulfillment/v1/order", {"filter": f"creationdate:{_window(60)}", "limit": 200}).json()
    fulfillment_spec.check("OrderSearchPagedCollection", {**first, "orders": first["orders"][:3]})
    for order in orders:
        fulfillment_spec.check("Order", order)
    payment = {o["orderPaymentStatus"] for o in orders}
    fulfillment = {o["orderFulfillmentStatus"] for o in orders}
    assert {"PAID", "FULLY_REFUNDED", "PARTIALLY_REFUNDED"} <= payment
    assert {"FULFILLED", "NOT_STARTED"} <= fulfillment
    assert any(o["cancelStatus"]["cancelState"] == "CANCELED" for o in orders)
    single = api.get(f"/sell/fulfillment/v1/order/{orders[0]['orderId']}").json()
    fulfillment_spec.check("Order", single)


def _sum(amounts) -> Decimal:
    return sum((Decimal(a["value"]) for a in amounts), Decimal(0))


@pytest.mark.parametrize("tax_breakdown", [False, True])
def test_order_amounts_are_consistent(api: Api, tax_breakdown: bool) -> None:
    """Amounts add up as eBay's Order type describes them.

    Fulfillment PricingSummary.total and LineItem.total hold 'Collect and Remit' tax only with
    ``fieldGroups=TAX_BREAKDOWN``, when ``taxes[]`` repeats it; PaymentSummary.totalDueSeller and
    Payment.amount hold it always; README "Wire facts": Collect-and-remit taxes (``taxes[]`` empty,
    ``pricingSummary.tax`` absent) and Cross-border currencies (pricing in the buyer's currency,
    payments in the seller's, with ``convertedFromValue``).
    """
    params = {"filter": f"creationdate:{_window(30)}", "limit": 200}
    if tax_breakdown:
        params["fieldGroups"] = "TAX_BREAKDOWN"
    orders = api.get_all("/sell/fulfillment/v1/order", params, "orders")
    cross_border = 0
    for o in orders:
        ps = o["pricingSummary"]
        dec = {k: Decimal(v["value"]) for k, v in ps.items()}
        for v in ps.values():
            assert len(v["value"].split(".")[1]) == 2
        buyer_currency = ps["total"]["currency"]
        items = o["lineItems"]
        remitted = [t for li in items for t in li.get("ebayCollectAndRemitTaxes", [])]
        assert all(t["collectionMethod"] == "NET" and t["amount"]["currency"] == buyer_currency for t in remitted)
        tax = _sum(t["amount"] for t in remitted)
        assert dec["priceSubtotal"] == _sum(li["lineItemCost"] for li in items)
        assert dec["deliveryCost"] == _sum(li["deliveryCost"]["shippingCost"] for li in items)
        assert dec.get("tax", Decimal(0)) == (tax if tax_breakdown else 0)
        assert all(bool(li["taxes"]) == (tax_breakdown and bool(li.get("ebayCollectAndRemitTaxes"))) for li in items)
        included = tax if tax_breakdown else Decimal(0)
        assert dec["total"] == dec["priceSubtotal"] + dec["deliveryCost"] + included - dec.get("priceDiscount", 0)
        for li in items:
            discount = _sum(p["discountAmount"] for p in li["appliedPromotions"])
            line_tax = _sum(t["amount"] for t in li.get("ebayCollectAndRemitTaxes", []))
            expected = (
                Decimal(li["lineItemCost"]["value"])
                + Decimal(li["deliveryCost"]["shippingCost"]["value"])
                + (line_tax if tax_breakdown else 0)
                - discount
            )
            assert Decimal(li["total"]["value"]) == expected
            assert li["legacyItemId"]
        due = o["paymentSummary"]["totalDueSeller"]
        if due["currency"] != buyer_currency:
            cross_border += 1
            assert due["convertedFromCurrency"] == buyer_currency
        refunded = _sum(r["amount"] for r in o["paymentSummary"]["refunds"])
        paid = _sum(p["amount"] for p in o["paymentSummary"]["payments"])
        if o["orderPaymentStatus"] in ("PAID", "FULLY_REFUNDED", "PARTIALLY_REFUNDED"):
            assert Decimal(due["value"]) == paid - refunded
            buyer_paid = dec["priceSubtotal"] + dec["deliveryCost"] + tax - dec.get("priceDiscount", 0)
            assert Decimal(o["paymentSummary"]["payments"][0]["amount"].get("convertedFromValue", paid)) == buyer_paid
        if o["orderPaymentStatus"] == "FULLY_REFUNDED":
            assert refunded == paid
        if o["orderPaymentStatus"] == "PARTIALLY_REFUNDED":
            assert 0 < refunded < paid
            assert sum(len(li.get("refunds", [])) for li in items) == 1
    assert cross_border > 0


def test_transactions_conform_and_follow_orders(api: Api, finances_spec) -> None:
    window = f"[{iso(NOW - timedelta(days=40))}..{iso(NOW - timedelta(days=20))}]"
    txns = api.get_all(
        "/sell/finances/v1/transaction", {"filter": f"transactionDate:{window}", "limit": 1000}, "transactions"
    )
    page = api.get("/sell/finances/v1/transaction", {"filter": f"transactionDate:{window}", "limit": 5}).json()
    finances_spec.check("Transactions", page)
    for t in txns:
        finances_spec.check("Transaction", t)
    kinds = {t["transactionType"] for t in txns}
    assert {"SALE", "REFUND", "SHIPPING_LABEL", "NON_SALE_CHARGE"} <= kinds
    assert len({t["transactionId"] for t in txns}) == len(txns)
    for t in txns:
        if t["transactionType"] == "SALE":
            assert t["bookingEntry"] == "CREDIT"
            fees = [f for li in t["orderLineItems"] for f in li["marketplaceFees"]]
            assert {f["feeType"] for f in t["orderLineItems"][0]["marketplaceFees"]} == {
                "FINAL_VALUE_FEE",
                "FINAL_VALUE_FEE_FIXED_PER_ORDER",
            }
            total_fee = sum(Decimal(f["amount"]["value"]) for f in fees)
            assert Decimal(t["totalFeeAmount"]["value"]) == total_fee
            order = api.get(f"/sell/fulfillment/v1/order/{t['orderId']}").json()
            assert Decimal(order["totalMarketplaceFee"]["value"]) == total_fee
            # A SALE is what the buyer paid less the fees and the tax eBay collected itself, whose
            # key production spells ebayCollectedTaxAmount (README "Wire facts").
            paid = _sum(p["amount"] for p in order["paymentSummary"]["payments"])
            tax = Decimal(t.get("ebayCollectedTaxAmount", {"value": "0"})["value"])
            assert "eBayCollectedTaxAmount" not in t
            assert Decimal(t["amount"]["value"]) == paid - total_fee - tax
    refunds = [t for t in txns if t["transactionType"] == "REFUND"]
    assert all(t["bookingEntry"] == "DEBIT" and t["orderId"] for t in refunds)
    # A REFUND carries the fees eBay gives back; the seller's funds lose the refund less them.
    assert all(Decimal(t["totalFeeAmount"]["value"]) > 0 for t in refunds)
    charges = [t for t in txns if t["transactionType"] == "NON_SALE_CHARGE"]
    assert all(t["feeType"] for t in charges)
    # Fee reversals arrive as NON_SALE_CHARGE credits (README "Wire facts": Fee credits).
    assert {t["bookingEntry"] for t in charges} == {"CREDIT", "DEBIT"}


def test_disputes_conform(api: Api, fulfillment_spec) -> None:
    params = {"open_date_from": iso(NOW - timedelta(days=89)), "open_date_to": iso(NOW), "limit": 200}
    summaries = api.get_all("/sell/fulfillment/v1/payment_dispute_summary", params, "paymentDisputeSummaries")
    assert summaries
    fulfillment_spec.check(
        "DisputeSummaryResponse", api.get("/sell/fulfillment/v1/payment_dispute_summary", params).json()
    )
    statuses = set()
    for s in summaries:
        fulfillment_spec.check("PaymentDisputeSummary", s)
        detail = api.get(f"/sell/fulfillment/v1/payment_dispute/{s['paymentDisputeId']}").json()
        fulfillment_spec.check("PaymentDispute", detail)
        statuses.add(detail["paymentDisputeStatus"])
        order = api.get(f"/sell/fulfillment/v1/order/{detail['orderId']}").json()
        assert {li["lineItemId"] for li in order["lineItems"]} == {li["lineItemId"] for li in detail["lineItems"]}
    assert "CLOSED" in statuses and statuses & {"OPEN", "ACTION_NEEDED"}


def test_inventory_conforms(api: Api, inventory_spec) -> None:
    page = api.get("/sell/inventory/v1/inventory_item", {"limit": 200}).json()
    inventory_spec.check("InventoryItems", page)
    assert len(page["inventoryItems"]) == 40
    for item in page["inventoryItems"]:
        assert item["product"]["aspects"]["Brand"] == [item["product"]["brand"]]
        offers = api.get("/sell/inventory/v1/offer", {"sku": item["sku"]}).json()
        inventory_spec.check("Offers", offers)
        assert 1 <= offers["total"] <= 2


def test_postorder_conforms(api: Api, postorder_spec, sim) -> None:
    searches = [
        (
            "/post-order/v2/inquiry/search",
            "inquiry_creation_date_range",
            "InquirySearchResponse",
            "/post-order/v2/inquiry/{}",
            "inquiryId",
            "InquiryDetail",
        ),
        (
            "/post-order/v2/casemanagement/search",
            "case_creation_date_range",
            "CaseSearchResponse",
            "/post-order/v2/casemanagement/{}",
            "caseId",
            "CaseDetail",
        ),
        (
            "/post-order/v2/return/search",
            "creation_date_range",
            "ReturnSearchResponse",
            "/post-order/v2/return/{}",
            "returnId",
            "ReturnDetail",
        ),
    ]
    orders = {}
    for path, prefix, response_def, detail_path, id_key, detail_def in searches:
        params = {f"{prefix}_from": iso(NOW - timedelta(days=89)), f"{prefix}_to": iso(NOW), "limit": 200, "offset": 1}
        # return/search answers open returns only without return_state (CountSummaryType).
        states = [{}, {"return_state": "CLOSED"}] if id_key == "returnId" else [{}]
        members = []
        for state in states:
            resp = api.get(path, {**params, **state}, scheme="IAF")
            assert resp.status_code == 200
            body = resp.json()
            postorder_spec.check(response_def, body)
            members += body["members"]
        assert members
        for member in members:
            detail = api.get(detail_path.format(member[id_key]), scheme="IAF").json()
            postorder_spec.check(detail_def, detail)
            if id_key == "returnId":
                # GetDetailResponse: FULL (the default) answers the detail container, SUMMARY the summary.
                summary = api.get(detail_path.format(member[id_key]), {"fieldgroups": "SUMMARY"}, scheme="IAF").json()
                postorder_spec.check(detail_def, summary)
                assert set(detail) == {"detail"} and summary == {"summary": member}
            else:
                # InquiryDetailsResponse / CaseDetailsResponse: the summary's fields, and no orderId.
                assert {k: v for k, v in detail.items() if k in member} == member and "orderId" not in detail
            if "orderId" in member:
                order = (
                    orders.get(member["orderId"]) or api.get(f"/sell/fulfillment/v1/order/{member['orderId']}").json()
                )
                orders[member["orderId"]] = order
                assert (member.get("itemId") or member["creationInfo"]["item"]["itemId"]) in {
                    li["legacyItemId"] for li in order["lineItems"]
                }
                assert (member.get("transactionId") or member["creationInfo"]["item"]["transactionId"]) in {
                    li["lineItemId"] for li in order["lineItems"]
                }
    missing = api.get("/post-order/v2/inquiry/999", scheme="IAF")
    assert missing.status_code == 404
    postorder_spec.check("ErrorResponse", missing.json())
    bad = api.get("/post-order/v2/return/search", {"limit": 500}, scheme="IAF")
    assert bad.status_code == 400
    postorder_spec.check("ErrorResponse", bad.json())


def test_error_bodies_conform(api: Api, fulfillment_spec, finances_spec, inventory_spec) -> None:
    for path, params, checker, status in [
        ("/sell/fulfillment/v1/order", {"limit": 201}, fulfillment_spec, 400),
        ("/sell/fulfillment/v1/order/99-99999-99999", None, fulfillment_spec, 404),
        ("/sell/finances/v1/transaction", {"limit": 1001}, finances_spec, 400),
        ("/sell/inventory/v1/inventory_item", {"limit": 201}, inventory_spec, 400),
        ("/sell/inventory/v1/offer", {"sku": "nope"}, inventory_spec, 404),
    ]:
        resp = api.get(path, params)
        assert resp.status_code == status
        for err in resp.json()["errors"]:
            checker.check("Error", err)


def test_trading_conforms(api: Api, trading_spec) -> None:
    selling = api.trading(
        "GetMyeBaySelling",
        "<ActiveList><Include>true</Include><Pagination>"
        "<EntriesPerPage>200</EntriesPerPage><PageNumber>1</PageNumber></Pagination></ActiveList>",
    )
    trading_spec.check("GetMyeBaySelling", selling.content)
    assert len(xfindall(xml_root(selling), "ActiveList/ItemArray/Item")) == 40
    buying = api.trading(
        "GetMyeBayBuying",
        "<WonList><Include>true</Include><DurationInDays>60</DurationInDays>"
        "<Pagination><EntriesPerPage>200</EntriesPerPage><PageNumber>1</PageNumber></Pagination></WonList>",
    )
    trading_spec.check("GetMyeBayBuying", buying.content)
    assert xfindall(xml_root(buying), "WonList/OrderTransactionArray/OrderTransaction/Transaction")
    headers = api.trading(
        "GetMyMessages",
        f"<DetailLevel>ReturnHeaders</DetailLevel><StartTime>{iso(NOW - timedelta(days=10))}"
        f"</StartTime><EndTime>{iso(NOW)}</EndTime><Pagination><EntriesPerPage>200</EntriesPerPage>"
        "<PageNumber>1</PageNumber></Pagination>",
    )
    trading_spec.check("GetMyMessages", headers.content)
    messages = xfindall(xml_root(headers), "Messages/Message")
    assert messages and all(not xfindall(m, "Text") for m in messages)
    ids = "".join(f"<MessageID>{xfindall(m, 'MessageID')[0].text}</MessageID>" for m in messages[:10])
    full = api.trading("GetMyMessages", f"<DetailLevel>ReturnMessages</DetailLevel><MessageIDs>{ids}</MessageIDs>")
    trading_spec.check("GetMyMessages", full.content)
    assert all(xfindall(m, "Text") for m in xfindall(xml_root(full), "Messages/Message"))
    summary = api.trading("GetMyMessages", "<DetailLevel>ReturnSummary</DetailLevel>")
    trading_spec.check("GetMyMessages", summary.content)
    too_many = api.trading(
        "GetMyMessages",
        "<DetailLevel>ReturnMessages</DetailLevel><MessageIDs>"
        + "".join(f"<MessageID>{i}</MessageID>" for i in range(11))
        + "</MessageIDs>",
    )
    trading_spec.check("GetMyMessages", too_many.content)
    assert xfindall(xml_root(too_many), "Errors/ErrorCode")[0].text == "21919009"
    invalid = api.trading("GetMyeBaySelling", "<ActiveList><Include>true</Include></ActiveList>", token="bogus")
    trading_spec.check("GetMyeBaySelling", invalid.content)
    assert invalid.status_code == 200
    assert xfindall(xml_root(invalid), "Errors/ErrorCode")[0].text == "21916984"


def test_checkers_reject_undeclared_misordered_and_mistyped(fulfillment_spec, postorder_spec, trading_spec) -> None:
    import pytest

    fulfillment_spec.check("Order", {"orderId": "1", "lineItems": [{"lineItemId": "2"}]})
    for bad in (
        {"orderId": "1", "bogus": 1},
        {"lineItems": [{"lineItemId": "2", "nope": True}]},
        {"orderId": 5},
        {"pricingSummary": {"total": {"value": "1.00", "currency": "USD", "extra": "x"}}},
    ):
        with pytest.raises(AssertionError):
            fulfillment_spec.check("Order", bad)
    with pytest.raises(AssertionError):
        postorder_spec.check("InquirySummary", {"inquiryId": "1", "unexpected": 1})
    ns = 'xmlns="urn:ebay:apis:eBLBaseComponents"'
    ok = f"<GetMyMessagesResponse {ns}><Timestamp>2026-11-01T12:00:00.000Z</Timestamp><Ack>Success</Ack></GetMyMessagesResponse>"
    trading_spec.check("GetMyMessages", ok.encode())
    for bad in (
        f"<GetMyMessagesResponse {ns}><Ack>Success</Ack><Timestamp>2026-11-01T12:00:00.000Z</Timestamp></GetMyMessagesResponse>",
        f"<GetMyMessagesResponse {ns}><Ack>Maybe</Ack></GetMyMessagesResponse>",
        f"<GetMyMessagesResponse {ns}><Ack>Success</Ack><Ack>Success</Ack></GetMyMessagesResponse>",
        f"<GetMyMessagesResponse {ns}><Messages><Message><Subject>x</Subject><Sender>y</Sender></Message></Messages>"
        "</GetMyMessagesResponse>",
        f"<GetMyMessagesResponse {ns}><Messages><Message><Bogus>1</Bogus></Message></Messages></GetMyMessagesResponse>",
        f"<GetMyMessagesResponse {ns}><Messages><Message><Read>yes</Read></Message></Messages></GetMyMessagesResponse>",
    ):
        with pytest.raises(AssertionError):
            trading_spec.check("GetMyMessages", bad.encode())
