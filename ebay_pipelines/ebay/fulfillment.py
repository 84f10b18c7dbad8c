"""Fulfillment API: orders, their line items, and payment disputes.

Call cost: ``iter_orders`` makes one getOrders call per 200 orders. ``iter_disputes`` makes one
getPaymentDisputeSummaries call per 200 disputes (per window of at most 90 days, eBay's
limit) plus one getPaymentDispute call per dispute, because only the detail carries the seller
response, outcome and revision; a dispute whose summary is unchanged since the stored detail
(``known``) costs no detail call. The endpoint specs ``ORDERS`` and ``DISPUTES`` describe both
calls; :mod:`ebay_pipelines.ebay.paging` walks them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from . import paging
from .endpoints import DetailSpec, EndpointSpec, Pagination, WindowSpec
from .parsing import Record, utcnow
from .rest import EbayRestClient

GET_ORDERS = "getOrders"
GET_DISPUTE_SUMMARIES = "getPaymentDisputeSummaries"
GET_DISPUTE = "getPaymentDispute"

ORDERS = EndpointSpec(
    call=GET_ORDERS,
    api="fulfillment",
    path="/order",
    items_key="orders",
    pagination=Pagination.REST,
    page_size=200,
    paging_note="REST record offsets, page 1 then last page back to page 2: an order modified meanwhile leaves "
    "the lastmodifieddate set and shifts the orders behind it up, into pages not yet read (design §8).",
    window=WindowSpec(filter="lastmodifieddate:[{from}..{to}]"),
)
DISPUTES = EndpointSpec(
    call=GET_DISPUTE_SUMMARIES,
    api="disputes",
    path="/payment_dispute_summary",
    items_key="paymentDisputeSummaries",
    pagination=Pagination.REST,
    page_size=200,
    paging_note="REST record offsets, page 1 then last page back to page 2: open dates never move, but a "
    "dispute leaving the search shifts the rest up, into pages not yet read (design §8).",
    # eBay accepts open-date ranges of at most 90 days for payment dispute searches.
    window=WindowSpec(start_param="open_date_from", end_param="open_date_to", longest=timedelta(days=90)),
    # Only the detail carries the seller response, outcome and revision.
    detail=DetailSpec(call=GET_DISPUTE, id_field="paymentDisputeId", path="/payment_dispute/{id}"),
)

ORDERS_PAGE_SIZE = ORDERS.page_size
DISPUTES_PAGE_SIZE = DISPUTES.page_size


def iter_orders(
    client: EbayRestClient, since: datetime, until: datetime, *, page_size: int = ORDERS_PAGE_SIZE
) -> Iterator[list[dict[str, Any]]]:
    """Yield pages of Order objects last modified in ``[since, until]`` (both inclusive, as eBay filters)."""
    return paging.pages(ORDERS, rest=client, since=since, until=until, page_size=page_size)


def iter_disputes(
    client: EbayRestClient,
    since: datetime,
    until: datetime,
    *,
    page_size: int = DISPUTES_PAGE_SIZE,
    known: paging.Known | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Yield pages of PaymentDispute details for disputes opened in ``[since, until]``.

    Searches summaries in windows of at most 90 days, then fetches each dispute's detail, except
    for disputes ``known`` (ids -> stored details) holds with every summary field unchanged: those
    are yielded as stored.
    """
    return paging.pages(DISPUTES, rest=client, since=since, until=until, page_size=page_size, known=known)


def _order_record(order: dict[str, Any], account_id: str) -> Record:
    return Record(order, call_name=GET_ORDERS, account_id=account_id, id_field="orderId")


def _sum_present(*values: Decimal | None) -> Decimal | None:
    present = [v for v in values if v is not None]
    return sum(present, Decimal(0)) if present else None


def order_row(account_id: str, order: dict[str, Any]) -> dict[str, Any]:
    """Return the ``ebay_orders`` row of one Order.

    ``refunded_amount`` sums ``paymentSummary.refunds`` except FAILED ones (0 when the list is
    empty); ``ship_to_country`` comes from the first fulfillment instruction's ship-to address.
    """
    return _order_row(_order_record(order, account_id))[0]


def order_and_line_item_rows(account_id: str, order: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Return the ``ebay_orders`` row and the ``order_line_items`` rows of one Order, reading it once."""
    row, line_items = _order_row(_order_record(order, account_id))
    return row, _line_item_rows(account_id, row["order_id"], line_items, row["creation_date"], row["source_updated_at"])


def _order_row(rec: Record) -> tuple[dict[str, Any], list[Any]]:
    account_id, order = rec.account_id, rec.data
    pricing = rec.child("pricingSummary")
    subtotal, subtotal_cur = pricing.amount("priceSubtotal")
    total, total_cur = pricing.amount("total")
    refunded, refunded_cur = rec.sum_amounts("paymentSummary.refunds", skip={"refundStatus": ["FAILED"]})
    instructions = rec.items("fulfillmentStartInstructions")
    ship_to_country = None
    if instructions:
        first = Record(instructions[0], call_name=GET_ORDERS, account_id=account_id)
        first.record_id = rec.record_id
        ship_to_country = first.text("shippingStep.shipTo.contactAddress.countryCode")
    last_modified = rec.timestamp("lastModifiedDate")
    created = rec.timestamp("creationDate")
    line_items = rec.items("lineItems")
    row = {
        "ebay_account_id": account_id,
        "order_id": rec.key("orderId"),
        "creation_date": created,
        "last_modified_date": last_modified,
        "order_fulfillment_status": rec.text("orderFulfillmentStatus"),
        "order_payment_status": rec.text("orderPaymentStatus"),
        "cancel_state": rec.text("cancelStatus.cancelState"),
        "buyer_username": rec.text("buyer.username"),
        "seller_id": rec.text("sellerId"),
        "sales_record_reference": rec.text("salesRecordReference"),
        "currency": total_cur or subtotal_cur or refunded_cur,
        "price_subtotal_value": subtotal,
        "delivery_cost_value": pricing.amount("deliveryCost")[0],
        "price_discount_value": pricing.amount("priceDiscount")[0],
        "tax_value": pricing.amount("tax")[0],
        "total_value": total,
        "total_fee_basis_amount_value": rec.amount("totalFeeBasisAmount")[0],
        "total_marketplace_fee_value": rec.amount("totalMarketplaceFee")[0],
        "total_due_seller_value": rec.amount("paymentSummary.totalDueSeller")[0],
        "refunded_amount_value": refunded,
        "line_item_count": len(line_items),
        "ship_to_country": ship_to_country,
        "raw": order,
        "source_updated_at": last_modified or created,
    }
    return row, line_items


def line_item_rows(account_id: str, order: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the ``order_line_items`` rows of one Order (one per line item).

    ``legacy_transaction_id`` is the ``lineItemId`` (eBay's legacy Trading TransactionID);
    ``tax`` sums ``taxes[]``, ``refunded_amount`` sums ``refunds[]``, ``delivery_cost`` adds the
    shipping and handling costs; ``raw`` is the line item object itself.
    """
    order_rec = _order_record(order, account_id)
    created = order_rec.timestamp("creationDate")
    return _line_item_rows(
        account_id,
        order_rec.key("orderId"),
        order_rec.items("lineItems"),
        created,
        order_rec.timestamp("lastModifiedDate") or created,
    )


def _line_item_rows(
    account_id: str, order_id: str, items: list[Any], created: datetime | None, updated: datetime | None
) -> list[dict[str, Any]]:
    rows = []
    for item in items:
        rec = Record(item, call_name=GET_ORDERS, account_id=account_id, id_field="lineItemId")
        if rec.record_id is None:
            rec.record_id = order_id
        line_item_id = rec.text("lineItemId")
        if not line_item_id:
            raise rec.fail("lineItemId", "is missing")
        cost, cost_cur = rec.amount("lineItemCost")
        total, total_cur = rec.amount("total")
        tax, _ = rec.sum_amounts("taxes")
        refunded, _ = rec.sum_amounts("refunds")
        delivery = rec.child("deliveryCost")
        rows.append(
            {
                "ebay_account_id": account_id,
                "line_item_id": line_item_id,
                "order_id": order_id,
                "legacy_item_id": rec.text("legacyItemId"),
                "legacy_variation_id": rec.text("legacyVariationId"),
                "legacy_transaction_id": line_item_id,
                "sku": rec.text("sku"),
                "title": rec.text("title"),
                "quantity": rec.integer("quantity"),
                "currency": cost_cur or total_cur,
                "line_item_cost_value": cost,
                "discounted_line_item_cost_value": rec.amount("discountedLineItemCost")[0],
                "delivery_cost_value": _sum_present(
                    delivery.amount("shippingCost")[0], delivery.amount("handlingCost")[0]
                ),
                "tax_value": tax,
                "total_value": total,
                "refunded_amount_value": refunded,
                "line_item_fulfillment_status": rec.text("lineItemFulfillmentStatus"),
                "sold_format": rec.text("soldFormat"),
                "listing_marketplace_id": rec.text("listingMarketplaceId"),
                "purchase_marketplace_id": rec.text("purchaseMarketplaceId"),
                "order_creation_date": created,
                "raw": item,
                "source_updated_at": updated,
            }
        )
    return rows


def dispute_row(account_id: str, dispute: dict[str, Any], *, fetched_at: datetime | None = None) -> dict[str, Any]:
    """Return the ``ebay_disputes`` row of one PaymentDispute (detail or summary).

    ``outcome`` is ``resolution.reasonForClosure``. eBay gives no last-change time for disputes,
    so ``source_updated_at`` is the fetch time (``fetched_at``, default now).
    """
    rec = Record(dispute, call_name=GET_DISPUTE, account_id=account_id, id_field="paymentDisputeId")
    amount, currency = rec.amount("amount")
    return {
        "ebay_account_id": account_id,
        "payment_dispute_id": rec.key("paymentDisputeId"),
        "order_id": rec.text("orderId"),
        "payment_dispute_status": rec.text("paymentDisputeStatus"),
        "reason": rec.text("reason"),
        "buyer_username": rec.text("buyerUsername"),
        "amount_value": amount,
        "amount_currency": currency,
        "open_date": rec.timestamp("openDate"),
        "closed_date": rec.timestamp("closedDate"),
        "respond_by_date": rec.timestamp("respondByDate"),
        "seller_response": rec.text("sellerResponse"),
        "outcome": rec.text("resolution.reasonForClosure"),
        "revision": rec.integer("revision"),
        "raw": dispute,
        "source_updated_at": fetched_at or utcnow(),
    }
