"""Window partitions at week and month grain: hand-synced months, narrowed schedule ticks, UI backfills."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, date, datetime

import dagster as dg
import pytest
import sqlalchemy as sa
from tests_support import fast_definitions, register_account
from truth import WINDOW_TRUTH, compare

from ebay_pipelines.defs.partitions import (
    ACCOUNTS_PARTITION,
    grain_advice,
    next_period,
    partition_count,
    period_start,
    window_partitions,
)
from ebay_pipelines.defs.resources import PostgresResource
from ebay_pipelines.defs.schedules import family_schedule_requests
from ebay_pipelines.settings import Settings, SettingsError
from ebay_pipelines.sync.families import FAMILIES_BY_NAME
from ebay_pipelines.sync.windows import Window, day_start

ORDERS = FAMILIES_BY_NAME["orders"]


@pytest.fixture
def month_grain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EBAY_PIPELINES_PARTITION_GRAIN", "month")


def test_grain_setting_and_the_arithmetic(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings.from_env({}).partition_grain == "day"
    assert Settings.from_env({"EBAY_PIPELINES_PARTITION_GRAIN": "Month"}).partition_grain == "month"
    with pytest.raises(SettingsError, match="EBAY_PIPELINES_PARTITION_GRAIN must be one of day, week, month"):
        Settings.from_env({"EBAY_PIPELINES_PARTITION_GRAIN": "hour"})
    start, today = date(2026, 1, 1), date(2027, 12, 31)
    # 1,000 accounts × 24 months = 24,000 partitions per window asset; days would be 730,000.
    assert partition_count(1000, start, today, "month") == 24_000
    assert partition_count(1000, start, today, "day") == 730_000
    assert partition_count(1000, start, today, "week") == 1000 * 105
    advice = grain_advice(1000, start, today, "day")
    assert advice is not None and "EBAY_PIPELINES_PARTITION_GRAIN=month" in advice and "730,000" in advice
    assert grain_advice(1000, start, today, "month") is None
    assert grain_advice(100, start, date(2026, 6, 1), "day") is None
    months = window_partitions(start, "month").get_partitions_def_for_dimension("date")
    keys = months.get_partition_keys(current_time=datetime(2026, 4, 15, tzinfo=UTC))
    assert keys == ["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"]  # the current month is one
    weeks = window_partitions(start, "week").get_partitions_def_for_dimension("date")
    assert weeks.get_partition_keys(current_time=datetime(2026, 1, 14, tzinfo=UTC))[:2] == ["2025-12-29", "2026-01-05"]


def _month_window(first: date, last: date, now: datetime) -> Window:
    return Window(day_start(first) - ORDERS.overlap, min(day_start(next_period("month", last)), now))


def _expected(sim, account: str, window: Window):
    return WINDOW_TRUTH["orders"](sim, account, window)


def _cursor(engine: sa.Engine, account: str) -> datetime | None:
    with engine.connect() as conn:
        value = conn.execute(
            sa.text("select cursor_value from ebay_sync_state where ebay_account_id = :a and api_family = 'orders'"),
            {"a": account},
        ).scalar()
    return None if value is None else datetime.fromisoformat(value)


def _summaries(engine: sa.Engine, account: str) -> list[dict]:
    with engine.connect() as conn:
        return [
            r.summary_json
            for r in conn.execute(
                sa.text(
                    "select summary_json from ebay_worker_run where ebay_account_id = :a and api_family = 'orders' "
                    "order by started_at"
                ),
                {"a": account},
            )
        ]


def test_a_month_partition_synced_by_hand_and_a_scheduled_tick_reading_only_today(
    month_grain, ebay_env: str, sim, dagster_instance: dg.DagsterInstance, engine: sa.Engine
) -> None:
    account = f"g{uuid.uuid4().hex[:6]}"
    register_account(engine, sim, account, dagster_instance)
    defs = fast_definitions(ebay_env)
    job = defs.resolve_job_def("sync_orders_job")

    # October by hand: the whole month in one window, exactly what eBay holds.
    october = job.execute_in_process(
        instance=dagster_instance, partition_key=f"{account}|2026-10-01", raise_on_error=False
    )
    assert october.success
    window = _month_window(date(2026, 10, 1), date(2026, 10, 1), sim.now)
    want = _expected(sim, account, window)
    assert sum(len(v) for v in want.values()) > 20
    assert not compare(engine, account, want)
    assert _cursor(engine, account) == window.end == datetime(2026, 11, 1, tzinfo=UTC)

    # A tick in November's (current) partition, ten days in, reads [today - overlap, now) only.
    tick = datetime(2026, 11, 10, 12, 15, tzinfo=UTC)
    sim.clock.set_now(tick)
    postgres = PostgresResource(database_url=ebay_env)
    (request,) = family_schedule_requests(
        ORDERS, postgres, [account], tick, date(2026, 1, 1), "month", Settings.from_env().accounts_per_run
    )
    assert request.partition_key == f"{account}|2026-11-01"
    assert request.tags["ebay/window_from"] == tick.date().isoformat()
    assert job.execute_in_process(
        instance=dagster_instance, partition_key=request.partition_key, tags=dict(request.tags), raise_on_error=False
    ).success
    summary = _summaries(engine, account)[-1]
    assert summary["window_from"] == (day_start(tick.date()) - ORDERS.overlap).isoformat()
    # It ends at the period's end or now, whichever comes first (the project's clock, not the simulator's).
    assert datetime.fromisoformat(summary["window_to"]) == min(datetime(2026, 12, 1, tzinfo=UTC), datetime.now(UTC))
    # The cursor is the end of the newest window synced and never moves back.
    assert _cursor(engine, account) == datetime.fromisoformat(summary["window_to"])
    # Re-running October afterwards keeps the cursor where it is.
    assert job.execute_in_process(
        instance=dagster_instance, partition_key=f"{account}|2026-10-01", raise_on_error=False
    ).success
    assert _cursor(engine, account) == datetime.fromisoformat(summary["window_to"])


def test_ui_backfills_over_months_run_each_account_in_ranges_of_months(
    month_grain, monkeypatch: pytest.MonkeyPatch, database_url: str, project_env, dagster_instance
) -> None:
    from dagster._core.definitions.automation_tick_evaluation_context import build_run_requests_with_backfill_policies
    from dagster._core.definitions.events import AssetKeyPartitionKey
    from dagster._core.definitions.partitions.context import partition_loading_context

    monkeypatch.setenv("EBAY_PIPELINES_BACKFILL_DAYS_PER_RUN", "93")  # three months a run
    graph = fast_definitions(database_url).resolve_asset_graph()
    accounts = [f"b{uuid.uuid4().hex[:6]}-{i}" for i in range(2)]
    dagster_instance.add_dynamic_partitions(ACCOUNTS_PARTITION, accounts)
    months = [date(2026, m, 1) for m in range(1, 8)]
    selected = [
        AssetKeyPartitionKey(dg.AssetKey(table), f"{account}|{month.isoformat()}")
        for table in ORDERS.tables
        for account in accounts
        for month in months
    ]
    with partition_loading_context(dynamic_partitions_store=dagster_instance):
        requests = build_run_requests_with_backfill_policies(selected, graph, dagster_instance)
    covered: dict[str, set[str]] = defaultdict(set)
    for request in requests:
        start = request.partition_key_range.start if request.partition_key_range else request.partition_key
        end = request.partition_key_range.end if request.partition_key_range else request.partition_key
        account, first = start.split("|")
        assert end.split("|")[0] == account
        month, last = date.fromisoformat(first), date.fromisoformat(end.split("|")[1])
        keys = set()
        while month <= last:
            keys.add(f"{account}|{month.isoformat()}")
            month = next_period("month", month)
        assert len(keys) <= 3
        covered[account] |= keys
    # 7 months of 2 accounts in 3 runs each (3 + 3 + 1 months), not 14.
    assert len(requests) == 2 * 3
    assert covered == {a: {f"{a}|{m.isoformat()}" for m in months} for a in accounts}


def test_a_range_run_over_months_lands_each_account_once(
    month_grain, ebay_env: str, sim, dagster_instance: dg.DagsterInstance, engine: sa.Engine
) -> None:
    accounts = [f"r{uuid.uuid4().hex[:6]}-{i}" for i in range(2)]
    for account in accounts:
        register_account(engine, sim, account, dagster_instance)
    defs = fast_definitions(ebay_env)
    result = defs.resolve_job_def("sync_orders_job").execute_in_process(
        instance=dagster_instance,
        raise_on_error=False,
        tags={
            "dagster/asset_partition_range_start": f"{accounts[0]}|2026-09-01",
            "dagster/asset_partition_range_end": f"{accounts[1]}|2026-10-01",
        },
    )
    assert result.success
    window = _month_window(date(2026, 9, 1), date(2026, 10, 1), sim.now)
    for account in accounts:
        assert not compare(engine, account, _expected(sim, account, window)), account
        (summary,) = _summaries(engine, account)
        assert summary["partition_key"] == f"{account}|2026-09-01..2026-10-01"
    assert period_start("month", date(2026, 10, 17)) == date(2026, 10, 1)
    assert period_start("week", date(2026, 10, 17)) == date(2026, 10, 12)  # a Monday
