"""Finances API: seller transactions, their fees, and refunds.

Call cost: one getTransactions call per 1000 transactions. eBay gives no last-change time for
a transaction (its status moves on without one), so rows use the fetch time as
``source_updated_at``. The endpoint specs ``TRANSACTIONS`` and ``REFUND_TRANSACTIONS`` describe
the call; :mod:`ebay_pipelines.ebay.paging` walks them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any

from . import paging
from .endpoints import EndpointSpec, Pagination, WindowSpec
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
    window=WindowSpec(filter="transactionDate:[{from}..{to}]"),
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


def _common_columns(rec: Record, account_id: str) -> dict[str, Any]:
    amount, amount_cur = rec.amount("amount")
    fee, fee_cur = rec.amount("totalFeeAmount")
    basis, basis_cur = rec.amount("totalFeeBasisAmount")
    tax, tax_cur = rec.amount("eBayCollectedTaxAmount")
    return {
        "ebay_account_id": account_id,
        "transaction_id": rec.key("transactionId"),
        "transaction_type": rec.key("transactionType"),
        "transaction_status": rec.text("transactionStatus"),
        "transaction_date": rec.timestamp("transactionDate"),
        "booking_entry": rec.text("bookingEntry"),
        "amount_value": amount,
        "amount_currency": amount_cur,
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
    """
    rec = _record(txn, account_id)
    fetched = fetched_at or utcnow()
    base = {
        "ebay_account_id": account_id,
        "transaction_id": rec.key("transactionId"),
        "transaction_type": rec.key("transactionType"),
        "order_id": rec.text("orderId"),
        "transaction_date": rec.timestamp("transactionDate"),
    }
    rows = []
    for line in rec.items("orderLineItems"):
        line_rec = Record(line, call_name=GET_TRANSACTIONS, account_id=account_id)
        line_rec.record_id = rec.record_id
        basis = line_rec.amount("feeBasisAmount")[0]
        line_item_id = line_rec.text("lineItemId") or ""
        for seq, fee in enumerate(line_rec.items("marketplaceFees")):
            fee_rec = Record(fee, call_name=GET_TRANSACTIONS, account_id=account_id)
            fee_rec.record_id = rec.record_id
            amount, currency = fee_rec.amount("amount")
            rows.append(
                {
                    **base,
                    "line_item_id": line_item_id,
                    "fee_seq": seq,
                    "fee_type": fee_rec.text("feeType"),
                    "amount_value": amount,
                    "amount_currency": currency,
                    "fee_basis_amount_value": basis,
                    "fee_memo": fee_rec.text("feeMemo"),
                    "raw": fee,
                    "source_updated_at": fetched,
                }
            )
    fee_type = rec.text("feeType")
    if fee_type:
        amount, currency = rec.amount("amount")
        raw = {k: txn[k] for k in ("feeType", "amount", "feeJurisdiction", "transactionMemo") if k in txn}
        rows.append(
            {
                **base,
                "line_item_id": "",
                "fee_seq": 0,
                "fee_type": fee_type,
                "amount_value": amount,
                "amount_currency": currency,
                "fee_basis_amount_value": rec.amount("totalFeeBasisAmount")[0],
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

    ``line_item_id`` and ``transaction_id`` are the refunded line item's id (eBay's legacy
    TransactionID) when the refund covers exactly one line item; ``item_id`` and ``return_id``
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
    amount, currency = rec.amount("amount")
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
        "refund_status": rec.text("transactionStatus"),
        "refund_reason": rec.text("transactionMemo"),
        "refund_date": rec.timestamp("transactionDate"),
        "buyer_username": rec.text("buyer.username"),
        "raw": txn,
        "source_updated_at": fetched_at or utcnow(),
    }
