"""Render generated records as eBay REST wire objects (Fulfillment, Finances, Inventory)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .funds import PAYOUT, FundsPlan, funds_plan, payout_id
from .generator import BUYER_CURRENCY, MS_DAY, OrderDetail, OrderPlan
from .payouts import PayoutBook, payout_wire
from .queries import TxnRef, World
from .util import MS_HOUR, iso_ms, money, money_str, rng

PUBLIC_FULFILLMENT = "https://api.ebay.com/sell/fulfillment/v1"


def amount(value: Decimal, currency: str) -> dict:
    """An eBay Amount ``{"value": "12.34", "currency": "USD"}``."""
    return {"value": money_str(value), "currency": currency}


def converted(value: Decimal, currency: str, original: Decimal, original_currency: str) -> dict:
    """An Amount converted from another currency (Fulfillment/Finances Amount ``convertedFrom*``)."""
    return {
        **amount(value, currency),
        "convertedFromValue": money_str(original),
        "convertedFromCurrency": original_currency,
    }


@dataclass(frozen=True)
class BuyerLine:
    """One line item's amounts in the buyer's currency."""

    cost: Decimal
    shipping: Decimal
    discount: Decimal
    tax: Decimal

    @property
    def total(self) -> Decimal:
        """What the buyer pays for the line before eBay-collected tax."""
        return self.cost + self.shipping - self.discount


class BuyerMoney:
    """An order's amounts in the buyer's currency: the seller's converted at a fixed rate (rounded per amount).

    A domestic order has rate 1. On a cross-border order eBay shows ``pricingSummary`` and line items
    in the buyer's currency and pays the seller in theirs (README "Wire facts": Cross-border currencies).
    """

    def __init__(self, detail: OrderDetail, seller_currency: str) -> None:
        self.currency, self.rate = BUYER_CURRENCY.get(detail.buyer.country, (seller_currency, Decimal(1)))
        self.cross_border = self.currency != seller_currency
        self.lines = [
            BuyerLine(self.conv(ln.cost), self.conv(ln.shipping), self.conv(ln.discount), self.conv(ln.tax))
            for ln in detail.lines
        ]

    def conv(self, value: Decimal) -> Decimal:
        """``value`` of the seller's currency in the buyer's."""
        return value if self.rate == 1 else money(value * self.rate)

    def amt(self, value: Decimal) -> dict:
        """An Amount in the buyer's currency."""
        return amount(value, self.currency)

    def sum(self, field: str) -> Decimal:
        """The sum of one line field."""
        return sum((getattr(line, field) for line in self.lines), Decimal(0))


class RestRenderer:
    """Builds wire dicts for one simulated eBay (as of a given now)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.gen = world.gen
        self.currency = world.cfg.currency
        self.marketplace = world.cfg.marketplace_id
        self.payout_book = PayoutBook(world, self.transaction)

    def _amt(self, value: Decimal) -> dict:
        return amount(value, self.currency)

    # ------------------------------------------------------------------ orders
    @staticmethod
    def fulfillment_status(plan: OrderPlan, now: int) -> str:
        """orderFulfillmentStatus of an order as of ``now``."""
        if plan.fulfilled is not None and plan.fulfilled <= now:
            return "FULFILLED"
        if plan.ship_start is not None and plan.ship_start <= now:
            return "IN_PROGRESS"
        return "NOT_STARTED"

    def _seller_amt(self, value: Decimal, buyer: BuyerMoney, buyer_value: Decimal) -> dict:
        """An Amount of the seller's, converted from the buyer's currency on a cross-border order."""
        if not buyer.cross_border:
            return self._amt(value)
        return converted(value, self.currency, buyer_value, buyer.currency)

    def order(self, account: str, plan: OrderPlan, now: int, *, tax_breakdown: bool = False) -> dict:
        """The Fulfillment ``Order`` as of ``now``.

        Tax is eBay's to collect and remit (Fulfillment LineItem.ebayCollectAndRemitTaxes: US sales
        tax, UK/EU VAT, GST), so ``taxes[]`` stays empty and the pricing and line totals leave it out,
        unless ``tax_breakdown`` (``fieldGroups=TAX_BREAKDOWN``): then each line's ``taxes[]`` repeats
        it and the totals include it (PricingSummary.total, LineItem.total). ``paymentSummary`` is in
        the seller's currency and includes the tax (PaymentSummary.totalDueSeller, Payment.amount).
        """
        gen, amt = self.gen, self._amt
        d = gen.order_detail(account, plan.day, plan.idx, plan)
        buyer = BuyerMoney(d, self.currency)
        bamt = buyer.amt
        muts = self.world.mutations(account, now)
        applied = self.world.applied(account, plan, muts)
        lmd = self.world.lmd(account, plan, now, muts)
        paid = plan.paid is not None and plan.paid <= now
        cancelled = plan.cancel_at is not None and plan.cancel_at <= now
        refunded = plan.refund_at is not None and plan.refund_at <= now
        shipped_first = plan.ship_start is not None and plan.ship_start <= now
        shipped_all = plan.fulfilled is not None and plan.fulfilled <= now
        refund_line = d.lines[plan.ret_line]
        buyer_refund = buyer.lines[plan.ret_line].total + buyer.lines[plan.ret_line].tax
        tax_type = d.buyer.tax_type

        line_items = []
        for ln, bl in zip(d.lines, buyer.lines):
            status = "FULFILLED" if shipped_all or (shipped_first and ln.j == 0) else "NOT_STARTED"
            remitted = [{"taxType": tax_type, "amount": bamt(bl.tax), "collectionMethod": "NET"}] if bl.tax else []
            item = {
                "lineItemId": ln.line_item_id,
                "legacyItemId": ln.item_id,
                "sku": ln.sku,
                "title": ln.title,
                "lineItemCost": bamt(bl.cost),
                "quantity": ln.quantity,
                "soldFormat": "FIXED_PRICE",
                "listingMarketplaceId": self.marketplace,
                "purchaseMarketplaceId": self.marketplace,
                "lineItemFulfillmentStatus": status,
                "total": bamt(bl.total + bl.tax if tax_breakdown else bl.total),
                "deliveryCost": {"shippingCost": bamt(bl.shipping)},
                "appliedPromotions": [],
                "taxes": [{"amount": bamt(bl.tax), "taxType": tax_type}] if tax_breakdown and bl.tax else [],
                "properties": {"buyerProtection": True, "soldViaAdCampaign": ln.listing % 7 == 0},
                "lineItemFulfillmentInstructions": {
                    "minEstimatedDeliveryDate": iso_ms(plan.created + 3 * MS_DAY),
                    "maxEstimatedDeliveryDate": iso_ms(plan.created + 7 * MS_DAY),
                    "shipByDate": iso_ms(plan.created + 2 * MS_DAY),
                    "guaranteedDelivery": False,
                },
                "itemLocation": {"location": "San Jose, CA", "countryCode": "US", "postalCode": "95125"},
            }
            if remitted:
                item["ebayCollectAndRemitTaxes"] = remitted
            if ln.discount:
                item["discountedLineItemCost"] = bamt(bl.cost - bl.discount)
                item["appliedPromotions"] = [
                    {
                        "promotionId": ln.promotion_id,
                        "description": "Seller discount",
                        "discountAmount": bamt(bl.discount),
                    }
                ]
            if refunded and ln.j == refund_line.j:
                assert plan.refund_at is not None
                item["refunds"] = [
                    {
                        "refundId": d.refund_id,
                        "refundDate": iso_ms(plan.refund_at),
                        "amount": bamt(buyer_refund),
                        "refundReferenceId": f"R{d.refund_id}",
                    }
                ]
            line_items.append(item)

        fulfillment = self.fulfillment_status(plan, now)
        if refunded:
            payment_status = "FULLY_REFUNDED" if d.refund_amount >= d.total else "PARTIALLY_REFUNDED"
        elif paid:
            payment_status = "PAID"
        elif cancelled:
            payment_status = "FAILED"
        else:
            payment_status = "PENDING"

        buyer_tax = buyer.sum("tax")
        buyer_paid = buyer.sum("total") + buyer_tax
        pricing = {
            "priceSubtotal": bamt(buyer.sum("cost")),
            "deliveryCost": bamt(buyer.sum("shipping")),
            "total": bamt(buyer_paid if tax_breakdown else buyer.sum("total")),
        }
        if tax_breakdown and buyer_tax:
            pricing["tax"] = bamt(buyer_tax)
        if d.discount:
            pricing["priceDiscount"] = bamt(buyer.sum("discount"))
        refunded_amount = d.refund_amount if refunded else Decimal("0")
        due = Decimal("0") if cancelled else d.total - refunded_amount
        buyer_due = Decimal("0") if cancelled else buyer_paid - (buyer_refund if refunded else Decimal("0"))
        payments = []
        if paid:
            assert plan.paid is not None
            payments.append(
                {
                    "paymentMethod": "EBAY",
                    "paymentReferenceId": d.payment_ref,
                    "paymentDate": iso_ms(plan.paid),
                    "amount": self._seller_amt(d.total, buyer, buyer_paid),
                    "paymentStatus": "PAID",
                }
            )
        refunds = []
        if refunded:
            assert plan.refund_at is not None
            refunds.append(
                {
                    "refundId": d.refund_id,
                    "refundDate": iso_ms(plan.refund_at),
                    "amount": self._seller_amt(d.refund_amount, buyer, buyer_refund),
                    "refundReferenceId": f"R{d.refund_id}",
                    "refundStatus": "REFUNDED",
                }
            )
        b = d.buyer
        contact = {
            "fullName": b.full_name,
            "contactAddress": {
                "addressLine1": b.street,
                "city": b.city,
                "stateOrProvince": b.state,
                "postalCode": b.postal,
                "countryCode": b.country,
            },
            "primaryPhone": {"phoneNumber": b.phone},
            "email": b.email,
        }
        order: dict = {
            "orderId": d.order_id,
            "creationDate": iso_ms(plan.created),
            "lastModifiedDate": iso_ms(lmd),
            "orderFulfillmentStatus": fulfillment,
            "orderPaymentStatus": payment_status,
            "sellerId": gen.seller_id(account),
            "buyer": {
                "username": b.username,
                "taxAddress": {
                    "city": b.city,
                    "stateOrProvince": b.state,
                    "postalCode": b.postal,
                    "countryCode": b.country,
                },
                "buyerRegistrationAddress": contact,
            },
            "pricingSummary": pricing,
            "cancelStatus": (
                {"cancelState": "CANCELED", "cancelledDate": iso_ms(plan.cancel_at), "cancelRequests": []}
                if cancelled and plan.cancel_at is not None
                else {"cancelState": "NONE_REQUESTED", "cancelRequests": []}
            ),
            "paymentSummary": {
                "payments": payments,
                "refunds": refunds,
                "totalDueSeller": self._seller_amt(due, buyer, buyer_due),
            },
            "fulfillmentStartInstructions": [
                {
                    "fulfillmentInstructionsType": "SHIP_TO",
                    "minEstimatedDeliveryDate": iso_ms(plan.created + 3 * MS_DAY),
                    "maxEstimatedDeliveryDate": iso_ms(plan.created + 7 * MS_DAY),
                    "ebaySupportedFulfillment": False,
                    "shippingStep": {
                        "shipTo": contact,
                        "shippingCarrierCode": d.carrier[0],
                        "shippingServiceCode": d.carrier[1],
                    },
                }
            ],
            "fulfillmentHrefs": (
                [f"{PUBLIC_FULFILLMENT}/order/{d.order_id}/shipping_fulfillment/{d.payment_ref[:14]}"]
                if shipped_first
                else []
            ),
            "lineItems": line_items,
            "salesRecordReference": str(d.sales_record) + (f"-R{len(applied)}" if applied else ""),
            # The order's cost before fees (Order.totalFeeBasisAmount), without the tax eBay collects,
            # as the matching SALE's totalFeeBasisAmount.
            "totalFeeBasisAmount": amt(d.total - d.tax),
            "totalMarketplaceFee": amt(d.fees),
        }
        if applied:
            order["buyerCheckoutNotes"] = f"Buyer updated the order (revision {len(applied)})"
        return order

    # ------------------------------------------------------------------ finances
    def funds(self, account: str, ref: TxnRef) -> FundsPlan:
        """When the transaction's funds are processed, held, available and paid out (see ``funds``)."""
        return funds_plan(self.gen.seed, account, ref.transaction_id, ref.transaction_type, ref.date)

    def transaction_status(self, account: str, ref: TxnRef, now: int) -> str:
        """``transactionStatus`` of a located transaction as of ``now``."""
        return self.funds(account, ref).status(now)

    def transaction(self, account: str, ref: TxnRef, now: int) -> dict:
        """The Finances ``Transaction`` for a located transaction, as of ``now``."""
        amt, gen = self._amt, self.gen
        funds = self.funds(account, ref)
        status = funds.status(now)
        base: dict[str, Any] = {
            "transactionId": ref.transaction_id,
            "transactionType": ref.transaction_type,
            "transactionDate": iso_ms(ref.date),
            "transactionStatus": status,
        }
        if status == PAYOUT:
            base["payoutId"] = payout_id(gen.acode(account), funds.payout)
        if ref.plan is None:
            base.update(
                {
                    "amount": amt(ref.amount),
                    "bookingEntry": ref.booking,
                    "feeType": ref.fee_type,
                    "transactionMemo": ref.memo,
                    "totalFeeAmount": amt(Decimal("0")),
                }
            )
            if ref.fee_type == "AD_FEE":
                k = rng(gen.seed, account, "nscitem", ref.day, ref.k).randrange(max(1, gen.cfg.active_listings))
                base["references"] = [{"referenceId": gen.item_id(account, k), "referenceType": "ITEM_ID"}]
            return base
        plan = ref.plan
        d = gen.order_detail(account, plan.day, plan.idx, plan)
        common: dict[str, Any] = {
            "orderId": d.order_id,
            "salesRecordReference": str(d.sales_record),
            "buyer": {"username": d.buyer.username},
        }
        if ref.transaction_type == "SALE":
            lines = []
            for ln in d.lines:
                fees: list[dict[str, Any]] = [{"feeType": "FINAL_VALUE_FEE", "amount": amt(ln.fvf)}]
                if ln.fixed_fee:
                    fees.append({"feeType": "FINAL_VALUE_FEE_FIXED_PER_ORDER", "amount": amt(ln.fixed_fee)})
                basis = amt(ln.total - ln.tax)
                lines.append({"lineItemId": ln.line_item_id, "feeBasisAmount": basis, "marketplaceFees": fees})
            base.update(common)
            # What the buyer paid, less the fees and the tax eBay collected and remits itself. As in
            # a production SALE, totalFeeBasisAmount leaves that tax out and amount = basis - fees, with
            # the tax beside them under the key production spells ebayCollectedTaxAmount (README "Wire facts").
            base.update(
                {
                    "amount": amt(d.total - d.tax - d.fees),
                    "bookingEntry": "CREDIT",
                    "totalFeeBasisAmount": amt(d.total - d.tax),
                    "totalFeeAmount": amt(d.fees),
                    "orderLineItems": lines,
                    "paymentsEntity": "eBay Commerce Inc",
                }
            )
            if d.tax:
                base["ebayCollectedTaxAmount"] = amt(d.tax)
        elif ref.transaction_type == "REFUND":
            ln = d.lines[plan.ret_line]
            base.update(common)
            # eBay gives back the refunded line's final value fee and refunds the tax it collected:
            # the seller's funds lose the refund less both (README "Wire facts": Fee credits).
            credited = [{"feeType": "FINAL_VALUE_FEE", "amount": amt(ln.fvf)}]
            base.update(
                {
                    "amount": amt(d.refund_amount - ln.tax - ln.fvf),
                    "bookingEntry": "DEBIT",
                    "totalFeeBasisAmount": amt(d.refund_amount - ln.tax),
                    "totalFeeAmount": amt(ln.fvf),
                    "orderLineItems": [
                        {
                            "lineItemId": ln.line_item_id,
                            "feeBasisAmount": amt(d.refund_amount - ln.tax),
                            "marketplaceFees": credited,
                        }
                    ],
                    "references": [
                        {"referenceId": gen.return_id(account, plan.day, plan.idx), "referenceType": "RETURN_ID"}
                    ],
                    "paymentsEntity": "eBay Commerce Inc",
                }
            )
            if ln.tax:
                base["ebayCollectedTaxAmount"] = amt(ln.tax)
        else:  # SHIPPING_LABEL
            cost = money(Decimal(rng(gen.seed, account, "label", plan.day, plan.idx).randint(350, 1500)) / 100)
            base.update(common)
            base.update(
                {
                    "amount": amt(cost),
                    "bookingEntry": "DEBIT",
                    "transactionMemo": f"Shipping label - {d.carrier[0]}",
                    "totalFeeAmount": amt(Decimal("0")),
                }
            )
        return base

    def payouts(self, account: str, start: int, end: int, now: int) -> list[dict]:
        """The Finances ``Payout`` objects begun within ``[start, end]``, as of ``now``, oldest first.

        Each is the signed sum of the transactions this renderer gives its ``payoutId`` (see ``payouts``).
        """
        return [
            payout_wire(self.gen.seed, account, p, now, self.currency)
            for p in self.payout_book.payouts(account, start, end, now)
        ]

    # ------------------------------------------------------------------ disputes
    def _dispute_state(self, plan: OrderPlan, now: int) -> tuple[str, int]:
        assert plan.disp_at is not None, "only plans with a dispute have a dispute state"
        closed = plan.disp_close is not None and plan.disp_close <= now
        if closed:
            return "CLOSED", 3
        if now >= plan.disp_at + 12 * MS_HOUR:
            return "ACTION_NEEDED", 2
        return "OPEN", 1

    def dispute_summary(self, account: str, plan: OrderPlan, now: int) -> dict:
        """A ``PaymentDisputeSummary`` as of ``now``."""
        d = self.gen.order_detail(account, plan.day, plan.idx, plan)
        status, _ = self._dispute_state(plan, now)
        assert plan.disp_at is not None
        out: dict[str, Any] = {
            "paymentDisputeId": self.gen.dispute_id(account, plan.day, plan.idx),
            "paymentDisputeStatus": status,
            "reason": d.dispute_reason,
            "orderId": d.order_id,
            "buyerUsername": d.buyer.username,
            "amount": {"value": money_str(d.total), "currency": self.currency},
            "openDate": iso_ms(plan.disp_at),
            "respondByDate": iso_ms(plan.disp_at + 7 * MS_DAY),
        }
        if status == "CLOSED":
            assert plan.disp_close is not None
            out["closedDate"] = iso_ms(plan.disp_close)
        return out

    def dispute(self, account: str, plan: OrderPlan, now: int) -> dict:
        """A ``PaymentDispute`` detail as of ``now``."""
        d = self.gen.order_detail(account, plan.day, plan.idx, plan)
        out = self.dispute_summary(account, plan, now)
        status, revision = self._dispute_state(plan, now)
        out["lineItems"] = [{"itemId": ln.item_id, "lineItemId": ln.line_item_id} for ln in d.lines]
        out["revision"] = revision
        if status == "ACTION_NEEDED":
            out["availableChoices"] = ["CONTEST", "ACCEPT"]
        if status == "CLOSED":
            seller_wins = plan.u_extra < 0.6
            out["sellerResponse"] = "CONTEST" if seller_wins else "ACCEPT"
            out["resolution"] = {
                "protectionStatus": "FULLY_PROTECTED" if seller_wins else "NOT_ELIGIBLE",
                "reasonForClosure": "RESOLVED_SELLER_FAVOUR" if seller_wins else "RESOLVED_BUYER_FAVOUR",
            }
        return out

    # ------------------------------------------------------------------ inventory
    def inventory_item(self, account: str, i: int) -> dict:
        """The ``InventoryItemWithSkuLocaleGroupid`` of SKU index ``i``."""
        p = self.gen.product(account, i)
        out = {
            "sku": p.sku,
            "locale": "en_US",
            "product": {
                "title": p.title,
                "aspects": {"Brand": [p.brand], "Color": [p.color]},
                "brand": p.brand,
                "mpn": p.mpn,
                "imageUrls": [f"https://i.ebayimg.com/images/g/{p.sku}{n}/s-l1600.jpg" for n in range(p.image_count)],
                "description": f"{p.title}. Ships within one business day.",
            },
            "condition": p.condition,
            "availability": {"shipToLocationAvailability": {"quantity": p.quantity}},
        }
        if p.condition != "NEW":
            out["conditionDescription"] = "Gently used, fully functional."
        return out

    def offers(self, account: str, i: int) -> list[dict]:
        """The offers of SKU index ``i`` (1 or 2)."""
        p = self.gen.product(account, i)
        out = []
        for j in range(p.offers):
            published = j == 0 and i < self.gen.cfg.active_listings
            offer: dict[str, Any] = {
                "offerId": self.gen.offer_id(account, i, j),
                "sku": p.sku,
                "marketplaceId": self.marketplace,
                "format": "FIXED_PRICE" if j == 0 else "AUCTION",
                "availableQuantity": p.quantity,
                "categoryId": p.category_id,
                "listingPolicies": {
                    "fulfillmentPolicyId": "6196932000",
                    "paymentPolicyId": "6196933000",
                    "returnPolicyId": "6196934000",
                },
                "pricingSummary": {"price": self._amt(p.price)},
                "status": "PUBLISHED" if published else "UNPUBLISHED",
                "merchantLocationKey": "warehouse-1",
                "listingDuration": "GTC" if j == 0 else "DAYS_7",
                "includeCatalogProductDetails": True,
            }
            if j == 1:
                offer["pricingSummary"]["auctionStartPrice"] = self._amt(money(p.price * Decimal("0.6")))
            if published:
                listing = self.gen.listing(account, i)
                offer["listing"] = {
                    "listingId": listing.item_id,
                    "listingStatus": "ACTIVE",
                    "soldQuantity": listing.quantity_sold,
                }
                offer["listingStartDate"] = iso_ms(listing.start)
            out.append(offer)
        return out
