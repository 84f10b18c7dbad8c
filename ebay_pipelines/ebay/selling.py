"""Trading GetMyeBaySelling: the account's active listings.

Call cost: one call per 200 active listings. Listings have no last-change time in this call,
so rows use the fetch time as ``source_updated_at``. The endpoint spec ``ACTIVE_LISTINGS``
describes the call; :mod:`ebay_pipelines.ebay.paging` walks it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from . import paging
from .endpoints import EndpointSpec, Pagination
from .parsing import Record, utcnow
from .trading import TradingClient

CALL = "GetMyeBaySelling"

ACTIVE_LISTINGS = EndpointSpec(
    call=CALL,
    api="trading",
    list_element="ActiveList",
    item_path="ItemArray/Item",
    pagination=Pagination.TRADING,
    page_size=200,
    paging_note="Trading page numbers, page 1 then TotalNumberOfPages back to page 2: a listing ending "
    "meanwhile shifts the listings behind it up, into pages not yet read; a snapshot prunes only after a walk "
    "proven complete (design §8).",
    params=(("Include", True),),
)
ENTRIES_PER_PAGE = ACTIVE_LISTINGS.page_size


def iter_active_listings(
    client: TradingClient, *, entries_per_page: int = ENTRIES_PER_PAGE
) -> Iterator[list[dict[str, Any]]]:
    """Yield pages of active-listing Item dicts (``ActiveList/ItemArray/Item``)."""
    return paging.pages(ACTIVE_LISTINGS, trading=client, page_size=entries_per_page)


def active_listing_row(account_id: str, item: dict[str, Any], *, fetched_at: datetime | None = None) -> dict[str, Any]:
    """Return the ``ebay_active_inventory`` row of one active-listing Item."""
    rec = Record(item, call_name=CALL, account_id=account_id, id_field="ItemID")
    price, currency = rec.amount("SellingStatus.CurrentPrice")
    buy_it_now, buy_it_now_currency = rec.amount("BuyItNowPrice")
    return {
        "ebay_account_id": account_id,
        "item_id": rec.key("ItemID"),
        "sku": rec.text("SKU"),
        "title": rec.text("Title"),
        "listing_type": rec.text("ListingType"),
        "quantity": rec.integer("Quantity"),
        "quantity_available": rec.integer("QuantityAvailable"),
        "quantity_sold": rec.integer("SellingStatus.QuantitySold"),
        "current_price_value": price,
        "current_price_currency": currency,
        "buy_it_now_price_value": buy_it_now,
        "buy_it_now_price_currency": buy_it_now_currency,
        "start_time": rec.timestamp("ListingDetails.StartTime"),
        "end_time": rec.timestamp("ListingDetails.EndTime"),
        "time_left": rec.text("TimeLeft"),
        "watch_count": rec.integer("WatchCount"),
        "view_item_url": rec.text("ListingDetails.ViewItemURL"),
        "raw": item,
        "source_updated_at": fetched_at or utcnow(),
    }
