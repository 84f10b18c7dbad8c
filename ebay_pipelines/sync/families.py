"""The one table of api-family specs that drives assets, schedules and the compatibility mirrors.

Each family names the eBay calls it makes, the tables it fills, its window rules and cadence, and
a small fetch function that turns eBay's pages into row pages for those tables. Nothing here
knows Dagster; nothing here writes to the database.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ebay_pipelines.ebay import buying, finances, fulfillment, inventory, messages, postorder, selling
from ebay_pipelines.ebay.rest import EbayRestClient
from ebay_pipelines.ebay.trading import TradingClient
from ebay_pipelines.store.partition_writer import RowPage
from ebay_pipelines.sync.windows import Window

StoredLookup = Callable[[str, str, list[str]], Mapping[str, dict]]
#: ``(family, table, time column, {column: value}, start, end, covered_until) -> raws or None``.
CoveredLookup = Callable[[str, str, str, Mapping[str, str], datetime, datetime, datetime], list[dict] | None]


@dataclass(frozen=True)
class FetchContext:
    """Everything a family's fetch needs for one partition."""

    account_id: str
    window: Window | None
    rest: EbayRestClient
    trading: TradingClient
    fetched_at: datetime
    #: ``(table, key column, ids) -> {id: stored raw}``: what earlier syncs stored (None: nothing known).
    stored: StoredLookup | None = None
    #: Records another family stored for this window, when one of its completed runs covered it.
    covered: CoveredLookup | None = None

    def known(self, table: str, key_column: str, prefix: str = "") -> Callable[[list[str]], Mapping[str, dict]] | None:
        """A lookup of stored records of ``table`` by eBay id (stored key = ``prefix`` + id), or None."""
        stored = self.stored
        if stored is None:
            return None

        def lookup(ids: list[str]) -> Mapping[str, dict]:
            found = stored(table, key_column, [prefix + i for i in ids])
            return {key[len(prefix) :]: raw for key, raw in found.items()}

        return lookup

    @property
    def since(self) -> datetime:
        """Start of the window (window families only)."""
        assert self.window is not None, "snapshot families have no window"
        return self.window.start

    @property
    def until(self) -> datetime:
        """End of the window (window families only)."""
        assert self.window is not None, "snapshot families have no window"
        return self.window.end


Fetch = Callable[[FetchContext], Iterator[RowPage]]


@dataclass(frozen=True)
class FamilySpec:
    """How one api family syncs: calls, tables, window, cadence and freshness."""

    name: str
    tables: tuple[str, ...]
    description: str
    ebay_calls: tuple[str, ...]
    fetch: Fetch
    windowed: bool = True
    window_filter: str | None = None
    window_columns: dict[str, str] = field(default_factory=dict)
    overlap: timedelta = timedelta(minutes=60)
    first_backfill_days: int = 90
    cron: str = "0 * * * *"
    max_lag: timedelta = timedelta(hours=3)
    prune_missing: bool = False
    upstream: tuple[str, ...] = ()


def _orders(ctx: FetchContext) -> Iterator[RowPage]:
    a = ctx.account_id
    for page in fulfillment.iter_orders(ctx.rest, ctx.since, ctx.until):
        orders, line_items = [], []
        for order in page:
            row, items = fulfillment.order_and_line_item_rows(a, order)
            orders.append(row)
            line_items.extend(items)
        yield RowPage(rows={"ebay_orders": orders, "order_line_items": line_items}, fetched=len(page))


def _rows_of(table: str, pages: Iterable[list[dict]], row: Callable[[dict], dict]) -> Iterator[RowPage]:
    """Turn each page of eBay records into a row page of one table, one row per record."""
    for page in pages:
        yield RowPage(rows={table: [row(record) for record in page]}, fetched=len(page))


def _transactions(ctx: FetchContext) -> Iterator[RowPage]:
    yield from _rows_of(
        "ebay_transactions",
        finances.iter_transactions(ctx.rest, ctx.since, ctx.until),
        lambda t: finances.legacy_transaction_row(ctx.account_id, t),
    )


def _finances(ctx: FetchContext) -> Iterator[RowPage]:
    a = ctx.account_id
    for page in finances.iter_transactions(ctx.rest, ctx.since, ctx.until):
        yield RowPage(
            rows={
                "ebay_finances_transactions": [finances.finance_transaction_row(a, t) for t in page],
                "ebay_finances_fees": [row for t in page for row in finances.fee_rows(a, t)],
            },
            fetched=len(page),
        )


def _refunds(ctx: FetchContext) -> Iterator[RowPage]:
    a = ctx.account_id
    refund_row = functools.partial(finances.refund_row_from_transaction, a)
    # REFUND transactions: what the finances family stored, when one of its runs covered this
    # window up to its last overlap (a later one is read by the next window, which overlaps it);
    # otherwise a getTransactions call of their own.
    stored = (
        None
        if ctx.covered is None
        else ctx.covered(
            "finances",
            "ebay_finances_transactions",
            "transaction_date",
            {"transaction_type": "REFUND"},
            ctx.since,
            ctx.until,
            ctx.until - REFUNDS_OVERLAP,
        )
    )
    if stored is not None:
        yield from _rows_of("ebay_refunds", [stored], refund_row)
    else:
        fetched = finances.iter_transactions(ctx.rest, ctx.since, ctx.until, transaction_type="REFUND")
        yield from _rows_of("ebay_refunds", fetched, refund_row)
    returns = postorder.iter_returns(
        ctx.rest, ctx.since, ctx.until, known=ctx.known("ebay_refunds", "refund_id", "RET-")
    )
    yield from _rows_of("ebay_refunds", returns, functools.partial(postorder.return_refund_row, a))


def _disputes(ctx: FetchContext) -> Iterator[RowPage]:
    disputes = fulfillment.iter_disputes(
        ctx.rest, ctx.since, ctx.until, known=ctx.known("ebay_disputes", "payment_dispute_id")
    )
    yield from _rows_of(
        "ebay_disputes", disputes, lambda d: fulfillment.dispute_row(ctx.account_id, d, fetched_at=ctx.fetched_at)
    )


def _offers(ctx: FetchContext) -> Iterator[RowPage]:
    a = ctx.account_id
    for items in inventory.iter_inventory_items(ctx.rest):
        offers = inventory.iter_offers_for_skus(ctx.rest, inventory.skus_of(items, a))
        yield from _rows_of("ebay_offers", offers, lambda o: inventory.offer_row(a, o, fetched_at=ctx.fetched_at))


def _inventory(ctx: FetchContext) -> Iterator[RowPage]:
    yield from _rows_of(
        "ebay_inventory",
        inventory.iter_inventory_items(ctx.rest),
        lambda i: inventory.inventory_row(ctx.account_id, i, fetched_at=ctx.fetched_at),
    )


def _active_inventory(ctx: FetchContext) -> Iterator[RowPage]:
    yield from _rows_of(
        "ebay_active_inventory",
        selling.iter_active_listings(ctx.trading),
        lambda i: selling.active_listing_row(ctx.account_id, i, fetched_at=ctx.fetched_at),
    )


def _messages(ctx: FetchContext) -> Iterator[RowPage]:
    found = messages.iter_messages(ctx.trading, ctx.since, ctx.until, known=ctx.known("ebay_messages", "message_id"))
    yield from _rows_of(
        "ebay_messages", found, lambda m: messages.message_row(ctx.account_id, m, fetched_at=ctx.fetched_at)
    )


def _buyer(ctx: FetchContext) -> Iterator[RowPage]:
    yield from _rows_of(
        "ebay_buyer",
        buying.iter_purchases(ctx.trading),
        lambda t: buying.purchase_row(ctx.account_id, t, fetched_at=ctx.fetched_at),
    )


def _inquiries(ctx: FetchContext) -> Iterator[RowPage]:
    found = postorder.iter_inquiries(ctx.rest, ctx.since, ctx.until, known=ctx.known("ebay_inquiries", "inquiry_id"))
    yield from _rows_of("ebay_inquiries", found, functools.partial(postorder.inquiry_row, ctx.account_id))


def _cases(ctx: FetchContext) -> Iterator[RowPage]:
    found = postorder.iter_cases(ctx.rest, ctx.since, ctx.until, known=ctx.known("ebay_cases", "case_id"))
    yield from _rows_of("ebay_cases", found, functools.partial(postorder.case_row, ctx.account_id))


#: Snapshot families: no window, refreshed every six hours, stale after thirteen.
SNAPSHOT_CADENCE: dict[str, Any] = {"windowed": False, "cron": "0 */6 * * *", "max_lag": timedelta(hours=13)}
REFUNDS_OVERLAP = timedelta(minutes=60)

FAMILIES: tuple[FamilySpec, ...] = (
    FamilySpec(
        name="orders",
        tables=("ebay_orders", "order_line_items"),
        description="Orders and their line items from the Fulfillment API, windowed by last-modified date "
        "so later payment, shipping and refund changes land.",
        ebay_calls=("getOrders",),
        fetch=_orders,
        window_filter="lastmodifieddate",
        window_columns={"ebay_orders": "last_modified_date", "order_line_items": "source_updated_at"},
        cron="*/15 * * * *",
        max_lag=timedelta(hours=1),
    ),
    FamilySpec(
        name="transactions",
        tables=("ebay_transactions",),
        description="Finances API transactions in the legacy single-table shape.",
        ebay_calls=("getTransactions",),
        fetch=_transactions,
        window_filter="transactionDate",
        window_columns={"ebay_transactions": "transaction_date"},
    ),
    FamilySpec(
        name="finances",
        tables=("ebay_finances_transactions", "ebay_finances_fees"),
        description="Finances API transactions with their marketplace fees in a separate table.",
        ebay_calls=("getTransactions",),
        fetch=_finances,
        window_filter="transactionDate",
        window_columns={"ebay_finances_transactions": "transaction_date", "ebay_finances_fees": "transaction_date"},
    ),
    FamilySpec(
        name="refunds",
        tables=("ebay_refunds",),
        description="Refunds from REFUND finance transactions (read from ebay_finances_transactions when the "
        "finances family already synced the window) and from Post-Order returns.",
        ebay_calls=("getTransactions", "searchReturns", "getReturn"),
        fetch=_refunds,
        window_filter="transactionDate / return creation date",
        window_columns={"ebay_refunds": "refund_date"},
        overlap=REFUNDS_OVERLAP,
        upstream=("ebay_finances_transactions",),
    ),
    FamilySpec(
        name="disputes",
        tables=("ebay_disputes",),
        description="Payment disputes: summaries by open date, then each dispute's detail.",
        ebay_calls=("getPaymentDisputeSummaries", "getPaymentDispute"),
        fetch=_disputes,
        window_filter="open_date_from/open_date_to",
        window_columns={"ebay_disputes": "open_date"},
    ),
    FamilySpec(
        name="offers",
        tables=("ebay_offers",),
        description="Snapshot of every offer, found by walking inventory items and asking for each SKU's offers.",
        ebay_calls=("getInventoryItems", "getOffers"),
        fetch=_offers,
        **SNAPSHOT_CADENCE,
        prune_missing=True,
    ),
    FamilySpec(
        name="inventory",
        tables=("ebay_inventory",),
        description="Snapshot of every inventory item (SKU) from the Inventory API.",
        ebay_calls=("getInventoryItems",),
        fetch=_inventory,
        **SNAPSHOT_CADENCE,
        prune_missing=True,
    ),
    FamilySpec(
        name="active_inventory",
        tables=("ebay_active_inventory",),
        description="Snapshot of active listings from Trading GetMyeBaySelling (ActiveList).",
        ebay_calls=("GetMyeBaySelling",),
        fetch=_active_inventory,
        **SNAPSHOT_CADENCE,
        prune_missing=True,
    ),
    FamilySpec(
        name="messages",
        tables=("ebay_messages",),
        description="Member messages from Trading GetMyMessages: headers for the window, then bodies 10 at a time.",
        ebay_calls=("GetMyMessages",),
        fetch=_messages,
        window_filter="StartTime/EndTime",
        window_columns={"ebay_messages": "receive_date"},
        cron="*/15 * * * *",
        max_lag=timedelta(hours=1),
    ),
    FamilySpec(
        name="buyer",
        tables=("ebay_buyer",),
        description="Purchases (won items of the last 60 days) from Trading GetMyeBayBuying.",
        ebay_calls=("GetMyeBayBuying",),
        fetch=_buyer,
        first_backfill_days=30,
        **SNAPSHOT_CADENCE,
    ),
    FamilySpec(
        name="inquiries",
        tables=("ebay_inquiries",),
        description="Post-Order inquiries by creation date, with details where the summary lacks fields.",
        ebay_calls=("searchInquiries", "getInquiry"),
        fetch=_inquiries,
        window_filter="inquiry_creation_date_range",
        window_columns={"ebay_inquiries": "creation_date"},
    ),
    FamilySpec(
        name="cases",
        tables=("ebay_cases",),
        description="Post-Order cases by creation date, with details where the summary lacks fields.",
        ebay_calls=("searchCases", "getCase"),
        fetch=_cases,
        window_filter="case_creation_date_range",
        window_columns={"ebay_cases": "creation_date"},
    ),
)

FAMILIES_BY_NAME: dict[str, FamilySpec] = {spec.name: spec for spec in FAMILIES}
FAMILY_OF_TABLE: dict[str, FamilySpec] = {table: spec for spec in FAMILIES for table in spec.tables}


def family(name: str) -> FamilySpec:
    """Return the spec of family ``name`` or raise a clear error listing the known ones."""
    try:
        return FAMILIES_BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown api family {name!r}; known: {', '.join(FAMILIES_BY_NAME)}") from None
