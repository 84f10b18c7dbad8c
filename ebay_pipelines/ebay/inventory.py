"""Inventory API: inventory items (by SKU) and their offers.

Call cost: one getInventoryItems call per 200 items, and at least one getOffers call per SKU
(eBay requires the ``sku`` parameter). Inventory records have no last-change time, so rows use
the fetch time as ``source_updated_at``. The endpoint specs ``INVENTORY_ITEMS`` and ``OFFERS``
describe both calls; :mod:`ebay_pipelines.ebay.paging` walks them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from . import paging
from .endpoints import EndpointSpec, Pagination
from .parsing import Record, utcnow
from .rest import EbayRestClient
from .walk import WalkReport

GET_INVENTORY_ITEMS = "getInventoryItems"
GET_OFFERS = "getOffers"

INVENTORY_ITEMS = EndpointSpec(
    call=GET_INVENTORY_ITEMS,
    api="inventory",
    path="/inventory_item",
    items_key="inventoryItems",
    pagination=Pagination.REST,
    page_size=200,
    paging_note="REST offsets in the unit of eBay's next link, page 1 then last page back to page 2: an item "
    "deleted meanwhile shifts the items behind it up, into pages not yet read; a snapshot prunes only after a "
    "walk proven complete (design §8).",
)
#: eBay requires the ``sku`` parameter: one walk per SKU (see :func:`iter_offers_for_skus`).
OFFERS = EndpointSpec(
    call=GET_OFFERS,
    api="inventory",
    path="/offer",
    items_key="offers",
    pagination=Pagination.REST,
    page_size=200,
    paging_note="REST offsets per SKU, page 1 then last page back to page 2; nearly every SKU has one page of offers.",
    # A SKU without offers: the contract declares a bare 404 for getOffers; errorId 25713 ("This Offer
    # is not available.") is declared on /offer/{offerId} only, and read the same (README Wire facts).
    no_records_errors=frozenset({25713}),
    no_records_bare_404=True,
    # 400 25709 "Invalid value for {fieldName}": this SKU cannot be read; 25706 (invalid pagination
    # values) is the request's own fault and fails the fetch.
    value_errors=frozenset({25709}),
)
INVENTORY_PAGE_SIZE = INVENTORY_ITEMS.page_size
OFFERS_PAGE_SIZE = OFFERS.page_size


def iter_inventory_items(
    client: EbayRestClient, *, page_size: int = INVENTORY_PAGE_SIZE
) -> Iterator[list[dict[str, Any]]]:
    """Yield pages of every InventoryItem of the account."""
    return paging.pages(INVENTORY_ITEMS, rest=client, page_size=page_size)


def skus_of(items: Iterable[Any], account_id: str) -> list[str]:
    """Return the SKUs of a page of InventoryItems; PayloadError for an item without a usable SKU."""
    return [
        Record(item, call_name=GET_INVENTORY_ITEMS, account_id=account_id, id_field="sku").key("sku") for item in items
    ]


def iter_offers_for_skus(
    client: EbayRestClient,
    skus: Iterable[str],
    *,
    page_size: int = OFFERS_PAGE_SIZE,
    report: WalkReport | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Yield batches (up to ``page_size``) of Offer objects of the given SKUs, one getOffers per SKU.

    A SKU without offers (HTTP 404, bare or with errorId 25713) is skipped. A SKU eBay refuses
    (HTTP 400 25709) is recorded in ``report`` (see :class:`~ebay_pipelines.ebay.walk.WalkReport`)
    and the others are read; without a report it raises.
    """
    return paging.pages_per_value(OFFERS, client, "sku", skus, page_size=page_size, report=report)


def inventory_row(account_id: str, item: dict[str, Any], *, fetched_at: datetime | None = None) -> dict[str, Any]:
    """Return the ``ebay_inventory`` row of one InventoryItem."""
    rec = Record(item, call_name=GET_INVENTORY_ITEMS, account_id=account_id, id_field="sku")
    group_ids = rec.get("groupIds")
    if group_ids is not None and not isinstance(group_ids, list):
        raise rec.fail("groupIds", f"should be a list but is a {type(group_ids).__name__}")
    image_urls = rec.get("product.imageUrls")
    if image_urls is not None and not isinstance(image_urls, list):
        raise rec.fail("product.imageUrls", f"should be a list but is a {type(image_urls).__name__}")
    return {
        "ebay_account_id": account_id,
        "sku": rec.key("sku"),
        "locale": rec.text("locale"),
        "title": rec.text("product.title"),
        "condition": rec.text("condition"),
        "condition_description": rec.text("conditionDescription"),
        "available_quantity": rec.integer("availability.shipToLocationAvailability.quantity"),
        "brand": rec.text("product.brand"),
        "mpn": rec.text("product.mpn"),
        "epid": rec.text("product.epid"),
        "image_count": None if image_urls is None else len(image_urls),
        "group_ids": group_ids,
        "raw": item,
        "source_updated_at": fetched_at or utcnow(),
    }


def offer_row(account_id: str, offer: dict[str, Any], *, fetched_at: datetime | None = None) -> dict[str, Any]:
    """Return the ``ebay_offers`` row of one Offer."""
    rec = Record(offer, call_name=GET_OFFERS, account_id=account_id, id_field="offerId")
    price, currency = rec.amount("pricingSummary.price")
    return {
        "ebay_account_id": account_id,
        "offer_id": rec.key("offerId"),
        "sku": rec.key("sku"),
        "marketplace_id": rec.text("marketplaceId"),
        "format": rec.text("format"),
        "status": rec.text("status"),
        "available_quantity": rec.integer("availableQuantity"),
        "price_value": price,
        "price_currency": currency,
        "listing_id": rec.text("listing.listingId"),
        "listing_status": rec.text("listing.listingStatus"),
        "sold_quantity": rec.integer("listing.soldQuantity"),
        "category_id": rec.text("categoryId"),
        "merchant_location_key": rec.text("merchantLocationKey"),
        "listing_duration": rec.text("listingDuration"),
        "listing_start_date": rec.timestamp("listingStartDate"),
        "raw": offer,
        "source_updated_at": fetched_at or utcnow(),
    }
