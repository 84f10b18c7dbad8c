"""Pipelined staging: pages are fetched and rendered in a thread, a bounded number ahead of the COPY.

What the pipeline must keep (design.md §4): the result does not depend on the order pages arrive
in; a failure on either side stops both and surfaces as the original error, with nothing merged and
no staging table left; at most ``prefetch_pages`` rendered pages wait between the two threads; page
events stay exact.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import psycopg2
import pytest
import sqlalchemy as sa
from tests_support import register_account

from ebay_pipelines.ebay.errors import PayloadError
from ebay_pipelines.simulator.faults import FaultRule
from ebay_pipelines.store import mirrors, partition_writer
from ebay_pipelines.store.partition_writer import RowPage, stage_partition, write_partition
from ebay_pipelines.sync import partition_sync
from ebay_pipelines.sync.families import FAMILIES_BY_NAME

T0 = datetime(2026, 10, 1, 12, tzinfo=UTC)
ACCOUNT = "acct-1"


def _order(order_id: str, modified: datetime, total: str) -> dict:
    return {
        "ebay_account_id": ACCOUNT,
        "order_id": order_id,
        "last_modified_date": modified,
        "total_value": Decimal(total),
        "currency": "USD",
        "raw": {"orderId": order_id, "total": total},
        "source_updated_at": modified,
    }


def _line(order_id: str, line_id: str, modified: datetime) -> dict:
    return {
        "ebay_account_id": ACCOUNT,
        "line_item_id": line_id,
        "order_id": order_id,
        "quantity": 1,
        "raw": {"lineItemId": line_id},
        "source_updated_at": modified,
    }


def _pages() -> list[RowPage]:
    """Eight pages of two tables; orders o0..o3 appear again, newer, on later pages (a set changing while paged)."""
    pages = []
    for n in range(8):
        version = T0 + timedelta(hours=n)
        orders = [_order(f"o{(n * 3 + i) % 12}", version, f"{n}.{i}0") for i in range(3)]
        lines = [_line(o["order_id"], f"l-{o['order_id']}", version) for o in orders]
        pages.append(RowPage({"ebay_orders": orders, "order_line_items": lines}, 3))
    return pages


def _start(engine: sa.Engine) -> mirrors.RunHandle:
    return mirrors.start_run(engine, ACCOUNT, "orders", "dagster-run", f"{ACCOUNT}|2026-10-01", {})


def _stored(engine: sa.Engine) -> tuple[list[tuple], list[tuple]]:
    with engine.connect() as conn:
        orders = conn.execute(
            sa.text("select order_id, total_value, source_updated_at, raw from ebay_orders order by order_id")
        ).all()
        lines = conn.execute(
            sa.text("select line_item_id, order_id, source_updated_at from order_line_items order by line_item_id")
        ).all()
    return [tuple(r) for r in orders], [tuple(r) for r in lines]


def _reset(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("delete from order_line_items; delete from ebay_orders"))


def _stage_tables(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(sa.text("select tablename from pg_tables where tablename like 'ebay\\_stage\\_%'")).scalars()
        )


def _page_events(engine: sa.Engine, run: mirrors.RunHandle) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select details_json from ebay_api_worker_log where run_id = :r and event_type = 'page' order by id"
            ),
            {"r": run.run_id},
        )
        return [r[0] for r in rows]


def test_the_order_pages_arrive_in_does_not_change_what_is_stored(engine: sa.Engine) -> None:
    pages = _pages()
    results = []
    for order in (pages, pages[::-1], pages[3:] + pages[:3], [pages[i] for i in (5, 0, 7, 2, 6, 1, 4, 3)]):
        _reset(engine)
        run = _start(engine)
        result = write_partition(engine, iter(order), run=run, summary={}, batch_rows=4, prefetch_pages=2)
        assert (result.pages, result.fetched) == (8, 24)
        # Page events stay exact: one per page, numbered in arrival order, with the records it held.
        events = _page_events(engine, run)
        assert [e["page"] for e in events] == list(range(1, 9))
        assert [e["fetched"] for e in events] == [3] * 8
        results.append(_stored(engine))
    assert len(results[0][0]) == 12 and len(results[0][1]) == 12
    # o0..o3's newest versions come from the last pages that held them, whatever the arrival order.
    assert all(r == results[0] for r in results[1:])
    # The same rows written by the calling thread alone (no pipeline).
    _reset(engine)
    write_partition(engine, iter(pages), run=_start(engine), summary={}, batch_rows=4, prefetch_pages=0)
    assert _stored(engine) == results[0]


def test_a_typed_ebay_error_in_the_fetch_thread_surfaces_as_itself_and_merges_nothing(
    ebay_env: str, sim, engine: sa.Engine
) -> None:
    """A backward walk reads page 1, then the last page back to page 2 (design §8); page 2 fails.

    The answer of the wrong shape is not transient (no retry): the client raises PayloadError in the
    fetch thread after two pages were staged and their events written.
    """
    register_account(engine, sim, ACCOUNT)
    now = datetime(2026, 11, 1, 12, tzinfo=UTC)
    sim.faults.add(
        FaultRule(
            kind="body", endpoint="getOrders", body='{"total": 1, "orders": "not a list"}', query={"offset": "200"}
        )
    )
    began = partition_sync.begin(
        engine,
        FAMILIES_BY_NAME["orders"],
        ACCOUNT,
        date(2026, 9, 1),
        last_day=date(2026, 10, 31),
        partition_key=f"{ACCOUNT}|2026-09-01..2026-10-31",
        now=now,
    )
    assert isinstance(began, partition_sync.PartitionSync)
    with pytest.raises(PayloadError, match="getOrders"):
        began.write(engine)
    events = _page_events(engine, began.run)
    assert len(events) >= 2, "the window must span at least three pages for this test to mean anything"
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from ebay_orders")).scalar() == 0
        assert conn.execute(sa.text("select count(*) from order_line_items")).scalar() == 0
        row = conn.execute(sa.text("select status, error_message from ebay_worker_run")).one()
        state = conn.execute(sa.text("select cursor_value, last_error from ebay_sync_state")).one()
    assert row.status == "error" and "PayloadError" in row.error_message
    assert state.cursor_value is None and "PayloadError" in state.last_error
    assert _stage_tables(engine) == []


def test_a_copy_failure_stops_the_fetch_thread_and_surfaces_as_the_drivers_error(engine: sa.Engine) -> None:
    produced = itertools.count()
    closed = threading.Event()

    def pages() -> Iterator[RowPage]:
        try:
            for n in itertools.count():
                next(produced)
                row = _order(f"o{n}", T0, "1.00")
                if n == 3:
                    row["total_value"] = "not a number"  # PostgreSQL refuses it in a numeric column
                yield RowPage({"ebay_orders": [row]}, 1)
        finally:
            closed.set()

    run = _start(engine)
    with pytest.raises(psycopg2.errors.InvalidTextRepresentation):
        stage_partition(engine, pages(), tables=("ebay_orders",), run=run, batch_rows=1, prefetch_pages=2)
    # The endless fetch stopped: its iterator was closed, a bounded number of pages past the failing one.
    assert closed.wait(5)
    assert next(produced) <= 3 + 2 + 2
    assert [e["page"] for e in _page_events(engine, run)] == [1, 2, 3]
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from ebay_orders")).scalar() == 0
        row = conn.execute(
            sa.text("select status, error_message from ebay_worker_run where id = :r"), {"r": run.run_id}
        ).one()
    assert row.status == "error" and "InvalidTextRepresentation" in row.error_message
    assert _stage_tables(engine) == []


@pytest.mark.parametrize("depth", [1, 3])
def test_at_most_prefetch_pages_wait_between_fetch_and_copy(engine: sa.Engine, depth: int) -> None:
    run = _start(engine)
    ahead: list[int] = []

    def pages() -> Iterator[RowPage]:
        for n in range(12):
            # Pages whose rows are committed (their events are written in the same transaction).
            ahead.append(n - len(_page_events(engine, run)))
            yield RowPage({"ebay_orders": [_order(f"o{n}", T0, "1.00")]}, 1)

    staged = stage_partition(engine, pages(), tables=("ebay_orders",), run=run, batch_rows=1, prefetch_pages=depth)
    assert staged.pages == 12 and staged.staged == {"ebay_orders": 12}
    # Before fetching page n: at most ``depth`` rendered pages queued, one being COPYed, one in the
    # fetch thread's hand waiting for room.
    assert max(ahead) <= depth + 2
    assert max(ahead) >= 1, "the fetch never ran ahead: nothing was pipelined"


def test_page_events_commit_while_the_next_page_is_slow_to_come(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Page events commit with the COPY of their rows; when none comes (rows wait for a full batch
    and eBay is slow to answer the next page), within ``EVENTS_COMMIT_SECONDS``, so the UI follows."""
    monkeypatch.setattr(partition_writer, "EVENTS_COMMIT_SECONDS", 0.1)
    run = _start(engine)
    seen_while_waiting: list[list[int]] = []

    def pages() -> Iterator[RowPage]:
        for n in range(3):
            yield RowPage({"ebay_orders": [_order(f"o{n}", T0, "1.00")]}, 1)
            # eBay is slow: wait (up to 5 s) until this page's event is committed, as a reader sees it.
            waited = 0.0
            while len(_page_events(engine, run)) < n + 1 and waited < 5:
                time.sleep(0.05)
                waited += 0.05
            seen_while_waiting.append([e["page"] for e in _page_events(engine, run)])

    staged = stage_partition(engine, pages(), tables=("ebay_orders",), run=run, batch_rows=1000, prefetch_pages=2)
    # No COPY ran before the end (1,000-row batches), yet every page's event was committed while
    # the next page was awaited, and the rows themselves were staged in one COPY at the end.
    assert seen_while_waiting == [[1], [1, 2], [1, 2, 3]]
    assert [e["staged"] for e in _page_events(engine, run)] == [0, 0, 0]
    assert staged.staged == {"ebay_orders": 3}
