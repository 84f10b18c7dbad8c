"""The store layer: monotonic batched upserts, atomic partition writes, compatibility mirrors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa

from ebay_pipelines.store import mirrors
from ebay_pipelines.store.partition_writer import RowPage, SnapshotScope, write_partition
from ebay_pipelines.store.staging import upsert_rows
from ebay_pipelines.store.tables import ebay_inventory, ebay_orders
from ebay_pipelines.store.upsert import RowShapeError

T0 = datetime(2026, 10, 1, 12, tzinfo=UTC)


def order(order_id: str, modified: datetime, total: str = "10.00", account: str = "acct-1", **extra) -> dict:
    row = {
        "ebay_account_id": account,
        "order_id": order_id,
        "last_modified_date": modified,
        "total_value": Decimal(total),
        "currency": "USD",
        "raw": {"orderId": order_id, "lastModifiedDate": modified.isoformat(), "total": total, **extra},
        "source_updated_at": modified,
    }
    return row


def stored(engine: sa.Engine) -> dict[str, tuple]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(ebay_orders.c.order_id, ebay_orders.c.total_value, ebay_orders.c.source_updated_at)
        ).all()
    return {r.order_id: (r.total_value, r.source_updated_at) for r in rows}


def test_upsert_is_idempotent_and_monotonic(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        first = upsert_rows(conn, ebay_orders, [order("o1", T0), order("o2", T0)])
    assert (first.inserted, first.updated, first.unchanged) == (2, 0, 0)

    with engine.begin() as conn:
        again = upsert_rows(conn, ebay_orders, [order("o1", T0), order("o2", T0)])
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)

    newer = T0 + timedelta(hours=1)
    with engine.begin() as conn:
        changed = upsert_rows(conn, ebay_orders, [order("o1", newer, "12.50"), order("o2", T0)])
    assert (changed.inserted, changed.updated, changed.unchanged) == (0, 1, 1)

    with engine.begin() as conn:
        older = upsert_rows(conn, ebay_orders, [order("o1", T0, "9.99")])
    assert (older.inserted, older.updated, older.unchanged) == (0, 0, 1)
    assert stored(engine)["o1"] == (Decimal("12.50"), newer)


def test_duplicate_keys_in_one_batch_keep_the_newest(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        counts = upsert_rows(conn, ebay_orders, [order("o1", T0 + timedelta(hours=2), "3.00"), order("o1", T0, "1.00")])
    assert counts.inserted == 1
    assert stored(engine)["o1"][0] == Decimal("3.00")


def test_same_key_in_two_accounts_are_two_rows(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        upsert_rows(conn, ebay_orders, [order("o1", T0, account="a"), order("o1", T0, account="b")])
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(ebay_orders)).scalar() == 2


def test_rows_with_unknown_columns_are_refused(engine: sa.Engine) -> None:
    bad = order("o1", T0)
    bad["surprise"] = 1
    with engine.begin() as conn, pytest.raises(RowShapeError, match="surprise"):
        upsert_rows(conn, ebay_orders, [bad])


def _start(engine: sa.Engine, account: str = "acct-1", family: str = "orders") -> mirrors.RunHandle:
    return mirrors.start_run(engine, account, family, "dagster-run-1", f"{account}|2026-10-01", {"window_from": "x"})


def _run_row(engine: sa.Engine, run: mirrors.RunHandle):
    with engine.connect() as conn:
        return conn.execute(sa.text("select * from ebay_worker_run where id = :id"), {"id": run.run_id}).one()


def _state(engine: sa.Engine, account: str = "acct-1", family: str = "orders"):
    with engine.connect() as conn:
        return conn.execute(
            sa.text("select * from ebay_sync_state where ebay_account_id = :a and api_family = :f"),
            {"a": account, "f": family},
        ).one()


def _events(engine: sa.Engine, run: mirrors.RunHandle) -> list[str]:
    with engine.connect() as conn:
        return [
            r.event_type
            for r in conn.execute(
                sa.text("select event_type from ebay_api_worker_log where run_id = :id order by id"), {"id": run.run_id}
            )
        ]


def test_partition_write_commits_rows_cursor_and_run_together(engine: sa.Engine) -> None:
    run = _start(engine)
    pages = [
        RowPage({"ebay_orders": [order("o1", T0), order("o2", T0)]}, 2),
        RowPage({"ebay_orders": [order("o3", T0)]}, 1),
    ]
    cursor = T0 + timedelta(hours=12)
    result = write_partition(
        engine,
        iter(pages),
        run=run,
        summary={"window_from": "a", "window_to": "b"},
        cursor_value=cursor,
        batch_rows=2,
        api_calls=lambda: 3,
    )
    assert result.fetched == 3 and result.pages == 2
    assert result.counts.for_table("ebay_orders").inserted == 3
    row = _run_row(engine, run)
    assert row.status == "completed" and row.finished_at is not None
    assert row.summary_json["total_fetched"] == 3 and row.summary_json["total_stored"] == 3
    assert row.summary_json["api_calls"] == 3 and row.summary_json["window_to"] == "b"
    state = _state(engine)
    assert datetime.fromisoformat(state.cursor_value) == cursor and state.last_error is None
    assert _events(engine, run) == ["start", "page", "page", "done"]

    # A later run over an older window never moves the cursor backwards.
    run2 = _start(engine)
    write_partition(engine, iter([]), run=run2, summary={}, cursor_value=cursor - timedelta(days=3))
    assert datetime.fromisoformat(_state(engine).cursor_value) == cursor


def test_failure_halfway_writes_nothing_and_keeps_the_cursor(engine: sa.Engine) -> None:
    good = _start(engine)
    write_partition(engine, iter([]), run=good, summary={}, cursor_value=T0)

    def pages():
        yield RowPage({"ebay_orders": [order("o1", T0)]}, 1)
        raise ConnectionError("eBay went away\nwith a second line")

    run = _start(engine)
    with pytest.raises(ConnectionError):
        write_partition(engine, pages(), run=run, summary={"window_from": "a"}, cursor_value=T0 + timedelta(days=1))
    assert stored(engine) == {}
    row = _run_row(engine, run)
    assert row.status == "error" and "eBay went away with a second line" in row.error_message
    state = _state(engine)
    assert datetime.fromisoformat(state.cursor_value) == T0
    assert state.last_error == "ConnectionError: eBay went away with a second line"
    assert _events(engine, run) == ["start", "page", "error"]


def test_second_running_run_is_refused_with_a_clear_error(engine: sa.Engine) -> None:
    first = _start(engine)
    with pytest.raises(
        mirrors.RunAlreadyRunning, match=f"account acct-1 family orders: another run \\({first.run_id}\\)"
    ):
        _start(engine)
    _start(engine, family="finances")  # other families are independent


def test_snapshot_removes_rows_it_did_not_see(engine: sa.Engine) -> None:
    def item(sku: str) -> dict:
        return {"ebay_account_id": "acct-1", "sku": sku, "title": sku, "raw": {"sku": sku}, "source_updated_at": T0}

    with engine.begin() as conn:
        upsert_rows(conn, ebay_inventory, [item("A"), item("B"), item("C")])
        upsert_rows(conn, ebay_inventory, [{**item("A"), "ebay_account_id": "other"}])
    result = write_partition(
        engine,
        iter([RowPage({"ebay_inventory": [item("A"), item("C")]}, 2)]),
        run=None,
        summary={},
        snapshot=SnapshotScope("acct-1", ("ebay_inventory",)),
    )
    assert result.deleted == {"ebay_inventory": 1}
    with engine.connect() as conn:
        left = conn.execute(
            sa.select(ebay_inventory.c.ebay_account_id, ebay_inventory.c.sku).order_by("ebay_account_id", "sku")
        ).all()
    assert [tuple(r) for r in left] == [("acct-1", "A"), ("acct-1", "C"), ("other", "A")]


def test_stale_running_rows_are_closed(engine: sa.Engine) -> None:
    run = _start(engine)
    assert mirrors.close_stale_runs(engine, timedelta(minutes=30)) == 0
    closed = mirrors.close_stale_runs(engine, timedelta(minutes=30), now=datetime.now(UTC) + timedelta(hours=1))
    assert closed == 1
    row = _run_row(engine, run)
    assert row.status == "error" and "stale-run sweep" in row.error_message
    assert "stale-run sweep" in _state(engine).last_error


def test_switches(engine: sa.Engine) -> None:
    from ebay_pipelines.store.accounts import set_workers_enabled

    with engine.begin() as conn:
        mirrors.ensure_sync_state(conn, "acct-1", "orders")
    with engine.connect() as conn:
        assert mirrors.sync_allowed(conn, "acct-1", "orders") == (True, None)
    mirrors.set_family_enabled(engine, "acct-1", "orders", False)
    with engine.connect() as conn:
        allowed, reason = mirrors.sync_allowed(conn, "acct-1", "orders")
    assert not allowed and "disabled for account acct-1" in reason
    mirrors.set_family_enabled(engine, "acct-1", "orders", True)
    set_workers_enabled(engine, False)
    with engine.connect() as conn:
        allowed, reason = mirrors.sync_allowed(conn, "acct-1", "orders")
    assert not allowed and "disabled globally" in reason


AWKWARD_TEXTS = [
    "tab\there",
    "line\nbreak",
    "carriage\rreturn",
    "back\\slash",
    "\\N",
    "",
    "\\",
    "quote \" and ' both",
    "ends with backslash\\",
    "unicode ✓ café",
    "comma, semicolon; pipe |",
]


def _message(message_id: str, body: str, modified: datetime, **flags) -> dict:
    return {
        "ebay_account_id": "acct-1",
        "message_id": message_id,
        "subject": body,
        "body": body,
        "is_read": flags.get("is_read"),
        "flagged": flags.get("flagged", False),
        "receive_date": modified,
        "raw": {"Text": body, "nested": {"list": [body, None, 1.5, True]}},
        "source_updated_at": modified,
    }


def test_awkward_text_booleans_and_json_round_trip_through_both_copy_paths(engine: sa.Engine) -> None:
    from ebay_pipelines.store.tables import ebay_messages

    def read() -> dict[str, tuple]:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    ebay_messages.c.message_id,
                    ebay_messages.c.body,
                    ebay_messages.c.subject,
                    ebay_messages.c.is_read,
                    ebay_messages.c.flagged,
                    ebay_messages.c.raw,
                )
            ).all()
        return {r.message_id: tuple(r[1:]) for r in rows}

    # New keys are copied straight into the table.
    first = [_message(f"m{i}", text, T0, is_read=True) for i, text in enumerate(AWKWARD_TEXTS)]
    with engine.begin() as conn:
        assert upsert_rows(conn, ebay_messages, first).inserted == len(AWKWARD_TEXTS)
    assert read() == {r["message_id"]: (r["body"], r["body"], True, False, r["raw"]) for r in first}

    # Stored keys go through the staging table and the guarded merge.
    later = T0 + timedelta(hours=1)
    second = [
        _message(f"m{i}", text + "\t\\N\n", later, is_read=None, flagged=True) for i, text in enumerate(AWKWARD_TEXTS)
    ]
    with engine.begin() as conn:
        counts = upsert_rows(conn, ebay_messages, second)
    assert (counts.inserted, counts.updated) == (0, len(AWKWARD_TEXTS))
    assert read() == {r["message_id"]: (r["body"], r["body"], None, True, r["raw"]) for r in second}


def test_timestamps_of_any_offset_and_json_keys_of_any_type_round_trip(engine: sa.Engine) -> None:
    stamps = [
        T0,
        T0.replace(microsecond=123456),
        datetime(2026, 10, 1, 14, 30, 15, 5, tzinfo=timezone(timedelta(hours=2))),
        datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC),
    ]
    rows = [order(f"o{i}", stamp) for i, stamp in enumerate(stamps)]
    rows[0]["raw"] = {1: "an integer key", "nested": {2.5: "a float key", "amount": Decimal("0.10")}}
    with engine.begin() as conn:
        assert upsert_rows(conn, ebay_orders, rows).inserted == len(stamps)
    assert {key: modified for key, (_, modified) in stored(engine).items()} == {
        f"o{i}": stamp for i, stamp in enumerate(stamps)
    }
    with engine.connect() as conn:
        raw = conn.execute(sa.select(ebay_orders.c.raw).where(ebay_orders.c.order_id == "o0")).scalar_one()
    assert raw == {"1": "an integer key", "nested": {"2.5": "a float key", "amount": "0.10"}}


def test_writes_freeze_the_existing_heap_until_the_last_one_ends() -> None:
    import gc

    from ebay_pipelines.store.gc_scope import existing_objects_frozen

    assert gc.get_freeze_count() == 0
    with existing_objects_frozen():
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with pytest.raises(RuntimeError), existing_objects_frozen():
            raise RuntimeError("a failing concurrent write")
        assert gc.get_freeze_count() == frozen  # still frozen: the outer write is running
    assert gc.get_freeze_count() == 0
