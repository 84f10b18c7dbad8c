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
from .endpoints import DetailSpec, EndpointSpec, Pagination, Reach, WindowSpec
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
    # "getOrders can return orders up to two years old" (the contract's filter text).
    window=WindowSpec(filter="lastmodifieddate:[{from}..{to}]", oldest_start=Reach(months=24, what="orders")),
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
    # eBay accepts open-date ranges of at most 90 days, starting at most 18 months back (the contract's
    # open_date_from text; shared eBay notes, Wire facts: "18 months").
    window=WindowSpec(
        start_param="open_date_from",
        end_param="open_date_to",
        longest=timedelta(days=90),
        oldest_start=Reach(months=18, what="payment disputes"),
    ),
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
    paid, paid_cur = rec.sum_amounts("paymentSummary.payments", skip={"paymentStatus": ["FAILED"]})
    due = rec.child("paymentSummary.totalDueSeller")
    instructions = rec.items("fulfillmentStartInstructions")
    ship_to_country = None
    if instructions:
        first = Record(instructions[0], call_name=GET_ORDERS, account_id=account_id)
        first.record_id = rec.record_id
        ship_to_country = first.text("shippingStep.shipTo.contactAddress.countryCode")
    last_modified = rec.timestamp("lastModifiedDate")
    created = rec.timestamp("creationDate")
    line_items = rec.items("lineItems")
    taxes = EbayCollectedTaxes()
    included = False
    for item in line_items:
        line = _line_record(item, rec.record_id or "", account_id)
        taxes.add_line(line)
        included = included or _tax_in_totals(line)
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
        "currency": total_cur or subtotal_cur,
        "price_subtotal_value": subtotal,
        "price_subtotal_currency": subtotal_cur,
        **_money_columns(pricing, "delivery_cost", "deliveryCost"),
        **_money_columns(pricing, "price_discount", "priceDiscount"),
        **_money_columns(pricing, "tax", "tax"),
        "total_value": total,
        "total_currency": total_cur,
        "total_includes_ebay_collected_tax": included if taxes.total is not None else None,
        **_money_columns(rec, "total_fee_basis_amount", "totalFeeBasisAmount"),
        **_money_columns(rec, "total_marketplace_fee", "totalMarketplaceFee"),
        **_money_columns(due, "total_due_seller", "value"),
        "total_due_seller_converted_from_value": due.decimal("convertedFromValue"),
        "total_due_seller_converted_from_currency": due.text("convertedFromCurrency"),
        "paid_amount_value": paid,
        "paid_amount_currency": paid_cur,
        "refunded_amount_value": refunded,
        "refunded_amount_currency": refunded_cur,
        **taxes.columns(),
        "line_item_count": len(line_items),
        "ship_to_country": ship_to_country,
        "raw": order,
        "source_updated_at": last_modified or created,
    }
    return row, line_items


def _money_columns(rec: Record, column: str, path: str) -> dict[str, Any]:
    """``{column}_value`` and ``{column}_currency`` of the amount at ``path`` (``value``: ``rec`` is the amount)."""
    if path == "value":
        value, currency = rec.decimal("value"), rec.text("currency")
    else:
        value, currency = rec.amount(path)
    return {f"{column}_value": value, f"{column}_currency": currency}


class EbayCollectedTaxes:
    """eBay collect-and-remit taxes summed in total and by ``taxType`` (Fulfillment EbayCollectAndRemitTax)."""

    def __init__(self) -> None:
        self.total: Decimal | None = None
        self.currency: str | None = None
        self.by_type: dict[str, Decimal] = {}

    def add_line(self, line: Record) -> None:
        """Add the ``ebayCollectAndRemitTaxes[]`` of one line item."""
        for entry in line.items("ebayCollectAndRemitTaxes"):
            tax = line.child_of(entry)
            value, currency = tax.amount("amount")
            if value is None:
                continue
            if self.currency is not None and currency not in (None, self.currency):
                raise tax.fail(
                    "amount.currency", f"is {currency}, while other eBay-collected taxes are {self.currency}"
                )
            self.currency = self.currency or currency
            self.total = value if self.total is None else self.total + value
            tax_type = tax.text("taxType") or "UNKNOWN"
            self.by_type[tax_type] = self.by_type.get(tax_type, Decimal(0)) + value

    def columns(self) -> dict[str, Any]:
        """The ``ebay_collected_tax*`` columns."""
        return {
            "ebay_collected_tax_value": self.total,
            "ebay_collected_tax_currency": self.currency,
            "ebay_collected_taxes": {k: str(v) for k, v in sorted(self.by_type.items())} or None,
        }


def _tax_in_totals(line: Record) -> bool:
    """Whether eBay counted the line's collect-and-remit tax into its totals.

    The contract (LineItem.total, PricingSummary.total) says it is included only with
    ``fieldGroups=TAX_BREAKDOWN``, and that a line item then carries ``taxes[]`` entries of the same
    ``taxType`` as its ``ebayCollectAndRemitTaxes[]``.
    """
    remitted = {line.child_of(t).text("taxType") for t in line.items("ebayCollectAndRemitTaxes")}
    charged = {line.child_of(t).text("taxType") for t in line.items("taxes")}
    return bool(remitted & charged - {None})


def _line_record(item: Any, order_id: str, account_id: str) -> Record:
    rec = Record(item, call_name=GET_ORDERS, account_id=account_id, id_field="lineItemId")
    if rec.record_id is None:
        rec.record_id = order_id
    return rec


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
        rec = _line_record(item, order_id, account_id)
        line_item_id = rec.text("lineItemId")
        if not line_item_id:
            raise rec.fail("lineItemId", "is missing")
        cost, cost_cur = rec.amount("lineItemCost")
        total, total_cur = rec.amount("total")
        tax, tax_cur = rec.sum_amounts("taxes")
        refunded, refunded_cur = rec.sum_amounts("refunds")
        delivery = rec.child("deliveryCost")
        shipping, shipping_cur = delivery.amount("shippingCost")
        handling, handling_cur = delivery.amount("handlingCost")
        taxes = EbayCollectedTaxes()
        taxes.add_line(rec)
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
                "line_item_cost_currency": cost_cur,
                **_money_columns(rec, "discounted_line_item_cost", "discountedLineItemCost"),
                "delivery_cost_value": _sum_present(shipping, handling),
                "delivery_cost_currency": shipping_cur or handling_cur,
                "tax_value": tax,
                "tax_currency": tax_cur,
                "total_value": total,
                "total_currency": total_cur,
                "refunded_amount_value": refunded,
                "refunded_amount_currency": refunded_cur,
                **taxes.columns(),
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
