"""The one table of api-family specs that drives assets, schedules and the compatibility mirrors.

Each family points at the endpoint specs of the eBay calls it makes (``ebay_pipelines.ebay``'s
API modules declare them), with a row function per endpoint turning one record into rows of the
family's tables, plus its window rules and cadence. One generic fetch pages every endpoint through
the paging engine and turns each page into a row page; refunds and offers, whose flows are
special, keep a small fetch of their own. Everything else names a family needs (calls, windows,
data tables) is derived from here. Nothing here knows Dagster; nothing here writes to the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table

from ebay_pipelines.ebay import buying, finances, fulfillment, inventory, messages, paging, postorder, selling
from ebay_pipelines.ebay.endpoints import EndpointSpec
from ebay_pipelines.ebay.rest import EbayRestClient
from ebay_pipelines.ebay.trading import TradingClient
from ebay_pipelines.ebay.walk import WalkReport
from ebay_pipelines.store.partition_writer import RowPage
from ebay_pipelines.store.tables import metadata
from ebay_pipelines.sync import problems
from ebay_pipelines.sync.lifecycle import Refresh, StillOpen
from ebay_pipelines.sync.windows import Window

StoredLookup = Callable[[str, str, list[str]], Mapping[str, dict]]
#: ``(family, table, time column, {column: value}, start, end, covered_until) -> raws or None``.
CoveredLookup = Callable[[str, str, str, Mapping[str, str], datetime, datetime, datetime], list[dict] | None]
#: ``(account_id, record, fetched_at) -> {table: rows}``: the rows one eBay record gives.
RowFunction = Callable[[str, dict[str, Any], datetime], Mapping[str, list[dict[str, Any]]]]


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
    #: Whether every page walk of the fetch was proven complete (a snapshot prunes only then).
    walks: WalkReport = field(default_factory=WalkReport)
    #: Facts the fetch learned for the run's summary, e.g. ``inventory_api_items`` (Inventory API items seen).
    notes: dict[str, Any] = field(default_factory=dict)
    #: The partition's own window when a refresh of open records extends ``window``: sources
    #: holding no open records read only this (None: every source reads ``window``).
    own_window: Window | None = None

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


@dataclass(frozen=True)
class StoredAs:
    """Where a family stores an endpoint's records (stored key = ``prefix`` + eBay id).

    The paging engine reads them back to skip the detail call of a record whose summary is unchanged.
    """

    table: str
    key_column: str
    prefix: str = ""


@dataclass(frozen=True)
class Source:
    """One endpoint a family reads, and the rows each of its records gives (None: walked, not stored)."""

    endpoint: EndpointSpec
    rows: RowFunction | None
    stored_as: StoredAs | None = None

    def __post_init__(self) -> None:
        if self.stored_as is not None and self.endpoint.detail is None:
            raise ValueError(f"{self.endpoint.call} has no detail call a stored record could save")


Fetch = Callable[["FamilySpec", FetchContext], Iterator[RowPage]]


@dataclass(frozen=True)
class FamilySpec:
    """How one api family syncs: its endpoints and rows, tables, window, cadence and freshness."""

    name: str
    tables: tuple[str, ...]
    description: str
    sources: tuple[Source, ...]
    window_columns: dict[str, str] = field(default_factory=dict)
    overlap: timedelta = timedelta(minutes=60)
    first_backfill_days: int = 90
    cron: str = "0 * * * *"
    max_lag: timedelta = timedelta(hours=3)
    prune_missing: bool = False
    upstream: tuple[str, ...] = ()
    #: How stored records stay current when the filter date never moves (None: the filter follows changes).
    refresh: Refresh | None = None
    #: A family's own flow over its sources (None: every source paged in turn, see :func:`fetch_sources`).
    custom_fetch: Fetch | None = None

    @property
    def endpoints(self) -> tuple[EndpointSpec, ...]:
        """The endpoint specs of the eBay calls this family makes."""
        return tuple(source.endpoint for source in self.sources)

    @property
    def ebay_calls(self) -> tuple[str, ...]:
        """eBay's names of every call this family makes (list calls and their detail calls)."""
        return tuple(dict.fromkeys(call for endpoint in self.endpoints for call in endpoint.calls))

    @property
    def windowed(self) -> bool:
        """Whether the family syncs day windows (its endpoints search by date) rather than snapshots."""
        return any(endpoint.window is not None for endpoint in self.endpoints)

    @property
    def window_filter(self) -> str | None:
        """How the window reaches eBay, e.g. ``lastmodifieddate:[from..to]`` (None: a snapshot)."""
        labels = [endpoint.window.label for endpoint in self.endpoints if endpoint.window is not None]
        return " / ".join(dict.fromkeys(labels)) or None

    def fetch(self, ctx: FetchContext) -> Iterator[RowPage]:
        """Fetch the partition ``ctx`` describes as row pages of this family's tables."""
        if self.custom_fetch is not None:
            return self.custom_fetch(self, ctx)
        return fetch_sources(self, ctx)


# ------------------------------------------------------------------------------------------------
# Fetching: endpoint pages -> row pages
# ------------------------------------------------------------------------------------------------


def fetch_sources(spec: FamilySpec, ctx: FetchContext) -> Iterator[RowPage]:
    """Page every source of ``spec`` in turn, one row page per page of records."""
    for source in spec.sources:
        yield from source_pages(spec, source, ctx)


def source_pages(spec: FamilySpec, source: Source, ctx: FetchContext) -> Iterator[RowPage]:
    """Page one source through the engine (in the partition's window when it searches by date)."""
    endpoint = source.endpoint
    stored_as = source.stored_as
    known = None if stored_as is None else ctx.known(stored_as.table, stored_as.key_column, stored_as.prefix)
    windowed = endpoint.window is not None
    for page in paging.pages(
        endpoint,
        rest=ctx.rest,
        trading=ctx.trading,
        since=ctx.since if windowed else None,
        until=ctx.until if windowed else None,
        known=known,
        now=ctx.fetched_at,
        report=ctx.walks,
    ):
        yield row_page(spec, source, ctx, page)


def row_page(spec: FamilySpec, source: Source, ctx: FetchContext, records: list[dict[str, Any]]) -> RowPage:
    """The row page of one page of records: every table of the family, with the rows the records give."""
    if source.rows is None:
        raise ValueError(f"family {spec.name}: {source.endpoint.call} records give no rows")
    rows: dict[str, list[dict[str, Any]]] = {table: [] for table in spec.tables}
    for record in records:
        for table, table_rows in source.rows(ctx.account_id, record, ctx.fetched_at).items():
            if table not in rows:
                raise ValueError(f"family {spec.name}: {source.endpoint.call} gave rows of {table}, not its table")
            rows[table].extend(table_rows)
    return RowPage(rows=rows, fetched=len(records))


def _refunds(spec: FamilySpec, ctx: FetchContext) -> Iterator[RowPage]:
    finance, returns = spec.sources
    # REFUND transactions: what the finances family stored, when one of its runs covered this
    # window up to its last overlap (a later one is read by the next window, which overlaps it);
    # otherwise a getTransactions call of their own.
    # Only returns can be open problems: a refresh of open records leaves the finance part in the
    # partition's own window (finance refunds settle like every transaction, in the daily refresh).
    fin = ctx if ctx.own_window is None else replace(ctx, window=ctx.own_window, own_window=None)
    upstream = spec.upstream[0]
    owner = FAMILY_OF_TABLE[upstream]
    stored = (
        None
        if fin.covered is None
        else fin.covered(
            owner.name,
            upstream,
            owner.window_columns[upstream],
            {"transaction_type": "REFUND"},
            fin.since,
            fin.until,
            fin.until - spec.overlap,
        )
    )
    if stored is not None:
        yield row_page(spec, finance, fin, stored)
    else:
        yield from source_pages(spec, finance, fin)
    yield from source_pages(spec, returns, ctx)


#: ``FetchContext.notes`` key: how many Inventory API items the fetch saw (see ``store.coverage``).
INVENTORY_API_ITEMS = "inventory_api_items"


def _offers(spec: FamilySpec, ctx: FetchContext) -> Iterator[RowPage]:
    items, offers = spec.sources
    seen = 0
    for page in paging.pages(items.endpoint, rest=ctx.rest, report=ctx.walks):
        skus = inventory.skus_of(page, ctx.account_id)
        seen += len(skus)
        # A SKU eBay refuses (400 25709) lands in ctx.walks: its offers are kept, not pruned.
        for found in paging.pages_per_value(offers.endpoint, ctx.rest, "sku", skus, report=ctx.walks):
            yield row_page(spec, offers, ctx, found)
    ctx.notes[INVENTORY_API_ITEMS] = seen


def _inventory(spec: FamilySpec, ctx: FetchContext) -> Iterator[RowPage]:
    seen = 0
    for page in fetch_sources(spec, ctx):
        seen += page.fetched
        yield page
    ctx.notes[INVENTORY_API_ITEMS] = seen


# ------------------------------------------------------------------------------------------------
# Row functions: one eBay record -> rows by table
# ------------------------------------------------------------------------------------------------


def _one(table: str, row: Callable[..., dict[str, Any]], *, timed: bool = True) -> RowFunction:
    """One row of ``table`` per record: ``row(account_id, record[, fetched_at=...])``.

    ``timed=False`` calls ``row`` without ``fetched_at``: its ``source_updated_at`` comes from the
    record, or is the time the row is built.
    """
    if timed:
        return lambda account_id, record, fetched_at: {table: [row(account_id, record, fetched_at=fetched_at)]}
    return lambda account_id, record, fetched_at: {table: [row(account_id, record)]}


def _order_rows(account_id: str, order: dict[str, Any], fetched_at: datetime) -> dict[str, list[dict[str, Any]]]:
    row, line_items = fulfillment.order_and_line_item_rows(account_id, order)
    return {"ebay_orders": [row], "order_line_items": line_items}


def _finance_rows(account_id: str, txn: dict[str, Any], fetched_at: datetime) -> dict[str, list[dict[str, Any]]]:
    return {
        "ebay_finances_transactions": [finances.finance_transaction_row(account_id, txn)],
        "ebay_finances_fees": finances.fee_rows(account_id, txn),
    }


# ------------------------------------------------------------------------------------------------
# The family table
# ------------------------------------------------------------------------------------------------

#: Snapshot families: refreshed every six hours, stale after thirteen.
SNAPSHOT_CADENCE: dict[str, Any] = {"cron": "0 */6 * * *", "max_lag": timedelta(hours=13)}
REFUNDS_OVERLAP = timedelta(minutes=60)

#: Open problems are re-read on every tick (``EBAY_PIPELINES_OPEN_REFRESH_MINUTES``, default 30).
OPEN_PROBLEM_LAG = "one tick for open records (30 minutes by default), 24 hours for the rest"
#: Finances TransactionStatusEnum: FUNDS_PROCESSING, FUNDS_ON_HOLD (eBay holds funds up to 30
#: days), FUNDS_AVAILABLE_FOR_PAYOUT, then PAYOUT; 45 days cover a hold and the payout after it.
FINANCE_REFRESH = Refresh(
    days=45,
    reason="transactionStatus moves FUNDS_PROCESSING -> (FUNDS_ON_HOLD, up to 30 days) -> "
    "FUNDS_AVAILABLE_FOR_PAYOUT -> PAYOUT after the transaction date (Finances TransactionStatusEnum)",
)

#: Finances PayoutStatusEnum: INITIATED, then SUCCEEDED, or RETRYABLE_FAILED (retried), TERMINAL_FAILED
#: or REVERSED (rejected by the seller's bank). Funds clear 1-4 business days after the payout starts
#: (eBay help "How payouts work for managed payments sellers"); a failure or reversal comes later, so 14
#: days cover a retried payout.
PAYOUT_REFRESH = Refresh(
    days=14,
    reason="payoutStatus moves INITIATED -> SUCCEEDED (funds clear 1-4 business days later), or "
    "RETRYABLE_FAILED -> retried, TERMINAL_FAILED, REVERSED after the payout date (Finances PayoutStatusEnum)",
)

FAMILIES: tuple[FamilySpec, ...] = (
    FamilySpec(
        name="orders",
        tables=("ebay_orders", "order_line_items"),
        description="Orders and their line items from the Fulfillment API, windowed by last-modified date "
        "so later payment, shipping and refund changes land.",
        sources=(Source(fulfillment.ORDERS, _order_rows),),
        window_columns={"ebay_orders": "last_modified_date", "order_line_items": "source_updated_at"},
        cron="*/15 * * * *",
        max_lag=timedelta(hours=1),
    ),
    FamilySpec(
        name="transactions",
        tables=("ebay_transactions",),
        description="Finances API transactions in the legacy single-table shape.",
        sources=(
            Source(finances.TRANSACTIONS, _one("ebay_transactions", finances.legacy_transaction_row, timed=False)),
        ),
        window_columns={"ebay_transactions": "transaction_date"},
        refresh=FINANCE_REFRESH,
    ),
    FamilySpec(
        name="finances",
        tables=("ebay_finances_transactions", "ebay_finances_fees"),
        description="Finances API transactions with their marketplace fees in a separate table.",
        sources=(Source(finances.TRANSACTIONS, _finance_rows),),
        window_columns={"ebay_finances_transactions": "transaction_date", "ebay_finances_fees": "transaction_date"},
        refresh=FINANCE_REFRESH,
    ),
    FamilySpec(
        name="payouts",
        tables=("ebay_payouts",),
        description="Seller payouts from the Finances API by payout date: status, amount, instrument and the "
        "number of transactions each pays out.",
        sources=(Source(finances.PAYOUTS, _one("ebay_payouts", finances.payout_row)),),
        window_columns={"ebay_payouts": "payout_date"},
        refresh=PAYOUT_REFRESH,
    ),
    FamilySpec(
        name="refunds",
        tables=("ebay_refunds",),
        description="Refunds from REFUND finance transactions (read from ebay_finances_transactions when the "
        "finances family already synced the window) and from Post-Order returns.",
        sources=(
            Source(
                finances.REFUND_TRANSACTIONS,
                _one("ebay_refunds", finances.refund_row_from_transaction, timed=False),
            ),
            Source(
                postorder.RETURNS,
                _one("ebay_refunds", postorder.return_refund_row, timed=False),
                StoredAs("ebay_refunds", "refund_id", "RET-"),
            ),
        ),
        window_columns={"ebay_refunds": "refund_date"},
        overlap=REFUNDS_OVERLAP,
        cron="*/30 * * * *",
        refresh=Refresh(
            days=60,
            # A return's search date is its creation (ReturnSummaryType creationInfo.creationDate).
            still_open=(
                StillOpen(
                    "ebay_refunds",
                    "refund_status",
                    problems.RETURN_CLOSED,
                    date_path=tuple(problems.RULES.return_opened_at),
                    where=(("refund_source", "return"),),
                ),
            ),
            reason="returns move RETURN_REQUESTED -> ITEM_SHIPPED -> CLOSED (refunded) for weeks after creation; "
            "finance refunds settle like every finance transaction",
            lag=OPEN_PROBLEM_LAG,
        ),
        upstream=("ebay_finances_transactions",),
        custom_fetch=_refunds,
    ),
    FamilySpec(
        name="disputes",
        tables=("ebay_disputes",),
        description="Payment disputes: summaries by open date, then each dispute's detail.",
        sources=(
            Source(
                fulfillment.DISPUTES,
                _one("ebay_disputes", fulfillment.dispute_row),
                StoredAs("ebay_disputes", "payment_dispute_id"),
            ),
        ),
        window_columns={"ebay_disputes": "open_date"},
        cron="*/30 * * * *",
        refresh=Refresh(
            days=88,
            still_open=(
                StillOpen("ebay_disputes", "payment_dispute_status", problems.DISPUTE_CLOSED, date_column="open_date"),
            ),
            reason="payment disputes move OPEN -> ACTION_NEEDED -> CLOSED with an outcome for weeks after opening "
            "(Fulfillment DisputeStateEnum); 88 days, today and the overlap fit the longest open-date window eBay "
            "accepts (90 days), so a sweep is one search",
            lag=OPEN_PROBLEM_LAG,
        ),
    ),
    FamilySpec(
        name="offers",
        tables=("ebay_offers",),
        description="Snapshot of every offer, found by walking inventory items and asking for each SKU's offers.",
        sources=(
            Source(inventory.INVENTORY_ITEMS, None),
            Source(inventory.OFFERS, _one("ebay_offers", inventory.offer_row)),
        ),
        **SNAPSHOT_CADENCE,
        prune_missing=True,
        custom_fetch=_offers,
    ),
    FamilySpec(
        name="inventory",
        tables=("ebay_inventory",),
        description="Snapshot of every inventory item (SKU) from the Inventory API.",
        sources=(Source(inventory.INVENTORY_ITEMS, _one("ebay_inventory", inventory.inventory_row)),),
        **SNAPSHOT_CADENCE,
        prune_missing=True,
        custom_fetch=_inventory,
    ),
    FamilySpec(
        name="active_inventory",
        tables=("ebay_active_inventory",),
        description="Snapshot of active listings from Trading GetMyeBaySelling (ActiveList).",
        sources=(Source(selling.ACTIVE_LISTINGS, _one("ebay_active_inventory", selling.active_listing_row)),),
        **SNAPSHOT_CADENCE,
        prune_missing=True,
    ),
    FamilySpec(
        name="messages",
        tables=("ebay_messages",),
        description="Member messages from Trading GetMyMessages: headers for the window, then bodies 10 at a time.",
        sources=(
            Source(
                messages.MESSAGES,
                _one("ebay_messages", messages.message_row),
                StoredAs("ebay_messages", "message_id"),
            ),
        ),
        window_columns={"ebay_messages": "receive_date"},
        cron="*/15 * * * *",
        max_lag=timedelta(hours=1),
        refresh=Refresh(
            days=90,
            reason="Read, Flagged and Replied change without a timestamp after the receive date "
            "(MyMessagesMessageType); bodies never change, so a re-read costs header pages only",
        ),
    ),
    FamilySpec(
        name="buyer",
        tables=("ebay_buyer",),
        description="Purchases (won items of the last 60 days) from Trading GetMyeBayBuying.",
        sources=(Source(buying.PURCHASES, _one("ebay_buyer", buying.purchase_row)),),
        first_backfill_days=30,
        **SNAPSHOT_CADENCE,
    ),
    FamilySpec(
        name="inquiries",
        tables=("ebay_inquiries",),
        description="Post-Order inquiries by creation date (summaries hold every column: no detail calls); "
        "order_id is linked through the line item in the store.",
        sources=(Source(postorder.INQUIRIES, _one("ebay_inquiries", postorder.inquiry_row, timed=False)),),
        window_columns={"ebay_inquiries": "creation_date"},
        cron="*/30 * * * *",
        refresh=Refresh(
            days=60,
            still_open=(
                StillOpen("ebay_inquiries", "inquiry_status", problems.INQUIRY_CLOSED, date_column="creation_date"),
            ),
            reason="inquiries move OPEN -> WAITING_BUYER_RESPONSE -> CLOSED or CLOSED_WITH_ESCALATION for days "
            "after creation (Post-Order InquiryStatusEnum)",
            lag=OPEN_PROBLEM_LAG,
        ),
    ),
    FamilySpec(
        name="cases",
        tables=("ebay_cases",),
        description="Post-Order cases by creation date, with each case's detail once for its case type; "
        "order_id is linked through the line item in the store.",
        sources=(
            Source(
                postorder.CASES,
                _one("ebay_cases", postorder.case_row, timed=False),
                StoredAs("ebay_cases", "case_id"),
            ),
        ),
        window_columns={"ebay_cases": "creation_date"},
        cron="*/30 * * * *",
        refresh=Refresh(
            days=60,
            still_open=(StillOpen("ebay_cases", "case_status", problems.CASE_CLOSED, date_column="creation_date"),),
            reason="cases move OPEN -> WAITING_CS -> CLOSED for days after creation, and can be appealed after "
            "closing (Post-Order CaseStatusEnum)",
            lag=OPEN_PROBLEM_LAG,
        ),
    ),
)

FAMILIES_BY_NAME: dict[str, FamilySpec] = {spec.name: spec for spec in FAMILIES}
FAMILY_OF_TABLE: dict[str, FamilySpec] = {table: spec for spec in FAMILIES for table in spec.tables}
#: The eBay data tables, in family order: every table a family fills.
DATA_TABLES: dict[str, Table] = {table: metadata.tables[table] for spec in FAMILIES for table in spec.tables}


def family(name: str) -> FamilySpec:
    """Return the spec of family ``name`` or raise a clear error listing the known ones."""
    try:
        return FAMILIES_BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown api family {name!r}; known: {', '.join(FAMILIES_BY_NAME)}") from None
