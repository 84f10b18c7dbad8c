"""What the simulator says a correct sync holds, per table, and how to compare a database with it.

Every function takes the account and the window (or snapshot) that landed, so one family test,
a range run or a soak over many accounts and days can each be checked exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from ebay_pipelines.sync.families import FAMILIES_BY_NAME
from ebay_pipelines.sync.windows import Window

Expected = dict[str, dict[str, Any]]  # table -> {key: compared value (None: presence only)}

WINDOW_FAMILIES = [s.name for s in FAMILIES_BY_NAME.values() if s.windowed]
SNAPSHOT_FAMILIES = [s.name for s in FAMILIES_BY_NAME.values() if not s.windowed]

# table -> (SQL expression of the key, compared column)
STORED: dict[str, tuple[str, str]] = {
    "ebay_orders": ("order_id", "total_value"),
    "order_line_items": ("line_item_id", "line_item_cost_value"),
    "ebay_transactions": ("transaction_id || '/' || transaction_type", "amount_value"),
    "ebay_finances_transactions": ("transaction_id || '/' || transaction_type", "amount_value"),
    "ebay_finances_fees": ("transaction_id || '/' || line_item_id || '/' || fee_seq", "net_fee_value"),
    "ebay_payouts": ("payout_id", "amount_value"),
    "ebay_refunds": ("refund_id", "refund_amount_value"),
    "ebay_disputes": ("payment_dispute_id", "amount_value"),
    "ebay_offers": ("offer_id", "price_value"),
    "ebay_inventory": ("sku", "available_quantity"),
    "ebay_active_inventory": ("item_id", "current_price_value"),
    "ebay_messages": ("message_id", "body"),
    "ebay_buyer": ("order_line_item_id", "transaction_price_value"),
    "ebay_inquiries": ("inquiry_id", "claim_amount_value"),
    "ebay_cases": ("case_id", "claim_amount_value"),
}


def dec(value: Any) -> Decimal:
    """An exact decimal of an eBay amount value."""
    return Decimal(str(value))


def _finances(sim: Any, account: str, w: Window) -> Expected:
    txs = sim.truth.finance_transactions(account, w.start, w.end)
    fees: dict[str, Any] = {}
    for t in txs:
        # A line item's fees are charged on a credit to the seller (a SALE) and given back on a debit
        # (a REFUND); a fee transaction is charged when it debits the seller (README "Wire facts": Fee credits).
        line_sign = 1 if t["bookingEntry"] == "CREDIT" else -1
        for line in t.get("orderLineItems") or []:
            for seq, fee in enumerate(line.get("marketplaceFees") or []):
                fees[f"{t['transactionId']}/{line['lineItemId']}/{seq}"] = line_sign * dec(fee["amount"]["value"])
        if t.get("feeType"):
            fees[f"{t['transactionId']}//0"] = -line_sign * dec(t["amount"]["value"])
    return {
        "ebay_finances_transactions": {
            f"{t['transactionId']}/{t['transactionType']}": dec(t["amount"]["value"]) for t in txs
        },
        "ebay_finances_fees": fees,
    }


def refunded_to_buyer(txn: dict[str, Any]) -> Decimal:
    """A REFUND's amount plus the fees eBay credited back and the tax it refunded itself."""
    tax = txn.get("ebayCollectedTaxAmount") or txn.get("eBayCollectedTaxAmount") or {"value": "0"}
    return dec(txn["amount"]["value"]) + dec(txn["totalFeeAmount"]["value"]) + dec(tax["value"])


WINDOW_TRUTH: dict[str, Callable[[Any, str, Window], Expected]] = {
    "orders": lambda sim, a, w: {
        "ebay_orders": {
            o["orderId"]: dec(o["pricingSummary"]["total"]["value"]) for o in sim.truth.orders(a, w.start, w.end)
        },
        "order_line_items": {
            li["lineItemId"]: dec(li["lineItemCost"]["value"])
            for o in sim.truth.orders(a, w.start, w.end)
            for li in o["lineItems"]
        },
    },
    "transactions": lambda sim, a, w: {
        "ebay_transactions": {
            f"{t['transactionId']}/{t['transactionType']}": dec(t["amount"]["value"])
            for t in sim.truth.finance_transactions(a, w.start, w.end)
        }
    },
    "finances": _finances,
    "payouts": lambda sim, a, w: {
        "ebay_payouts": {p["payoutId"]: dec(p["amount"]["value"]) for p in sim.truth.payouts(a, w.start, w.end)}
    },
    "refunds": lambda sim, a, w: {
        "ebay_refunds": {
            **{
                f"FIN-{t['transactionId']}": refunded_to_buyer(t)
                for t in sim.truth.finance_transactions(a, w.start, w.end, transaction_type="REFUND")
            },
            **{f"RET-{r['returnId']}": None for r in sim.truth.returns(a, w.start, w.end)},
        }
    },
    "disputes": lambda sim, a, w: {
        "ebay_disputes": {
            d["paymentDisputeId"]: dec(d["amount"]["value"]) for d in sim.truth.disputes(a, w.start, w.end)
        }
    },
    "messages": lambda sim, a, w: {
        "ebay_messages": {str(m["MessageID"]): m["Text"] for m in sim.truth.messages(a, w.start, w.end)}
    },
    "inquiries": lambda sim, a, w: {
        "ebay_inquiries": {
            i["inquiryId"]: dec(i["claimAmount"]["value"]) for i in sim.truth.inquiries(a, w.start, w.end)
        }
    },
    "cases": lambda sim, a, w: {
        "ebay_cases": {c["caseId"]: dec(c["claimAmount"]["value"]) for c in sim.truth.cases(a, w.start, w.end)}
    },
}

SNAPSHOT_TRUTH: dict[str, Callable[[Any, str], Expected]] = {
    "offers": lambda sim, a: {
        "ebay_offers": {o["offerId"]: dec(o["pricingSummary"]["price"]["value"]) for o in sim.truth.offers(a)}
    },
    "inventory": lambda sim, a: {
        "ebay_inventory": {
            i["sku"]: i["availability"]["shipToLocationAvailability"]["quantity"] for i in sim.truth.inventory_items(a)
        }
    },
    "active_inventory": lambda sim, a: {
        "ebay_active_inventory": {str(i["ItemID"]): dec(i["CurrentPrice"]) for i in sim.truth.active_listings(a)}
    },
    "buyer": lambda sim, a: {
        "ebay_buyer": {str(p["OrderLineItemID"]): dec(p["TransactionPrice"]) for p in sim.truth.purchases(a)}
    },
}


@dataclass
class Mismatch:
    """One difference between a table and the simulator's truth."""

    table: str
    account: str
    kind: str  # missing | unexpected | value | duplicate
    key: str
    detail: str = ""


def stored_rows(engine: sa.Engine, table: str, account: str) -> tuple[dict[str, Any], list[str]]:
    """The stored (key -> compared value) of one account's rows, and keys that occur more than once."""
    key, column = STORED[table]
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(f"select {key} as k, {column} as v from {table} where ebay_account_id = :a"), {"a": account}
        ).all()
    seen: dict[str, Any] = {}
    duplicates = []
    for r in rows:
        if r.k in seen:
            duplicates.append(r.k)
        seen[r.k] = r.v
    return seen, duplicates


def compare(engine: sa.Engine, account: str, expected: Expected) -> list[Mismatch]:
    """Every difference between the account's stored rows and ``expected`` (empty when exact)."""
    found: list[Mismatch] = []
    for table, want in expected.items():
        got, duplicates = stored_rows(engine, table, account)
        found += [Mismatch(table, account, "duplicate", k) for k in duplicates]
        found += [Mismatch(table, account, "missing", k) for k in sorted(set(want) - set(got))]
        found += [Mismatch(table, account, "unexpected", k) for k in sorted(set(got) - set(want))]
        for k, value in want.items():
            if k in got and value is not None and got[k] != value:
                found.append(Mismatch(table, account, "value", k, f"stored {got[k]!r}, eBay says {value!r}"))
    return found


def merge(parts: list[Expected]) -> Expected:
    """The union of several expectations (later parts win on equal keys)."""
    merged: Expected = {}
    for part in parts:
        for table, rows in part.items():
            merged.setdefault(table, {}).update(rows)
    return merged
