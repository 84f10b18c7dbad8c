"""What keeps a fleet current: the run queue's order at a burst of ticks, and a run worker's storage connections.

At the top of the hour every family's schedule ticks at once; the families due again soonest must
start first and new accounts' initial backfills last. A run of many accounts stores hundreds of
Dagster events; its worker must not open a PostgreSQL session for each.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime

import dagster as dg
import sqlalchemy as sa
from tests_support import fast_definitions, register_account

from ebay_pipelines.defs.partitions import ACCOUNTS_PARTITION
from ebay_pipelines.defs.requests import BACKFILL_PRIORITY, PRIORITY_TAG
from ebay_pipelines.defs.resources import PostgresResource
from ebay_pipelines.defs.schedules import family_schedule_requests
from ebay_pipelines.defs.sensors import accounts_tick
from ebay_pipelines.store.database import make_engine
from ebay_pipelines.store.urls import with_database
from ebay_pipelines.sync.families import FAMILIES

DAY = date(2026, 10, 30)
TOP_OF_HOUR = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _accounts(prefix: str, n: int) -> list[str]:
    # Dagster's test storage outlives a test: fresh ids are new, contiguous partitions.
    run = uuid.uuid4().hex[:6]
    return [f"{prefix}{run}-{i}" for i in range(n)]


def test_a_top_of_hour_burst_starts_the_most_frequent_families_first(
    ebay_env: str, sim, dagster_instance: dg.DagsterInstance, engine: sa.Engine
) -> None:
    accounts = _accounts("q", 3)
    for account in accounts:
        register_account(engine, sim, account, dagster_instance)
    postgres = PostgresResource(database_url=ebay_env)
    partitions = list(dagster_instance.get_dynamic_partitions(ACCOUNTS_PARTITION))

    priority: dict[str, set[int]] = {}
    for spec in FAMILIES:
        requests = family_schedule_requests(spec, postgres, partitions, TOP_OF_HOUR, date(2026, 10, 1))
        assert isinstance(requests, list) and requests, spec.name
        priority[spec.name] = {int(r.tags[PRIORITY_TAG]) for r in requests}
    # One priority per family, ordered by cadence: every 15 minutes, 30, hourly, six-hourly.
    assert all(len(p) == 1 for p in priority.values()), priority
    by_family = {name: p.pop() for name, p in priority.items()}
    assert by_family["orders"] == by_family["messages"] == 3
    assert by_family["refunds"] == by_family["disputes"] == by_family["inquiries"] == by_family["cases"] == 2
    assert by_family["transactions"] == by_family["finances"] == by_family["payouts"] == 1
    assert by_family["offers"] == by_family["inventory"] == by_family["active_inventory"] == by_family["buyer"] == 0

    # New accounts' initial backfills queue behind every schedule's runs.
    newcomers = _accounts("n", 2)
    for account in newcomers:
        register_account(engine, sim, account)
    tick = accounts_tick(dg.build_sensor_context(instance=dagster_instance), postgres)
    assert tick.run_requests
    assert {int(r.tags[PRIORITY_TAG]) for r in tick.run_requests} == {BACKFILL_PRIORITY}
    assert min(by_family.values()) > BACKFILL_PRIORITY


def _sessions(admin: sa.Engine, database: str) -> int:
    """Sessions PostgreSQL has opened on ``database`` so far, once its statistics have settled."""
    last = -1
    for _ in range(40):
        with admin.connect() as conn:
            conn.execute(sa.text("select pg_stat_clear_snapshot()"))
            now = int(
                conn.execute(
                    sa.text("select sessions from pg_stat_database where datname = :d"), {"d": database}
                ).scalar_one()
            )
        if now == last:
            return now
        last = now
        time.sleep(0.5)
    return last


def _sessions_and_events(
    defs: dg.Definitions, instance: dg.DagsterInstance, admin: sa.Engine, database: str, accounts: list[str]
) -> tuple[int, int]:
    """Run orders for ``accounts`` (one day): sessions opened on Dagster's storage, events stored."""
    before = _sessions(admin, database)
    result = defs.resolve_job_def("sync_orders_job").execute_in_process(
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": f"{accounts[0]}|{DAY.isoformat()}",
            "dagster/asset_partition_range_end": f"{accounts[-1]}|{DAY.isoformat()}",
        },
    )
    opened = _sessions(admin, database) - before
    assert result.success
    # Two tables per account: orders and their line items.
    assert len(result.get_asset_materialization_events()) == 2 * len(accounts)
    return opened, len(instance.all_logs(result.run_id))


def test_a_run_of_many_accounts_keeps_its_storage_connections(
    ebay_env: str, sim, dagster_storage_url: str, engine: sa.Engine, monkeypatch
) -> None:
    """The events an extra account adds ride the worker's pool, not sessions of their own.

    Before the step starts, Dagster's run setup opens about five sessions per account partition
    (measured: 45 more for 8 more accounts); without the pool each of an account's five events
    (two materializations, its log lines) opened one more (85 more for the same 8 accounts).
    """
    # A run worker's default (the test session turns it off: see conftest).
    monkeypatch.setenv("EBAY_PIPELINES_DAGSTER_STORAGE_POOL", "on")
    few, many = _accounts("f", 2), _accounts("m", 10)
    defs = fast_definitions(ebay_env)
    database = str(sa.engine.make_url(dagster_storage_url).database)
    admin = make_engine(with_database(dagster_storage_url, "postgres"), poolclass=sa.pool.NullPool)
    figures = []
    try:
        for accounts in (few, many):
            # A fresh instance, as a launched run's worker process has.
            with dg.instance_for_test(
                overrides={"storage": {"postgres": {"postgres_url": dagster_storage_url}}}
            ) as instance:
                for account in accounts:
                    register_account(engine, sim, account, instance)
                figures.append(_sessions_and_events(defs, instance, admin, database, accounts))
    finally:
        admin.dispose()
    (few_sessions, few_events), (many_sessions, many_events) = figures
    extra_events = many_events - few_events
    assert extra_events >= 4 * (len(many) - len(few)), figures
    # Without the pool every extra event is a session of its own on top of the run setup's.
    per_account = (many_sessions - few_sessions) / (len(many) - len(few))
    assert per_account < 8, figures
