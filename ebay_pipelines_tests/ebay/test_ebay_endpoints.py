"""Endpoint specs hold together, and the family table derives its names from them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ebay_pipelines.ebay import finances, fulfillment, postorder
from ebay_pipelines.ebay.endpoints import DetailSpec, DetailWhen, EndpointSpec, Pagination, WindowSpec
from ebay_pipelines.store.tables import metadata
from ebay_pipelines.sync.families import DATA_TABLES, FAMILIES, FetchContext, Source, StoredAs, family, row_page

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)


def test_window_params_and_labels() -> None:
    since, until = NOW - timedelta(days=1), NOW
    assert fulfillment.ORDERS.window is not None and fulfillment.DISPUTES.window is not None
    assert fulfillment.ORDERS.window.params(since, until) == [
        ("filter", "lastmodifieddate:[2026-10-31T12:00:00.000Z..2026-11-01T12:00:00.000Z]")
    ]
    assert fulfillment.DISPUTES.window.params(since, until) == [
        ("open_date_from", "2026-10-31T12:00:00.000Z"),
        ("open_date_to", "2026-11-01T12:00:00.000Z"),
    ]
    assert fulfillment.ORDERS.window.label == "lastmodifieddate:[from..to]"
    assert fulfillment.DISPUTES.window.label == "open_date_from/open_date_to"
    assert "90 days" in fulfillment.DISPUTES.window.limits


@pytest.mark.parametrize(
    "window",
    [{}, {"filter": "transactionDate"}, {"filter": "d:[{from}..{to}]", "start_param": "a", "end_param": "b"}],
)
def test_a_window_is_a_filter_template_or_a_parameter_pair(window: dict) -> None:
    with pytest.raises(ValueError):
        WindowSpec(**window)


def test_inconsistent_endpoint_specs_are_refused() -> None:
    rest = {"call": "getX", "pagination": Pagination.REST, "page_size": 10, "paging_note": "n"}
    with pytest.raises(ValueError, match="unknown API"):
        EndpointSpec(api="nowhere", path="/x", items_key="x", **rest)
    with pytest.raises(ValueError, match="a REST list needs"):
        EndpointSpec(api="inventory", path="/x", **rest)
    with pytest.raises(ValueError, match="a Trading list needs"):
        EndpointSpec(api="trading", call="GetX", pagination=Pagination.REST, page_size=10, paging_note="n")
    with pytest.raises(ValueError, match="a REST detail needs a path with"):
        EndpointSpec(
            api="inventory", path="/x", items_key="x", detail=DetailSpec(call="getY", id_field="id", path="/y"), **rest
        )
    with pytest.raises(ValueError, match="WHEN_LACKING needs"):
        DetailSpec(call="getY", id_field="id", when=DetailWhen.WHEN_LACKING, path="/y/{id}")


def test_detail_predicates_read_the_summary() -> None:
    returns, cases = postorder.RETURNS.detail, postorder.CASES.detail
    assert returns is not None and cases is not None
    refunded = {"sellerTotalRefund": {"actualRefundAmount": {"value": "1.00"}}}
    assert not returns.needed({"returnId": "1"})
    assert returns.needed({"returnId": "1", **refunded})
    # ActualRefundDetailType: refundIssuedDate sits beside actualRefund, in getReturn's detail container.
    issued = {"actualRefundDetail": {"refundIssuedDate": {"value": "2026-10-01T00:00:00.000Z"}}}
    inside = {"actualRefundDetail": {"actualRefund": {"refundIssuedDate": {"value": "2026-10-01T00:00:00.000Z"}}}}
    assert not returns.needed({"returnId": "1", **refunded, "detail": {"refundInfo": issued}})
    assert returns.needed({"returnId": "1", **refunded, "detail": {"refundInfo": inside}})
    # CaseSummaryType lacks caseType; no eBay case type carries an orderId to wait for.
    assert cases.needed({"caseId": "1"}) and not cases.needed({"caseType": "RETURN"})
    assert postorder.INQUIRIES.detail is None
    assert fulfillment.DISPUTES.detail is not None and fulfillment.DISPUTES.detail.needed({})


def test_family_calls_windows_and_tables_derive_from_the_endpoint_specs() -> None:
    assert family("refunds").ebay_calls == ("getTransactions", "searchReturns", "getReturn")
    assert family("messages").ebay_calls == ("GetMyMessages",)
    assert family("offers").ebay_calls == ("getInventoryItems", "getOffers")
    assert family("orders").window_filter == "lastmodifieddate:[from..to]"
    assert family("inventory").window_filter is None and not family("inventory").windowed
    for spec in FAMILIES:
        assert spec.endpoints and all(e.paging_note for e in spec.endpoints), spec.name
        # A window family says which column each of its tables is windowed by; a snapshot has none.
        assert (set(spec.window_columns) == set(spec.tables)) == spec.windowed, spec.name
    assert list(DATA_TABLES) == [table for spec in FAMILIES for table in spec.tables]
    assert all(DATA_TABLES[name] is metadata.tables[name] for name in DATA_TABLES)


def _context() -> FetchContext:
    return FetchContext("acct-1", None, rest=None, trading=None, fetched_at=NOW)  # type: ignore[arg-type]


def test_row_pages_hold_every_table_of_the_family() -> None:
    orders = family("orders")
    [source] = orders.sources
    order = {"orderId": "1", "creationDate": "2026-10-01T00:00:00.000Z", "lineItems": []}
    page = row_page(orders, source, _context(), [order])
    assert page.fetched == 1 and set(page.rows) == set(orders.tables)
    assert [r["order_id"] for r in page.rows["ebay_orders"]] == ["1"] and page.rows["order_line_items"] == []


def test_row_pages_refuse_rows_of_another_familys_table() -> None:
    stray = Source(finances.TRANSACTIONS, lambda account, record, fetched_at: {"ebay_orders": [{}]})
    with pytest.raises(ValueError, match="gave rows of ebay_orders"):
        row_page(family("transactions"), stray, _context(), [{}])


def test_stored_records_only_help_endpoints_with_a_detail_call() -> None:
    with pytest.raises(ValueError, match="getOrders has no detail call"):
        Source(fulfillment.ORDERS, lambda account, record, fetched_at: {}, StoredAs("ebay_orders", "order_id"))
