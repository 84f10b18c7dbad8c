"""PostgreSQL stopped and started again while a run is paging.

The eBay tables live on a dedicated embedded server (the session's shared server is not touched).
The write in flight fails with a connection error; Dagster's step RetryPolicy (1 s delay here)
retries it; the retry takes over the run row the dead attempt could not close, and lands the
window exactly. The process's pooled connections are replaced, not reused dead.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import create_database
from tests_support import register_account, run_family

from ebay_pipelines.simulator import EbaySimulator, FaultRule, SimulatorConfig
from ebay_pipelines.store import embedded, migrate
from ebay_pipelines.store.database import cached_engine, make_engine
from ebay_pipelines.store.urls import normalize_url

from .support import compare, expected_for, failure_text, parse_ts, retrying_definitions, window_of

ACCOUNT = "restart-shop"
DAY = date(2026, 10, 30)


@pytest.fixture
def sim():
    """A simulator whose day of orders spans several getOrders pages."""
    simulator = EbaySimulator(
        SimulatorConfig(seed=9, now=datetime(2026, 11, 1, 12, tzinfo=UTC), orders_per_day=1500, history_days=10)
    )
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def own_server(tmp_path: Path):
    """A dedicated embedded PostgreSQL with a migrated eBay database: (data dir, database URL)."""
    data_dir = tmp_path / "pg" / "pgdata"
    server = embedded.start(data_dir)
    url = create_database(normalize_url(server.admin_url), "ebay_restart")
    migrate.upgrade(url)
    yield data_dir, url
    cached_engine(url).dispose()
    embedded.stop(data_dir)


def _restart_when_paging(data_dir: Path, url: str, sim: EbaySimulator, report: dict) -> None:
    """Once the first page is written (each getOrders answer takes 1 s), restart the server."""
    watcher = make_engine(url, poolclass=sa.pool.NullPool)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with watcher.connect() as conn:
                if (
                    conn.execute(sa.text("select count(*) from ebay_api_worker_log where event_type='page'")).scalar()
                    >= 1
                ):
                    break
            time.sleep(0.02)
        report["before"] = embedded.start(data_dir).admin_url
        embedded.stop(data_dir)
        report["stopped"] = True
        time.sleep(0.5)
        report["after"] = embedded.start(data_dir).admin_url
    finally:
        sim.faults.clear()  # the rest of the pages come quickly
        watcher.dispose()


def test_database_restart_mid_run_recovers_exactly(ebay_env: str, sim, dagster_instance, own_server) -> None:
    data_dir, url = own_server
    engine = cached_engine(url)  # the engine the run's PostgresResource uses
    register_account(engine, sim, ACCOUNT, dagster_instance)
    defs = retrying_definitions(url, max_retries=8, delay=1.0)
    sim.faults.add(FaultRule(kind="slow", endpoint="getOrders", delay=1.0))

    report: dict = {}
    restarter = threading.Thread(target=_restart_when_paging, args=(data_dir, url, sim, report))
    restarter.start()
    result = run_family(defs, dagster_instance, "orders", ACCOUNT, DAY)
    restarter.join(timeout=120)
    assert report.get("stopped"), "the database was never restarted"
    assert report["before"] == report["after"], "the server came back at another address"

    if not result.success:  # the run may also fail for good, but then clearly, and a retry lands it
        text = failure_text(result)
        assert "connection" in text.lower() or "server" in text.lower(), text
        result = run_family(defs, dagster_instance, "orders", ACCOUNT, DAY)
    assert result.success

    assert compare(engine, ACCOUNT, expected_for(sim, "orders", ACCOUNT, [DAY])) == []
    with engine.connect() as conn:
        runs = conn.execute(sa.text("select status, error_message from ebay_worker_run")).all()
        cursor = conn.execute(sa.text("select cursor_value from ebay_sync_state where api_family='orders'")).scalar()
    # The interrupted attempt's row is closed (by itself, or by the retry that took over), never left running.
    assert sorted(r.status for r in runs).count("completed") == 1
    assert {r.status for r in runs} == {"completed", "error"}, runs
    assert parse_ts(cursor) == window_of(sim, "orders", DAY).end

    # The process's pool holds working connections again: another partition syncs on the same engine.
    assert run_family(defs, dagster_instance, "orders", ACCOUNT, date(2026, 10, 29)).success
    with engine.connect() as conn:
        assert conn.execute(sa.text("select 1")).scalar() == 1
