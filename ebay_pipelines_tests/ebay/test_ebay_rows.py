"""Row functions on real simulator payloads: keys equal the table's columns (minus synced_at),
values are typed (Decimal amounts, aware UTC datetimes) and ``raw`` is the JSON-able wire object."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal

from ebay_pipelines.ebay import buying, finances, fulfillment, inventory, messages, postorder, selling
from ebay_pipelines.store import tables

from .conftest import ACCOUNT, NOW, Wired, window


def columns(table) -> set[str]:
    return {c.name for c in table.columns} - {"synced_at"}


def check(rows: list[dict], table) -> None:
    assert rows, f"no rows for {table.name}"
    expected = columns(table)
    pk = [c.name for c in table.primary_key.columns]
    for row in rows:
        assert set(row) == expected, set(row) ^ expected
        assert row["ebay_account_id"] == ACCOUNT
        json.dumps(row["raw"])
        for key in pk:
            assert row[key] is not None
        for name, value in row.items():
            if isinstance(value, float):
                raise AssertionError(f"{table.name}.{name} is a float")
            if isinstance(value, datetime):
                assert value.utcoffset() == timedelta(0), f"{table.name}.{name} is not UTC"
        assert isinstance(row["source_updated_at"], datetime)
    keys = [tuple(r[k] for k in pk) for r in rows]
    assert len(keys) == len(set(keys)), f"duplicate primary keys in {table.name}"


def _all(pages) -> list[dict]:
    return [r for p in pages for r in p]


def test_order_and_line_item_rows(wired: Wired) -> None:
    since, until = window(30)
    orders = _all(fulfillment.iter_orders(wired.rest, since, until))
    rows = [fulfillment.order_row(ACCOUNT, o) for o in orders]
    check(rows, tables.ebay_orders)
    lines = [r for o in orders for r in fulfillment.line_item_rows(ACCOUNT, o)]
    check(lines, tables.order_line_items)
    by_id = {o["orderId"]: o for o in orders}
    for row in rows:
        order = by_id[row["order_id"]]
        assert row["total_value"] == Decimal(order["pricingSummary"]["total"]["value"])
        assert row["last_modified_date"] == row["source_updated_at"]
        assert row["line_item_count"] == len(order["lineItems"])
        assert row["raw"] is order
        line_sum = sum((line["total_value"] for line in lines if line["order_id"] == row["order_id"]), Decimal(0))
        assert line_sum == row["total_value"]
    refunded = [r for r in rows if r["refunded_amount_value"]]
    assert refunded and all(isinstance(r["refunded_amount_value"], Decimal) for r in refunded)
    assert all(line["legacy_transaction_id"] == line["line_item_id"] for line in lines)
    assert all(line["legacy_item_id"] for line in lines)
    # The one-pass reader the orders family uses gives exactly the same rows.
    together = [fulfillment.order_and_line_item_rows(ACCOUNT, o) for o in orders]
    assert [r for r, _ in together] == rows and [li for _, items in together for li in items] == lines


def test_dispute_rows(wired: Wired) -> None:
    since, until = window(119)
    disputes = _all(fulfillment.iter_disputes(wired.rest, since, until))
    rows = [fulfillment.dispute_row(ACCOUNT, d, fetched_at=NOW) for d in disputes]
    check(rows, tables.ebay_disputes)
    closed = [r for r in rows if r["payment_dispute_status"] == "CLOSED"]
    assert closed and all(r["outcome"] and r["closed_date"] and r["seller_response"] for r in closed)
    assert all(r["source_updated_at"] == NOW for r in rows)


def test_finance_rows(wired: Wired) -> None:
    since, until = window(30)
    txns = _all(finances.iter_transactions(wired.rest, since, until))
    check([finances.finance_transaction_row(ACCOUNT, t) for t in txns], tables.ebay_finances_transactions)
    check([finances.legacy_transaction_row(ACCOUNT, t) for t in txns], tables.ebay_transactions)
    fees = [f for t in txns for f in finances.fee_rows(ACCOUNT, t)]
    check(fees, tables.ebay_finances_fees)
    sales = [t for t in txns if t["transactionType"] == "SALE"]
    for sale in sales[:50]:
        row = finances.finance_transaction_row(ACCOUNT, sale)
        sale_fees = finances.fee_rows(ACCOUNT, sale)
        assert row["fee_count"] == len(sale_fees)
        assert sum((f["amount_value"] for f in sale_fees), Decimal(0)) == row["total_fee_amount_value"]
    assert any(f["line_item_id"] == "" for f in fees), "NON_SALE_CHARGE fees are transaction-level rows"
    refunds = [finances.refund_row_from_transaction(ACCOUNT, t) for t in txns if t["transactionType"] == "REFUND"]
    check(refunds, tables.ebay_refunds)
    assert all(r["refund_id"].startswith("FIN-") and r["refund_source"] == "finances" for r in refunds)
    assert all(r["return_id"] and r["line_item_id"] for r in refunds)


def test_inventory_and_offer_rows(wired: Wired) -> None:
    items = _all(inventory.iter_inventory_items(wired.rest))
    rows = [inventory.inventory_row(ACCOUNT, i) for i in items]
    check(rows, tables.ebay_inventory)
    assert all(r["image_count"] == len(i["product"]["imageUrls"]) for r, i in zip(rows, items))
    offers = _all(inventory.iter_offers_for_skus(wired.rest, [i["sku"] for i in items]))
    offer_rows = [inventory.offer_row(ACCOUNT, o) for o in offers]
    check(offer_rows, tables.ebay_offers)
    published = [r for r in offer_rows if r["listing_id"]]
    assert published and all(isinstance(r["price_value"], Decimal) for r in offer_rows)


def test_post_order_rows(wired: Wired) -> None:
    since, until = window(90)
    inquiries = _all(postorder.iter_inquiries(wired.rest, since, until))
    rows = [postorder.inquiry_row(ACCOUNT, i) for i in inquiries]
    check(rows, tables.ebay_inquiries)
    # InquirySummaryType names the line item, never the order: the store links it (store.order_links).
    assert all(r["order_id"] is None and r["item_id"] and r["transaction_id"] for r in rows)
    assert all(r["last_modified_date"] == r["source_updated_at"] for r in rows)
    claim = inquiries[0]["claimAmount"]["value"]
    assert rows[0]["claim_amount_value"] == Decimal(repr(claim))
    cases = [postorder.case_row(ACCOUNT, c) for c in _all(postorder.iter_cases(wired.rest, since, until))]
    check(cases, tables.ebay_cases)
    assert all(c["case_type"] in ("ITEM_NOT_RECEIVED", "RETURN") for c in cases)
    returns = [postorder.return_refund_row(ACCOUNT, r) for r in _all(postorder.iter_returns(wired.rest, since, until))]
    check(returns, tables.ebay_refunds)
    assert all(r["refund_id"] == f"RET-{r['return_id']}" and r["refund_source"] == "return" for r in returns)
    refunded = [r for r in returns if r["refund_date"] is not None]
    assert refunded and len(refunded) < len(returns)
    # A return is a refund only once refunded: amount and date together, the estimate and state always.
    assert all((r["refund_amount_value"] is None) == (r["refund_date"] is None) for r in returns)
    assert all(r["estimated_refund_value"] is not None and r["return_state"] for r in returns)


def test_trading_rows(wired: Wired) -> None:
    since, until = window(5)
    msgs = _all(messages.iter_messages(wired.trading, since, until))
    rows = [messages.message_row(ACCOUNT, m) for m in msgs]
    check(rows, tables.ebay_messages)
    truth = {t["MessageID"]: t for t in wired.sim.truth.messages(ACCOUNT, since, until)}
    for row in rows:
        t = truth[row["message_id"]]
        assert row["body"] == t["Text"] and row["receive_date"] == t["ReceiveDate"]
        assert row["is_read"] is t["Read"] and row["folder_id"] == t["FolderID"]
        assert row["is_sent"] is (t["FolderID"] == 1)
    listings = [selling.active_listing_row(ACCOUNT, i) for i in _all(selling.iter_active_listings(wired.trading))]
    check(listings, tables.ebay_active_inventory)
    ltruth = {t["ItemID"]: t for t in wired.sim.truth.active_listings(ACCOUNT)}
    for row in listings:
        t = ltruth[row["item_id"]]
        assert row["current_price_value"] == t["CurrentPrice"] and row["current_price_currency"] == t["Currency"]
        assert row["quantity_sold"] == t["QuantitySold"] and row["end_time"] == t["EndTime"]
    purchases = [buying.purchase_row(ACCOUNT, p) for p in _all(buying.iter_purchases(wired.trading))]
    check(purchases, tables.ebay_buyer)
    ptruth = {t["OrderLineItemID"]: t for t in wired.sim.truth.purchases(ACCOUNT)}
    for row in purchases:
        t = ptruth[row["order_line_item_id"]]
        assert row["transaction_price_value"] == t["TransactionPrice"] and row["order_id"] == t["OrderID"]
        assert row["source_updated_at"] == t["LastTimeModified"] and row["seller_user_id"] == t["SellerUserID"]
