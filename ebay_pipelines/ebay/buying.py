"""Trading GetMyeBayBuying: the account's purchases (WonList of the last 60 days).

Call cost: one call per 200 purchases. The endpoint spec ``PURCHASES`` describes the call;
:mod:`ebay_pipelines.ebay.paging` walks it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any

from . import paging
from .endpoints import EndpointSpec, Pagination
from .parsing import Record, utcnow
from .trading import TradingClient

CALL = "GetMyeBayBuying"
#: The longest WonList window eBay allows.
DURATION_IN_DAYS = 60


def _transactions(order_transaction: dict[str, Any], account_id: str) -> list[dict[str, Any]]:
    """Flatten one OrderTransaction into Transaction dicts.

    A bare ``Transaction`` is returned as is. For an ``Order`` with ``TransactionArray``, each
    Transaction is returned with the order (without its TransactionArray) in the schema's own
    ``ContainingOrder`` element, unless the Transaction already has one.
    """
    rec = Record(order_transaction, call_name=CALL, account_id=account_id)
    result = [t for t in rec.items("Transaction")]
    order = rec.get("Order")
    if isinstance(order, dict):
        order_rec = Record(order, call_name=CALL, account_id=account_id, id_field="OrderID")
        summary = {k: v for k, v in order.items() if k != "TransactionArray"}
        for txn in order_rec.items("TransactionArray.Transaction"):
            if isinstance(txn, dict) and "ContainingOrder" not in txn:
                txn = {**copy.deepcopy(txn), "ContainingOrder": summary}
            result.append(txn)
    return result


PURCHASES = EndpointSpec(
    call=CALL,
    api="trading",
    list_element="WonList",
    item_path="OrderTransactionArray/OrderTransaction",
    pagination=Pagination.TRADING,
    page_size=200,
    paging_note="Trading page numbers, page 1 then TotalNumberOfPages back to page 2, over the WonList of the "
    "last 60 days (eBay's longest): a purchase ageing out meanwhile shifts the rest into pages not yet read.",
    params=(("Include", True), ("DurationInDays", DURATION_IN_DAYS)),
    records_of=_transactions,
)
ENTRIES_PER_PAGE = PURCHASES.page_size


def iter_purchases(
    client: TradingClient, *, duration_in_days: int = DURATION_IN_DAYS, entries_per_page: int = ENTRIES_PER_PAGE
) -> Iterator[list[dict[str, Any]]]:
    """Yield pages of won Transaction dicts (``WonList/OrderTransactionArray/OrderTransaction``)."""
    endpoint = replace(PURCHASES, params=(("Include", True), ("DurationInDays", duration_in_days)))
    return paging.pages(endpoint, trading=client, page_size=entries_per_page)


def purchase_row(account_id: str, txn: dict[str, Any], *, fetched_at: datetime | None = None) -> dict[str, Any]:
    """Return the ``ebay_buyer`` row of one won Transaction.

    ``order_line_item_id`` is ``OrderLineItemID`` (else ``<ItemID>-<TransactionID>``);
    ``order_status`` is the containing order's OrderStatus, else ``Status.CompleteStatus``;
    ``source_updated_at`` is ``Status.LastTimeModified`` when present, else the fetch time.
    """
    rec = Record(txn, call_name=CALL, account_id=account_id, id_field=("OrderLineItemID", "TransactionID"))
    item_id = rec.text("Item.ItemID")
    transaction_id = rec.text("TransactionID")
    order_line_item_id = rec.text("OrderLineItemID")
    if not order_line_item_id and item_id and transaction_id:
        order_line_item_id = f"{item_id}-{transaction_id}"
    if not order_line_item_id or not order_line_item_id.strip():
        raise rec.fail("OrderLineItemID", "is missing (and there is no Item.ItemID and TransactionID to build it)")
    price, currency = rec.amount("TransactionPrice")
    return {
        "ebay_account_id": account_id,
        "order_line_item_id": order_line_item_id,
        "item_id": item_id,
        "transaction_id": transaction_id,
        "order_id": rec.text("ContainingOrder.OrderID") or rec.text("ExtendedOrderID"),
        "title": rec.text("Item.Title"),
        "seller_user_id": rec.text("Item.Seller.UserID"),
        "quantity_purchased": rec.integer("QuantityPurchased"),
        "transaction_price_value": price,
        "transaction_price_currency": currency,
        "created_date": rec.timestamp("CreatedDate"),
        "paid_time": rec.timestamp("PaidTime"),
        "shipped_time": rec.timestamp("ShippedTime"),
        "order_status": rec.text("ContainingOrder.OrderStatus") or rec.text("Status.CompleteStatus"),
        "raw": txn,
        "source_updated_at": rec.timestamp("Status.LastTimeModified") or fetched_at or utcnow(),
    }
