"""Money lands in columns a bookkeeper can sum: booking directions, currencies, eBay-collected taxes.

Each test syncs real simulator data through the real path (simulator over HTTP -> client -> row
functions -> Dagster IO manager -> PostgreSQL) and checks the stored columns against the wire
records eBay's types describe; the eBay source of each shape is named in the test.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from tests_support import fast_definitions, register_account, run_family_range

from ebay_pipelines.ebay import finances
from ebay_pipelines.sync.families import FAMILIES_BY_NAME
from ebay_pipelines.sync.windows import Window, days_window

ACCOUNT = "acct-1"
FIRST, LAST = date(2026, 10, 5), date(2026, 10, 24)


def _dec(amount: dict[str, Any] | None) -> Decimal:
    return Decimal(amount["value"]) if amount else Decimal(0)


def _window(sim, family: str) -> Window:
    return days_window(FIRST, LAST, FAMILIES_BY_NAME[family].overlap, sim.now)


@pytest.fixture
def synced(ebay_env: str, sim, dagster_instance, engine: sa.Engine):
    """Orders, finances and refunds of twenty days synced for one account."""
    register_account(engine, sim, ACCOUNT, dagster_instance)
    defs = fast_definitions(ebay_env)
    for family in ("orders", "finances", "refunds"):
        result = run_family_range(defs, dagster_instance, family, f"{ACCOUNT}|{FIRST}", f"{ACCOUNT}|{LAST}")
        assert result.success, family
    return sim


def _rows(engine: sa.Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text(sql), {"a": ACCOUNT, **params}))


def _transactions(sim, kind: str) -> list[dict[str, Any]]:
    w = _window(sim, "finances")
    return sim.truth.finance_transactions(ACCOUNT, w.start, w.end, transaction_type=kind)


def test_sale_keeps_the_tax_ebay_collected(synced, engine: sa.Engine) -> None:
    """Finances Transaction ``ebayCollectedTaxAmount``, spelled with a lower-case ``ebay`` on the wire
    (README "Wire facts": Finances ebayCollectedTaxAmount), lands in the tax columns, and the SALE's
    CREDIT is a positive signed amount (Transaction.bookingEntry)."""
    sales = {t["transactionId"]: t for t in _transactions(synced, "SALE")}
    taxed = [t for t in sales.values() if "ebayCollectedTaxAmount" in t]
    assert taxed and all("eBayCollectedTaxAmount" not in t for t in sales.values())
    stored = {
        r.transaction_id: r
        for r in _rows(
            engine,
            "select transaction_id, ebay_collected_tax_amount_value, ebay_collected_tax_amount_currency, "
            "booking_entry, amount_value, signed_amount_value from ebay_finances_transactions "
            "where ebay_account_id = :a and transaction_type = 'SALE'",
        )
    }
    assert set(stored) == set(sales)
    for txn_id, txn in sales.items():
        row = stored[txn_id]
        tax = txn.get("ebayCollectedTaxAmount")
        assert row.ebay_collected_tax_amount_value == (_dec(tax) if tax else None)
        assert row.ebay_collected_tax_amount_currency == (tax["currency"] if tax else None)
        assert row.booking_entry == "CREDIT" and row.signed_amount_value == row.amount_value == _dec(txn["amount"])


def test_refund_fee_credits_are_credits(synced, engine: sa.Engine) -> None:
    """A REFUND (bookingEntry DEBIT) carries the fees eBay gives back in ``orderLineItems[].marketplaceFees``
    (README "Wire facts": Fee credits): they land as CREDIT fee rows with a negative net, the transaction
    as a negative signed amount, and the refund row holds what the buyer got back."""
    refunds = _transactions(synced, "REFUND")
    assert refunds
    for txn in refunds:
        fees = _rows(
            engine,
            "select booking_entry, amount_value, net_fee_value from ebay_finances_fees "
            "where ebay_account_id = :a and transaction_id = :t",
            t=txn["transactionId"],
        )
        credited = sum(_dec(f["amount"]) for line in txn["orderLineItems"] for f in line["marketplaceFees"])
        assert credited == _dec(txn["totalFeeAmount"]) > 0
        assert {f.booking_entry for f in fees} == {"CREDIT"}
        assert sum(f.net_fee_value for f in fees) == -credited
        assert all(f.amount_value > 0 for f in fees)
        (signed,) = _rows(
            engine,
            "select signed_amount_value from ebay_finances_transactions where ebay_account_id = :a "
            "and transaction_id = :t",
            t=txn["transactionId"],
        )
        assert signed.signed_amount_value == -_dec(txn["amount"])
        (refund,) = _rows(
            engine,
            "select refund_amount_value from ebay_refunds where ebay_account_id = :a and refund_id = :r",
            r=f"FIN-{txn['transactionId']}",
        )
        tax = _dec(txn.get("ebayCollectedTaxAmount"))
        given_back = _dec(txn["amount"]) + credited + tax
        assert refund.refund_amount_value == given_back == _dec(txn["totalFeeBasisAmount"]) + tax


def test_non_sale_charge_credit_is_a_fee_reversal(synced, engine: sa.Engine) -> None:
    """A fee reversal arrives as a NON_SALE_CHARGE with ``bookingEntry: CREDIT`` (README "Wire facts":
    Fee credits); its fee row is a credit, a charged one a debit."""
    charges = {t["transactionId"]: t for t in _transactions(synced, "NON_SALE_CHARGE")}
    stored = {
        r.transaction_id: r
        for r in _rows(
            engine,
            "select transaction_id, fee_type, booking_entry, amount_value, net_fee_value from ebay_finances_fees "
            "where ebay_account_id = :a and transaction_type = 'NON_SALE_CHARGE'",
        )
    }
    assert set(stored) == set(charges)
    assert {t["bookingEntry"] for t in charges.values()} == {"CREDIT", "DEBIT"}
    for txn_id, txn in charges.items():
        row = stored[txn_id]
        amount = _dec(txn["amount"])
        assert row.fee_type == txn["feeType"] and row.amount_value == amount
        assert row.booking_entry == txn["bookingEntry"]
        assert row.net_fee_value == (amount if txn["bookingEntry"] == "DEBIT" else -amount)


def test_summed_fees_are_the_net_fees_ebay_charged(synced, engine: sa.Engine) -> None:
    """SUM(net_fee_value) over an account is the fees charged less the fees given back: SALE fees, less
    REFUND fee credits, plus charged NON_SALE_CHARGEs, less credited ones (README "Wire facts": Fee credits)."""
    charged = credited = Decimal(0)
    for txn in _transactions(synced, None):
        line_fees = sum(
            (_dec(f["amount"]) for line in txn.get("orderLineItems", []) for f in line["marketplaceFees"]),
            Decimal(0),
        )
        if txn["bookingEntry"] == "CREDIT":
            charged += line_fees
        else:
            credited += line_fees
        if txn.get("feeType"):
            if txn["bookingEntry"] == "DEBIT":
                charged += _dec(txn["amount"])
            else:
                credited += _dec(txn["amount"])
    assert charged > 0 and credited > 0
    (total,) = _rows(engine, "select sum(net_fee_value) as net from ebay_finances_fees where ebay_account_id = :a")
    assert total.net == charged - credited


def test_readme_sample_nets_to_what_the_seller_paid() -> None:
    """The README's production sample (Wire facts: Fee credits): fees of 127.39 on sales, a refund of
    143.98 booked as 122.31 with 21.67 of fees credited, an AD_FEE credit of 3.41: the seller paid 102.31
    net in fees, where summing eBay's positive amounts gives 152.47."""

    def usd(value: str) -> dict[str, str]:
        return {"value": value, "currency": "USD"}

    sale = {
        "transactionId": "S1",
        "transactionType": "SALE",
        "bookingEntry": "CREDIT",
        "amount": usd("1072.61"),
        "orderLineItems": [
            {"lineItemId": "L1", "marketplaceFees": [{"feeType": "FINAL_VALUE_FEE", "amount": usd("127.39")}]}
        ],
    }
    refund = {
        "transactionId": "R1",
        "transactionType": "REFUND",
        "bookingEntry": "DEBIT",
        "amount": usd("122.31"),
        "totalFeeAmount": usd("21.67"),
        "orderLineItems": [
            {
                "lineItemId": "L1",
                "marketplaceFees": [
                    {"feeType": "FINAL_VALUE_FEE", "amount": usd("19.37")},
                    {"feeType": "INTERNATIONAL_FEE", "amount": usd("2.30")},
                ],
            }
        ],
    }
    reversal = {
        "transactionId": "N1",
        "transactionType": "NON_SALE_CHARGE",
        "bookingEntry": "CREDIT",
        "feeType": "AD_FEE",
        "amount": usd("3.41"),
    }
    rows = [row for txn in (sale, refund, reversal) for row in finances.fee_rows(ACCOUNT, txn)]
    assert sum(r["amount_value"] for r in rows) == Decimal("152.47")
    assert sum(r["net_fee_value"] for r in rows) == Decimal("102.31")
    refund_row = finances.refund_row_from_transaction(ACCOUNT, refund)
    assert refund_row["refund_amount_value"] == Decimal("143.98")


def test_cross_border_order_keeps_both_currencies(synced, engine: sa.Engine) -> None:
    """On a cross-border order ``pricingSummary`` and line items are in the buyer's currency while
    ``paymentSummary.totalDueSeller`` and payments are in the seller's, with ``convertedFromValue``
    (README "Wire facts": Cross-border currencies; Fulfillment Amount.convertedFromValue)."""
    w = _window(synced, "orders")
    orders = {o["orderId"]: o for o in synced.truth.orders(ACCOUNT, w.start, w.end)}
    foreign = [o for o in orders.values() if o["pricingSummary"]["total"]["currency"] != "USD"]
    assert foreign
    for order in foreign:
        due = order["paymentSummary"]["totalDueSeller"]
        (row,) = _rows(
            engine,
            "select total_value, total_currency, currency, price_subtotal_currency, total_due_seller_value, "
            "total_due_seller_currency, total_due_seller_converted_from_value, "
            "total_due_seller_converted_from_currency, paid_amount_value, paid_amount_currency, "
            "total_marketplace_fee_currency from ebay_orders where ebay_account_id = :a and order_id = :o",
            o=order["orderId"],
        )
        buyer = order["pricingSummary"]["total"]["currency"]
        assert (row.total_value, row.total_currency) == (_dec(order["pricingSummary"]["total"]), buyer)
        assert row.currency == row.price_subtotal_currency == buyer
        assert (row.total_due_seller_value, row.total_due_seller_currency) == (_dec(due), "USD")
        assert row.total_due_seller_converted_from_value == Decimal(due["convertedFromValue"])
        assert row.total_due_seller_converted_from_currency == buyer
        if order["paymentSummary"]["payments"]:
            assert row.paid_amount_currency == "USD"
            assert row.paid_amount_value == _dec(order["paymentSummary"]["payments"][0]["amount"])
        assert row.total_marketplace_fee_currency == order["totalMarketplaceFee"]["currency"]
        lines = _rows(
            engine,
            "select currency, line_item_cost_currency, total_currency, ebay_collected_tax_currency "
            "from order_line_items where ebay_account_id = :a and order_id = :o",
            o=order["orderId"],
        )
        assert {c for line in lines for c in line} == {buyer}


def test_collect_and_remit_taxes_are_stored_by_type(synced, engine: sa.Engine) -> None:
    """Tax eBay collects and remits sits in ``lineItems[].ebayCollectAndRemitTaxes[]`` with ``taxes[]``
    empty (README "Wire facts": Collect-and-remit taxes; Fulfillment EbayCollectAndRemitTax): line items
    and orders store it in total and by taxType, and the order total is marked as leaving it out."""
    w = _window(synced, "orders")
    orders = synced.truth.orders(ACCOUNT, w.start, w.end)
    seen_types: set[str] = set()
    for order in orders:
        by_type: dict[str, Decimal] = {}
        for line in order["lineItems"]:
            assert line["taxes"] == []
            line_types = {t["taxType"]: _dec(t["amount"]) for t in line.get("ebayCollectAndRemitTaxes", [])}
            (row,) = _rows(
                engine,
                "select tax_value, ebay_collected_tax_value, ebay_collected_taxes from order_line_items "
                "where ebay_account_id = :a and line_item_id = :l",
                l=line["lineItemId"],
            )
            assert row.tax_value == 0
            assert row.ebay_collected_tax_value == (sum(line_types.values()) if line_types else None)
            assert row.ebay_collected_taxes == ({k: str(v) for k, v in line_types.items()} or None)
            for k, v in line_types.items():
                by_type[k] = by_type.get(k, Decimal(0)) + v
        (row,) = _rows(
            engine,
            "select ebay_collected_tax_value, ebay_collected_taxes, total_includes_ebay_collected_tax, tax_value "
            "from ebay_orders where ebay_account_id = :a and order_id = :o",
            o=order["orderId"],
        )
        assert row.tax_value is None  # pricingSummary.tax is absent when eBay collects the tax
        assert row.ebay_collected_tax_value == (sum(by_type.values()) if by_type else None)
        assert row.ebay_collected_taxes == ({k: str(v) for k, v in by_type.items()} or None)
        assert row.total_includes_ebay_collected_tax is (False if by_type else None)
        seen_types |= set(by_type)
    assert {"STATE_SALES_TAX", "VAT"} <= seen_types
