"""Render Trading API (XML) responses: messages, active listings, purchases and errors.

Records are first built as plain dicts (the shape ``truth`` returns, with typed values), then
serialised to XML with element names and order from trading_schema_v1379.json.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from xml.sax.saxutils import escape, quoteattr

from .generator import Listing, MessagePlan, PurchasePlan
from .queries import World
from .util import MS_DAY, from_ms, iso_duration, iso_ms, money, to_ms

NS = "urn:ebay:apis:eBLBaseComponents"
VERSION = "1379"
BUILD = "E1379_CORE_APIMSG_20240927_R1"

Node = tuple  # (name, text_or_children, attrs)


def el(name: str, content: object = None, **attrs: str) -> Node:
    """An XML element node; ``content`` is text (str/int/bool/Decimal/datetime) or a list of nodes."""
    return (name, content, attrs)


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return iso_ms(to_ms(value))
    if isinstance(value, Decimal):
        return str(money(value))
    return str(value)


def render(node: Node, out: list[str]) -> None:
    """Append the XML of ``node`` to ``out``."""
    name, content, attrs = node
    attr_s = "".join(f" {k}={quoteattr(v)}" for k, v in attrs.items())
    if isinstance(content, list):
        out.append(f"<{name}{attr_s}>")
        for child in content:
            if child is not None:
                render(child, out)
        out.append(f"</{name}>")
    elif content is None:
        out.append(f"<{name}{attr_s}/>")
    else:
        out.append(f"<{name}{attr_s}>{escape(_text(content))}</{name}>")


def document(call: str, now: int, body: list[Node], errors: list[dict] | None = None) -> bytes:
    """A complete ``<CallResponse>`` document with the AbstractResponseType header first."""
    ack = "Failure" if errors else "Success"
    children: list[Node] = [el("Timestamp", iso_ms(now)), el("Ack", ack)]
    for e in errors or []:
        children.append(
            el(
                "Errors",
                [
                    el("ShortMessage", e["ShortMessage"]),
                    el("LongMessage", e["LongMessage"]),
                    el("ErrorCode", e["ErrorCode"]),
                    el("SeverityCode", "Error"),
                    el("ErrorClassification", e.get("ErrorClassification", "RequestError")),
                ],
            )
        )
    children += [el("Version", VERSION), el("Build", BUILD)]
    children += body
    out = ['<?xml version="1.0" encoding="UTF-8"?>']
    render((f"{call}Response", children, {"xmlns": NS}), out)
    return "".join(out).encode()


def error(code: str, short: str, long: str | None = None, classification: str = "RequestError") -> dict:
    """An Errors entry."""
    return {
        "ErrorCode": code,
        "ShortMessage": short,
        "LongMessage": long or short,
        "ErrorClassification": classification,
    }


INVALID_TOKEN = error("21916984", "Invalid IAF token.", "IAF token supplied is invalid.")
RATE_LIMIT = error(
    "518",
    "Call usage limit has been reached.",
    "Your application has exceeded usage limit on this call. Please try again later.",
)
TOO_MANY_IDS = error("21919009", "Too many message IDs.", "Too many message IDs. The maximum is 10.")


class TradingRenderer:
    """Builds Trading dicts (typed values) and their XML elements."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.gen = world.gen
        self.currency = world.cfg.currency

    # ------------------------------------------------------------------ listings
    def listing_dict(self, account: str, listing: Listing, now: int) -> dict:
        """A dict describing an active listing as of ``now``."""
        p = listing.product
        period = 30 * MS_DAY
        cycles = max(1, -(-(now - listing.start) // period))
        end = listing.start + cycles * period
        return {
            "ItemID": listing.item_id,
            "SKU": p.sku,
            "Title": p.title,
            "ListingType": listing.listing_type,
            "ListingDuration": "GTC" if listing.listing_type == "FixedPriceItem" else "Days_7",
            "Quantity": listing.quantity,
            "QuantityAvailable": listing.quantity - listing.quantity_sold,
            "QuantitySold": listing.quantity_sold,
            "CurrentPrice": p.price,
            "Currency": self.currency,
            "BuyItNowPrice": p.price,
            "StartPrice": p.price,
            "StartTime": from_ms(listing.start),
            "EndTime": from_ms(end),
            "ViewItemURL": f"https://www.ebay.com/itm/{listing.item_id}",
            "TimeLeft": iso_duration(end - now),
            "WatchCount": listing.watch_count,
            "GalleryURL": f"https://i.ebayimg.com/images/g/{p.sku}0/s-l225.jpg",
        }

    def listing_xml(self, d: dict) -> Node:
        """``ItemType`` element of an active listing."""
        cur = {"currencyID": d["Currency"]}
        return el(
            "Item",
            [
                el("BuyItNowPrice", d["BuyItNowPrice"], **cur),
                el("ItemID", d["ItemID"]),
                el(
                    "ListingDetails",
                    [
                        el("StartTime", d["StartTime"]),
                        el("EndTime", d["EndTime"]),
                        el("ViewItemURL", d["ViewItemURL"]),
                    ],
                ),
                el("ListingDuration", d["ListingDuration"]),
                el("ListingType", d["ListingType"]),
                el("Quantity", d["Quantity"]),
                el(
                    "SellingStatus",
                    [el("CurrentPrice", d["CurrentPrice"], **cur), el("QuantitySold", d["QuantitySold"])],
                ),
                el("StartPrice", d["StartPrice"], **cur),
                el("TimeLeft", d["TimeLeft"]),
                el("Title", d["Title"]),
                el("WatchCount", d["WatchCount"]),
                el("QuantityAvailable", d["QuantityAvailable"]),
                el("SKU", d["SKU"]),
                el("PictureDetails", [el("GalleryURL", d["GalleryURL"])]),
            ],
        )

    # ------------------------------------------------------------------ messages
    def message_dict(self, account: str, m: MessagePlan, now: int) -> dict:
        """A dict describing one message as of ``now`` (``Text`` included)."""
        return {
            "Sender": m.sender,
            "RecipientUserID": m.recipient or self.gen.seller_id(account),
            "SendToName": m.recipient or self.gen.seller_id(account),
            "Subject": m.subject,
            "MessageID": m.message_id,
            "ExternalMessageID": m.external_id,
            "Text": m.text,
            "Flagged": m.is_flagged(now),
            "Read": m.is_read(now),
            "ReceiveDate": from_ms(m.receive),
            "ExpirationDate": from_ms(m.receive + 365 * MS_DAY),
            "ItemID": m.item_id,
            "FolderID": m.folder_id,
            "MessageType": m.message_type,
            "ListingStatus": "Active",
            "QuestionType": m.question_type,
            "Replied": m.is_replied(now),
            "HighPriority": m.high_priority,
            "ItemEndTime": from_ms(m.item_end),
            "ItemTitle": m.item_title,
        }

    def message_xml(self, d: dict, with_text: bool) -> Node:
        """``MyMessagesMessageType`` element (``Text`` only with ReturnMessages)."""
        return el(
            "Message",
            [
                el("Sender", d["Sender"]),
                el("RecipientUserID", d["RecipientUserID"]),
                el("SendToName", d["SendToName"]),
                el("Subject", d["Subject"]),
                el("MessageID", d["MessageID"]),
                el("ExternalMessageID", d["ExternalMessageID"]),
                el("Text", d["Text"]) if with_text else None,
                el("Flagged", d["Flagged"]),
                el("Read", d["Read"]),
                el("ReceiveDate", d["ReceiveDate"]),
                el("ExpirationDate", d["ExpirationDate"]),
                el("ItemID", d["ItemID"]),
                el("Folder", [el("FolderID", d["FolderID"])]),
                el("MessageType", d["MessageType"]),
                el("ListingStatus", d["ListingStatus"]),
                el("QuestionType", d["QuestionType"]),
                el("Replied", d["Replied"]),
                el("HighPriority", d["HighPriority"]),
                el("ItemEndTime", d["ItemEndTime"]),
                el("ItemTitle", d["ItemTitle"]),
            ],
        )

    # ------------------------------------------------------------------ purchases
    def purchase_dict(self, account: str, p: PurchasePlan, now: int) -> dict:
        """A dict describing one purchase as of ``now``."""
        paid = p.paid <= now
        shipped = p.shipped <= now
        last = p.shipped if shipped else p.paid if paid else p.created
        return {
            "OrderLineItemID": f"{p.item_id}-{p.transaction_id}",
            "ItemID": p.item_id,
            "TransactionID": p.transaction_id,
            "OrderID": p.order_id,
            "Title": p.title,
            "SellerUserID": p.seller,
            "QuantityPurchased": p.quantity,
            "TransactionPrice": p.price,
            "Currency": self.currency,
            "TotalPrice": p.price * p.quantity,
            "CreatedDate": from_ms(p.created),
            "PaidTime": from_ms(p.paid) if paid else None,
            "ShippedTime": from_ms(p.shipped) if shipped else None,
            "LastTimeModified": from_ms(last),
            "CheckoutStatus": "CheckoutComplete" if paid else "CheckoutIncomplete",
            "CompleteStatus": "Complete" if paid else "Incomplete",
            "OrderStatus": "Shipped" if shipped else "Completed" if paid else "Active",
            "ViewItemURL": f"https://www.ebay.com/itm/{p.item_id}",
        }

    def purchase_xml(self, d: dict) -> Node:
        """``OrderTransactionType`` element holding the purchase's Transaction."""
        cur = {"currencyID": d["Currency"]}
        return el(
            "OrderTransaction",
            [
                el(
                    "Transaction",
                    [
                        el("CreatedDate", d["CreatedDate"]),
                        el(
                            "Item",
                            [
                                el("ItemID", d["ItemID"]),
                                el("ListingDetails", [el("ViewItemURL", d["ViewItemURL"])]),
                                el("ListingType", "FixedPriceItem"),
                                el("Seller", [el("UserID", d["SellerUserID"])]),
                                el("SellingStatus", [el("CurrentPrice", d["TransactionPrice"], **cur)]),
                                el("Title", d["Title"]),
                            ],
                        ),
                        el("QuantityPurchased", d["QuantityPurchased"]),
                        el(
                            "Status",
                            [
                                el("eBayPaymentStatus", "NoPaymentFailure"),
                                el("CheckoutStatus", d["CheckoutStatus"]),
                                el("LastTimeModified", d["LastTimeModified"]),
                                el("CompleteStatus", d["CompleteStatus"]),
                            ],
                        ),
                        el("TransactionID", d["TransactionID"]),
                        el("TransactionPrice", d["TransactionPrice"], **cur),
                        el("PaidTime", d["PaidTime"]) if d["PaidTime"] else None,
                        el("ShippedTime", d["ShippedTime"]) if d["ShippedTime"] else None,
                        el("TotalPrice", d["TotalPrice"], **cur),
                        el("ContainingOrder", [el("OrderID", d["OrderID"]), el("OrderStatus", d["OrderStatus"])]),
                        el("OrderLineItemID", d["OrderLineItemID"]),
                    ],
                )
            ],
        )
