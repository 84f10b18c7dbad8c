"""Trading GetMyeBaySelling: the account's active listings.

Call cost: one call per 200 active listings. Listings have no last-change time in this call,
so rows use the fetch time as ``source_updated_at``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from .parsing import Record, utcnow
from .trading import TradingClient, add, add_pagination, new_request, to_dicts

CALL = "GetMyeBaySelling"
ENTRIES_PER_PAGE = 200


def _active_list_request(page: int, per_page: int):
    request = new_request(CALL)
    active = add(request, "ActiveList")
    add(active, "Include", True)
    add_pagination(active, per_page, page)
    return request


def iter_active_listings(
    client: TradingClient, *, entries_per_page: int = ENTRIES_PER_PAGE
) -> Iterator[list[dict[str, Any]]]:
    """Yield pages of active-listing Item dicts (``ActiveList/ItemArray/Item``)."""
    for page in client.paginate(
        CALL, "ActiveList", _active_list_request, item_path="ItemArray/Item", entries_per_page=entries_per_page
    ):
        yield to_dicts(page)


def active_listing_row(account_id: str, item: dict[str, Any], *, fetched_at: datetime | None = None) -> dict[str, Any]:
    """Return the ``ebay_active_inventory`` row of one active-listing Item."""
    rec = Record(item, call_name=CALL, account_id=account_id, id_field="ItemID")
    price, currency = rec.amount("SellingStatus.CurrentPrice")
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
        "buy_it_now_price_value": rec.amount("BuyItNowPrice")[0],
        "start_time": rec.timestamp("ListingDetails.StartTime"),
        "end_time": rec.timestamp("ListingDetails.EndTime"),
        "time_left": rec.text("TimeLeft"),
        "watch_count": rec.integer("WatchCount"),
        "view_item_url": rec.text("ListingDetails.ViewItemURL"),
        "raw": item,
        "source_updated_at": fetched_at or utcnow(),
    }
