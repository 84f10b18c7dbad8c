"""Finances API: seller transactions, their fees, refunds, and payouts (``PAYOUTS``, :func:`payout_row`).

Call cost: one getTransactions call per 1000 transactions. eBay gives no last-change time for
a transaction (its status moves on without one), so rows use the fetch time as
``source_updated_at``. The endpoint specs ``TRANSACTIONS`` and ``REFUND_TRANSACTIONS`` describe
the call; :mod:`ebay_pipelines.ebay.paging` walks them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from . import paging
from .endpoints import EndpointSpec, Pagination, Reach, WindowSpec
from .errors import PayloadError
from .parsing import Record, utcnow
from .rest import EbayRestClient

GET_TRANSACTIONS = "getTransactions"

TRANSACTIONS = EndpointSpec(
    call=GET_TRANSACTIONS,
    api="finances",
    path="/transaction",
    items_key="transactions",
    pagination=Pagination.REST,
    page_size=1000,
    paging_note="REST record offsets, sorted by transactionDate, page 1 then last page back to page 2: with "
    "the window end fixed the set only shrinks, and a shift lands in pages not yet read (design §8).",
    # transactionDate: a range of at most 36 months, starting at most five years back (the contract's filter text).
    window=WindowSpec(
        filter="transactionDate:[{from}..{to}]",
        longest=timedelta(days=3 * 365),
        oldest_start=Reach(months=60, what="finance transactions"),
    ),
    params=(("sort", "transactionDate"),),
)
TRANSACTIONS_PAGE_SIZE = TRANSACTIONS.page_size


def transactions_of_type(transaction_type: str | None) -> EndpointSpec:
    """getTransactions, filtered on ``transaction_type`` (eBay's ``transactionType``) when one is given."""
    if not transaction_type:
        return TRANSACTIONS
    return replace(TRANSACTIONS, params=(("filter", f"transactionType:{{{transaction_type}}}"), *TRANSACTIONS.params))


#: REFUND transactions only.
REFUND_TRANSACTIONS = transactions_of_type("REFUND")


def iter_transactions(
    client: EbayRestClient,
    since: datetime,
    until: datetime,
    transaction_type: str | None = None,
    *,
    page_size: int = TRANSACTIONS_PAGE_SIZE,
) -> Iterator[list[dict[str, Any]]]:
    """Yield pages of Transaction objects dated in ``[since, until]``, oldest first.

    ``transaction_type`` (e.g. ``REFUND``) adds eBay's ``transactionType`` filter.
    """
    endpoint = transactions_of_type(transaction_type)
    return paging.pages(endpoint, rest=client, since=since, until=until, page_size=page_size)


class NotARefund(PayloadError, ValueError):
    """A transaction given to the refund row builder is not a REFUND (a typed payload error)."""


def _record(txn: dict[str, Any], account_id: str) -> Record:
    return Record(txn, call_name=GET_TRANSACTIONS, account_id=account_id, id_field="transactionId")


#: eBay-collected tax on a transaction: production answers spell it ``ebayCollectedTaxAmount``, the
#: contract ``eBayCollectedTaxAmount`` (README "Wire facts": Finances ebayCollectedTaxAmount).
COLLECTED_TAX_KEYS = ("ebayCollectedTaxAmount", "eBayCollectedTaxAmount")

CREDIT, DEBIT = "CREDIT", "DEBIT"
#: Booking direction of a transaction type when eBay leaves ``bookingEntry`` out: "Typically, the SALE
#: and CREDIT transaction types are credits to the seller's account, and the REFUND, DISPUTE,
#: SHIPPING_LABEL, and TRANSFER transaction types are debits" (Finances Transaction.bookingEntry).
TYPICAL_BOOKING = {
    "SALE": CREDIT,
    "CREDIT": CREDIT,
    "REFUND": DEBIT,
    "DISPUTE": DEBIT,
    "SHIPPING_LABEL": DEBIT,
    "TRANSFER": DEBIT,
}
_OPPOSITE = {CREDIT: DEBIT, DEBIT: CREDIT}


def booking_entry(rec: Record) -> str | None:
    """CREDIT or DEBIT: the transaction's ``bookingEntry``, else its type's typical direction (None: unknown)."""
    booking = rec.text("bookingEntry")
    if booking is None:
        return TYPICAL_BOOKING.get(rec.text("transactionType") or "")
    if booking not in _OPPOSITE:
        raise rec.fail("bookingEntry", f"should be CREDIT or DEBIT but is {booking!r}")
    return booking


def signed(value: Decimal | None, booking: str | None, positive: str) -> Decimal | None:
    """``value`` with the sign its booking gives: + when ``booking`` is ``positive``, - otherwise."""
    if value is None or booking is None:
        return None
    return value if booking == positive else -value


def collected_tax(rec: Record) -> tuple[Decimal | None, str | None]:
    """The eBay-collected tax of a transaction, under either spelling of its key."""
    for key in COLLECTED_TAX_KEYS:
        if rec.get(key) is not None:
            return rec.amount(key)
    return None, None


def _common_columns(rec: Record, account_id: str) -> dict[str, Any]:
    amount, amount_cur = rec.amount("amount")
    fee, fee_cur = rec.amount("totalFeeAmount")
    basis, basis_cur = rec.amount("totalFeeBasisAmount")
    tax, tax_cur = collected_tax(rec)
    booking = booking_entry(rec)
    return {
        "ebay_account_id": account_id,
        "transaction_id": rec.key("transactionId"),
        "transaction_type": rec.key("transactionType"),
        "transaction_status": rec.text("transactionStatus"),
        "transaction_date": rec.timestamp("transactionDate"),
        "booking_entry": booking,
        "amount_value": amount,
        "amount_currency": amount_cur,
        "signed_amount_value": signed(amount, booking, CREDIT),
        "total_fee_amount_value": fee,
        "total_fee_amount_currency": fee_cur,
        "total_fee_basis_amount_value": basis,
        "total_fee_basis_amount_currency": basis_cur,
        "ebay_collected_tax_amount_value": tax,
        "ebay_collected_tax_amount_currency": tax_cur,
        "order_id": rec.text("orderId"),
        "buyer_username": rec.text("buyer.username"),
        "payout_id": rec.text("payoutId"),
        "sales_record_reference": rec.text("salesRecordReference"),
        "fee_type": rec.text("feeType"),
        "transaction_memo": rec.text("transactionMemo"),
    }


def finance_transaction_row(
    account_id: str, txn: dict[str, Any], *, fetched_at: datetime | None = None
) -> dict[str, Any]:
    """Return the ``ebay_finances_transactions`` row of one Transaction (``fee_count`` = its fee rows)."""
    rec = _record(txn, account_id)
    row = _common_columns(rec, account_id)
    row["payments_entity"] = rec.text("paymentsEntity")
    row["fee_count"] = len(fee_rows(account_id, txn, fetched_at=fetched_at))
    row["raw"] = txn
    row["source_updated_at"] = fetched_at or utcnow()
    return row


def legacy_transaction_row(
    account_id: str, txn: dict[str, Any], *, fetched_at: datetime | None = None
) -> dict[str, Any]:
    """Return the ``ebay_transactions`` row (the older transactions table) of one Transaction."""
    rec = _record(txn, account_id)
    row = _common_columns(rec, account_id)
    row["raw"] = txn
    row["source_updated_at"] = fetched_at or utcnow()
    return row


def fee_rows(account_id: str, txn: dict[str, Any], *, fetched_at: datetime | None = None) -> list[dict[str, Any]]:
    """Return the ``ebay_finances_fees`` rows of one Transaction.

    One row per ``orderLineItems[].marketplaceFees[]`` entry (``fee_seq`` = its 0-based position
    in that list, ``raw`` = the Fee object), plus one row with ``line_item_id`` ``''`` and
    ``fee_seq`` 0 when the transaction itself carries a ``feeType`` (e.g. NON_SALE_CHARGE), whose
    amount is the transaction amount.

    Direction (README "Wire facts": Fee credits): a line item's fees run against its transaction's
    booking: charged (DEBIT) on a SALE, which credits the seller, and given back (CREDIT) on a
    REFUND, which debits the seller. A transaction that is itself a fee is charged when it debits
    the seller and credited when it credits them (a fee reversal). ``net_fee_value`` is the amount
    signed that way (charged +, credited -), so its sum is the net fees the seller paid.
    """
    rec = _record(txn, account_id)
    fetched = fetched_at or utcnow()
    booking = booking_entry(rec)
    base = {
        "ebay_account_id": account_id,
        "transaction_id": rec.key("transactionId"),
        "transaction_type": rec.key("transactionType"),
        "order_id": rec.text("orderId"),
        "transaction_date": rec.timestamp("transactionDate"),
    }
    line_fee_booking = None if booking is None else _OPPOSITE[booking]
    rows = []
    for line in rec.items("orderLineItems"):
        line_rec = rec.child_of(line)
        basis, basis_cur = line_rec.amount("feeBasisAmount")
        line_item_id = line_rec.text("lineItemId") or ""
        for seq, fee in enumerate(line_rec.items("marketplaceFees")):
            fee_rec = line_rec.child_of(fee)
            amount, currency = fee_rec.amount("amount")
            rows.append(
                {
                    **base,
                    "line_item_id": line_item_id,
                    "fee_seq": seq,
                    "fee_type": fee_rec.text("feeType"),
                    "amount_value": amount,
                    "amount_currency": currency,
                    "booking_entry": line_fee_booking,
                    "net_fee_value": signed(amount, line_fee_booking, DEBIT),
                    "fee_basis_amount_value": basis,
                    "fee_basis_amount_currency": basis_cur,
                    "fee_memo": fee_rec.text("feeMemo"),
                    "raw": fee,
                    "source_updated_at": fetched,
                }
            )
    fee_type = rec.text("feeType")
    if fee_type:
        amount, currency = rec.amount("amount")
        basis, basis_cur = rec.amount("totalFeeBasisAmount")
        raw = {
            k: txn[k] for k in ("feeType", "amount", "bookingEntry", "feeJurisdiction", "transactionMemo") if k in txn
        }
        rows.append(
            {
                **base,
                "line_item_id": "",
                "fee_seq": 0,
                "fee_type": fee_type,
                "amount_value": amount,
                "amount_currency": currency,
                "booking_entry": booking,
                "net_fee_value": signed(amount, booking, DEBIT),
                "fee_basis_amount_value": basis,
                "fee_basis_amount_currency": basis_cur,
                "fee_memo": rec.text("transactionMemo"),
                "raw": raw,
                "source_updated_at": fetched,
            }
        )
    return rows


def refund_row_from_transaction(
    account_id: str, txn: dict[str, Any], *, fetched_at: datetime | None = None
) -> dict[str, Any]:
    """Return the ``ebay_refunds`` row of a REFUND Transaction (``refund_id`` = ``'FIN-' + transactionId``).

    The amount is what the buyer got back (:func:`refunded_to_buyer`). ``line_item_id`` and
    ``transaction_id`` are the refunded line item's id (eBay's legacy TransactionID) when the
    refund covers exactly one line item; ``item_id`` and ``return_id``
    come from ``references[]`` (ITEM_ID, RETURN_ID) when present. Raises ValueError for other
    transaction types.
    """
    rec = _record(txn, account_id)
    txn_type = rec.text("transactionType")
    if txn_type != "REFUND":
        raise NotARefund(
            f"transaction {rec.record_id} is a {txn_type}, not a REFUND",
            call_name=GET_TRANSACTIONS,
            account_id=account_id,
            record_id=rec.record_id,
        )
    transaction_id = rec.key("transactionId")
    line_ids = [
        Record(line, call_name=GET_TRANSACTIONS, account_id=account_id).text("lineItemId")
        for line in rec.items("orderLineItems")
    ]
    line_item_id = line_ids[0] if len(line_ids) == 1 else None
    references: dict[str, str] = {}
    for ref in rec.items("references"):
        ref_rec = Record(ref, call_name=GET_TRANSACTIONS, account_id=account_id)
        ref_rec.record_id = rec.record_id
        ref_type, ref_id = ref_rec.text("referenceType"), ref_rec.text("referenceId")
        if ref_type and ref_id and ref_type not in references:
            references[ref_type] = ref_id
    amount, currency = refunded_to_buyer(rec)
    return {
        "ebay_account_id": account_id,
        "refund_id": f"FIN-{transaction_id}",
        "refund_source": "finances",
        "order_id": rec.text("orderId") or references.get("ORDER_ID"),
        "line_item_id": line_item_id,
        "return_id": references.get("RETURN_ID"),
        "transaction_id": line_item_id,
        "item_id": references.get("ITEM_ID"),
        "refund_amount_value": amount,
        "refund_amount_currency": currency,
        # Post-Order returns only.
        "estimated_refund_value": None,
        "estimated_refund_currency": None,
        "return_state": None,
        "refund_status": rec.text("transactionStatus"),
        "refund_reason": rec.text("transactionMemo"),
        "refund_date": rec.timestamp("transactionDate"),
        "buyer_username": rec.text("buyer.username"),
        "raw": txn,
        "source_updated_at": fetched_at or utcnow(),
    }


def refunded_to_buyer(rec: Record) -> tuple[Decimal | None, str | None]:
    """What a REFUND gave back to the buyer: its ``amount`` plus the fees and eBay-collected tax credited.

    A REFUND's ``amount`` is what left the seller's funds: eBay credits back the fees of the
    refunded sale (``totalFeeAmount``, README "Wire facts": Fee credits: a refund of 143.98 booked as
    122.31 with 21.67 of fees) and refunds the tax it collected itself. Amounts in another currency
    than ``amount`` are not added.
    """
    amount, currency = rec.amount("amount")
    if amount is None:
        return None, currency
    for value, cur in (rec.amount("totalFeeAmount"), collected_tax(rec)):
        if value is not None and cur in (None, currency):
            amount += value
    return amount, currency


# ------------------------------------------------------------------------------------------------
# Payouts (getPayouts)
# ------------------------------------------------------------------------------------------------

GET_PAYOUTS = "getPayouts"

#: getPayouts (Finances contract ``GET /payout``): ``limit`` at most 200, ``offset`` 0-based, the
#: ``payoutDate`` range at most 36 months (errorId 135014) and starting at most five years back
#: (135013); ``sort=payoutDate`` pages oldest first (eBay's default is newest first).
PAYOUTS = EndpointSpec(
    call=GET_PAYOUTS,
    api="finances",
    path="/payout",
    items_key="payouts",
    pagination=Pagination.REST,
    page_size=200,
    paging_note="REST record offsets, sorted by payoutDate, page 1 then last page back to page 2: a payout's "
    "payoutDate never moves, so with the window end fixed nothing leaves the set while it is paged (design §8).",
    window=WindowSpec(
        filter="payoutDate:[{from}..{to}]",
        longest=timedelta(days=3 * 365),
        oldest_start=Reach(months=60, what="payouts"),
    ),
    params=(("sort", "payoutDate"),),
)


def payout_row(account_id: str, payout: dict[str, Any], *, fetched_at: datetime | None = None) -> dict[str, Any]:
    """Return the ``ebay_payouts`` row of one Payout (Finances ``Payout`` type).

    Every amount keeps its own currency. eBay gives no change time for a payout (its
    ``payoutStatus`` moves on without one), so ``source_updated_at`` is the fetch time.
    """
    rec = Record(payout, call_name=GET_PAYOUTS, account_id=account_id, id_field="payoutId")
    amount, amount_cur = rec.amount("amount")
    total, total_cur = rec.amount("totalAmount")
    fee, fee_cur = rec.amount("totalFee")
    return {
        "ebay_account_id": account_id,
        "payout_id": rec.key("payoutId"),
        "payout_status": rec.text("payoutStatus"),
        "payout_status_description": rec.text("payoutStatusDescription"),
        "payout_date": rec.timestamp("payoutDate"),
        "last_attempted_payout_date": rec.timestamp("lastAttemptedPayoutDate"),
        "amount_value": amount,
        "amount_currency": amount_cur,
        "total_amount_value": total,
        "total_amount_currency": total_cur,
        "total_fee_value": fee,
        "total_fee_currency": fee_cur,
        "transaction_count": rec.integer("transactionCount"),
        "instrument_type": rec.text("payoutInstrument.instrumentType"),
        "instrument_nickname": rec.text("payoutInstrument.nickname"),
        "account_last_four_digits": rec.text("payoutInstrument.accountLastFourDigits"),
        "payout_memo": rec.text("payoutMemo"),
        "bank_reference": rec.text("bankReference"),
        "payout_reference": rec.text("payoutReference"),
        "raw": payout,
        "source_updated_at": fetched_at or utcnow(),
    }
