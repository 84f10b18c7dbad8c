"""Reconciliation queries: payouts against their transactions, sales against their orders.

Both read only stored rows and judge only what the stored rows allow: a payout whose transactions
are not all stored, or a sale whose order is not stored (or is in another currency), is counted
apart, not failed. The equations and eBay's sources are in :data:`PAYOUT_EQUATION` and
:data:`SALE_EQUATION`; the asset checks show them as their descriptions.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ebay_pipelines.store.quality import CheckOutcome
from ebay_pipelines.store.tables import ebay_finances_transactions, ebay_orders, ebay_payouts

PAYOUT_EQUATION = (
    "Each payout's amount equals the signed sum of the stored finance transactions carrying its payoutId: "
    "CREDIT adds, DEBIT takes (Finances Transaction.bookingEntry and payoutId; README 'Wire facts: Fee credits'), "
    "every amount in the payout's currency. Payout.transactionCount counts 'all orders, refunds, and credits' of "
    "the payout, so a payout is judged only when that many of its transactions are stored; the others are "
    "counted as incomplete, not failed. A payout with an express payout fee (Payout.totalFee) also passes when "
    "the sum equals Payout.totalAmount (amount plus the fee), since eBay does not say which of the two its "
    "transactions add up to."
)

SALE_EQUATION = (
    "Each SALE transaction equals its order's amount less fees and eBay-collected tax: amount = gross - "
    "totalFeeAmount - ebayCollectedTaxAmount, gross being what the buyer paid in the seller's currency. "
    "Production getTransactions shows totalFeeBasisAmount without the tax (143.98 - 22.11 = 121.87, "
    "ebayCollectedTaxAmount 11.16, the line items' feeBasisAmount 155.14 = gross); the Finances Transaction page "
    "calls totalFeeBasisAmount 'the total amount for the order before selling fees', which may hold the tax: "
    "both readings pass (gross = basis + tax, or basis). Against the order: Fulfillment Order.totalFeeBasisAmount "
    "is gross or gross less the tax (the finance line items' basis holds the tax, the order page's "
    "'item cost + shipping cost' does not). Compared in the transaction's currency, the seller's: when the "
    "order's basis is in the buyer's currency (a cross-border order), paymentSummary.totalDueSeller (the "
    "seller's currency, collect-and-remit tax included per Fulfillment PaymentSummary) must equal gross if the "
    "order has no refund (refunds lower totalDueSeller); otherwise the sale is counted as not comparable. "
    "Sales whose order is not stored are counted apart."
)


@dataclass
class Reconciliation:
    """What a reconciliation judged, what failed (with ids and figures), and what it could not judge, by reason."""

    judged: int = 0
    mismatches: list[str] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def passed(self) -> bool:
        """Whether every judged row reconciles."""
        return not self.mismatches

    def outcome(self) -> CheckOutcome:
        """The check outcome: failures with up to ten examples, rows judged."""
        return CheckOutcome(
            passed=self.passed, failures=len(self.mismatches), examples=self.mismatches[:10], checked=self.judged
        )


def _signed(table: sa.Table) -> sa.ColumnElement:
    return sa.case(
        (table.c.booking_entry == "CREDIT", table.c.amount_value),
        (table.c.booking_entry == "DEBIT", -table.c.amount_value),
    )


def payout_mismatches(conn: Connection) -> Reconciliation:
    """Payouts whose amount is not the signed sum of their stored transactions (see :data:`PAYOUT_EQUATION`)."""
    t, p = ebay_finances_transactions, ebay_payouts
    sums = (
        sa.select(
            t.c.ebay_account_id,
            t.c.payout_id,
            sa.func.count().label("stored"),
            sa.func.sum(_signed(t)).label("net"),
            sa.func.count(_signed(t)).label("signed"),
            sa.func.string_agg(sa.distinct(sa.func.coalesce(t.c.amount_currency, "?")), ",").label("currencies"),
        )
        .where(t.c.payout_id.is_not(None))
        .group_by(t.c.ebay_account_id, t.c.payout_id)
        .subquery()
    )
    rows = conn.execute(
        sa.select(
            p.c.ebay_account_id,
            p.c.payout_id,
            p.c.amount_value,
            p.c.amount_currency,
            p.c.total_amount_value,
            p.c.total_fee_value,
            p.c.transaction_count,
            sa.func.coalesce(sums.c.stored, 0).label("stored"),
            sums.c.net,
            sums.c.signed,
            sums.c.currencies,
        )
        .select_from(
            p.outerjoin(sums, sa.and_(sums.c.ebay_account_id == p.c.ebay_account_id, sums.c.payout_id == p.c.payout_id))
        )
        .order_by(p.c.ebay_account_id, p.c.payout_date, p.c.payout_id)
    )
    result = Reconciliation()
    for r in rows:
        name = f"{r.ebay_account_id} payout {r.payout_id}"
        if r.transaction_count is None or r.stored < r.transaction_count:
            result.skipped["incomplete"] += 1
            continue
        result.judged += 1
        figures = f"payout {r.amount_value} {r.amount_currency}, transactions {r.net} {r.currencies}"
        if r.stored > r.transaction_count:
            result.mismatches.append(f"{name}: {r.stored} stored transactions, eBay counts {r.transaction_count}")
        elif r.signed < r.stored:
            result.mismatches.append(f"{name}: {r.stored - r.signed} transactions without CREDIT/DEBIT or amount")
        elif r.currencies != r.amount_currency:
            result.mismatches.append(f"{name}: currencies differ ({figures})")
        elif not _payout_matches(r.net, r.amount_value, r.total_amount_value, r.total_fee_value):
            result.mismatches.append(f"{name}: {figures}, off by {_diff(r.amount_value, r.net)}")
    return result


def _payout_matches(net: Decimal, amount: Decimal | None, total: Decimal | None, fee: Decimal | None) -> bool:
    return net == amount or (fee is not None and total is not None and net == total)


def _diff(a: Decimal | None, b: Decimal | None) -> str:
    return "?" if a is None or b is None else str(a - b)


def _currency(name: str) -> sa.ColumnElement:
    """The currency of ``ebay_orders.<name>_value``: its own column where the table has one, else ``currency``."""
    column = ebay_orders.c.get(f"{name}_currency")
    return (column if column is not None else ebay_orders.c.currency).label(f"{name}_currency")


def sale_mismatches(conn: Connection) -> Reconciliation:
    """SALE transactions that do not match their own fees or their stored order (see :data:`SALE_EQUATION`)."""
    t, o = ebay_finances_transactions, ebay_orders
    due_currency = o.c.get("total_due_seller_currency")
    rows = conn.execute(
        sa.select(
            t.c.ebay_account_id,
            t.c.transaction_id,
            t.c.order_id,
            t.c.amount_value,
            t.c.amount_currency,
            t.c.total_fee_basis_amount_value.label("basis"),
            t.c.total_fee_basis_amount_currency.label("basis_currency"),
            t.c.total_fee_amount_value.label("fee"),
            t.c.total_fee_amount_currency.label("fee_currency"),
            t.c.ebay_collected_tax_amount_value.label("tax"),
            t.c.ebay_collected_tax_amount_currency.label("tax_currency"),
            (o.c.order_id.is_not(None)).label("order_stored"),
            o.c.total_fee_basis_amount_value.label("order_basis"),
            _currency("total_fee_basis_amount").label("order_basis_currency"),
            o.c.total_due_seller_value.label("due"),
            (due_currency if due_currency is not None else sa.null()).label("due_currency"),
            o.c.refunded_amount_value.label("refunded"),
        )
        .select_from(t.outerjoin(o, sa.and_(o.c.ebay_account_id == t.c.ebay_account_id, o.c.order_id == t.c.order_id)))
        .where(t.c.transaction_type == "SALE")
        .order_by(t.c.ebay_account_id, t.c.transaction_date, t.c.transaction_id)
    )
    result = Reconciliation()
    for r in rows:
        name = f"{r.ebay_account_id} SALE {r.transaction_id}"
        currency = r.amount_currency
        if r.amount_value is None or r.basis is None or r.fee is None:
            result.skipped["lacking amounts"] += 1
            continue
        tax = r.tax or Decimal("0")
        if {r.basis_currency, r.fee_currency} - {currency} or (r.tax is not None and r.tax_currency != currency):
            result.judged += 1
            result.mismatches.append(f"{name}: amounts in several currencies ({currency}, {r.basis_currency})")
            continue
        if r.amount_value == r.basis - r.fee:
            gross = r.basis + tax  # production: the basis leaves the tax out
        elif tax and r.amount_value == r.basis - r.fee - tax:
            gross = r.basis  # the basis holds the tax
        else:
            result.judged += 1
            result.mismatches.append(
                f"{name}: amount {r.amount_value} {currency} != basis {r.basis} - fees {r.fee} "
                f"[- eBay-collected tax {tax}] (off by {r.amount_value - (r.basis - r.fee)})"
            )
            continue
        if not r.order_stored:
            result.skipped["order not stored"] += 1
            continue
        if r.order_basis is not None and r.order_basis_currency == currency:
            result.judged += 1
            if r.order_basis not in (gross, gross - tax):
                result.mismatches.append(
                    f"{name}: order {r.order_id} totalFeeBasisAmount {r.order_basis} {currency}, sale gross "
                    f"{gross} with eBay-collected tax {tax}"
                )
        elif r.due is not None and r.due_currency == currency and not r.refunded:
            result.judged += 1
            if r.due != gross:
                result.mismatches.append(
                    f"{name}: order {r.order_id} totalDueSeller {r.due} {currency} != sale gross {gross}"
                )
        else:
            result.skipped["not comparable (currency or refund)"] += 1
    return result
