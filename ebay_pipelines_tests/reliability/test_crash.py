"""A run's process killed with SIGKILL in the middle of a large partition.

Nothing of the partition is visible afterwards (its rows were in one uncommitted transaction), the
cursor has not moved, and the run row stays ``running`` until the failure sensor (once Dagster's
run monitoring marks the dead run failed) or the stale-run sweep closes it as ``error``. Until then
a new run of the same account and family is refused; afterwards a re-run lands the window exactly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
from tests_support import register_account, run_family

from ebay_pipelines.defs.resources import PostgresResource
from ebay_pipelines.defs.sensors import ebay_run_failure_sensor
from ebay_pipelines.simulator import EbaySimulator, FaultRule, SimulatorConfig
from ebay_pipelines.store import mirrors

from .support import compare, expected_for, parse_ts, window_of

ACCOUNT = "big-shop"
DAY = date(2026, 10, 30)
TARGET = Path(__file__).with_name("crash_target.py")


@pytest.fixture
def sim():
    """A simulator with a large order volume: a day holds about a dozen pages of getOrders."""
    simulator = EbaySimulator(
        SimulatorConfig(seed=5, now=datetime(2026, 11, 1, 12, tzinfo=UTC), orders_per_day=2200, history_days=10)
    )
    simulator.start()
    yield simulator
    simulator.stop()


def _scalar(engine: sa.Engine, sql: str, **params) -> object:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def _kill_mid_partition(engine: sa.Engine, database_url: str, storage_url: str) -> None:
    """Start the partition in a child process and SIGKILL it once a few pages are written."""
    proc = subprocess.Popen(
        [sys.executable, str(TARGET), database_url, storage_url, ACCOUNT, DAY.isoformat()],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while _scalar(engine, "select count(*) from ebay_api_worker_log where event_type = 'page'") < 3:
            assert proc.poll() is None, (
                f"the run ended before it could be killed: {proc.stderr.read().decode()[-2000:]}"
            )
            assert time.monotonic() < deadline, "the run never reached its third page"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("closed_by", ["failure_sensor", "stale_run_sweep"])
def test_sigkill_mid_partition_leaves_nothing_half_written(
    closed_by: str, ebay_env: str, sim, dagster_instance, dagster_storage_url: str, engine: sa.Engine
) -> None:
    register_account(engine, sim, ACCOUNT, dagster_instance)
    expected = expected_for(sim, "orders", ACCOUNT, [DAY])
    assert len(expected["ebay_orders"]) > 5 * 200, "the partition must span many pages"
    sim.faults.add(FaultRule(kind="slow", endpoint="getOrders", delay=0.3))

    _kill_mid_partition(engine, ebay_env, dagster_storage_url)

    with engine.connect() as conn:
        run = conn.execute(sa.text("select * from ebay_worker_run")).one()
        pages = conn.execute(sa.text("select count(*) from ebay_api_worker_log where event_type='page'")).scalar()
        state = conn.execute(sa.text("select * from ebay_sync_state where api_family='orders'")).one()
        rows = conn.execute(
            sa.text("select (select count(*) from ebay_orders) + (select count(*) from order_line_items)")
        ).scalar()
    assert pages >= 3 and run.status == "running"
    assert rows == 0, "a killed partition left rows behind"
    assert state.cursor_value is None and state.last_error is None
    dagster_run = dagster_instance.get_run_by_id(run.dagster_run_id)
    assert dagster_run is not None and dagster_run.status == dg.DagsterRunStatus.STARTED

    # A second run of the same account and family is refused while the dead one still looks alive.
    sim.faults.clear()
    refused = run_family_quietly(ebay_env, dagster_instance)
    assert not refused.success
    assert _scalar(engine, "select count(*) from ebay_worker_run") == 1
    assert _scalar(engine, "select count(*) from ebay_orders") == 0
    # The sweep does not close a row whose heartbeat is fresh.
    assert mirrors.close_stale_runs(engine, timedelta(minutes=30)) == 0

    if closed_by == "failure_sensor":
        # What Dagster's run monitoring does when a run worker dies; then the failure sensor fires.
        event = dagster_instance.report_run_failed(dagster_run, message="run worker process died")
        context = dg.build_run_status_sensor_context(
            sensor_name=ebay_run_failure_sensor.name,
            dagster_event=event,
            dagster_instance=dagster_instance,
            dagster_run=dagster_instance.get_run_by_id(dagster_run.run_id),
            resources={"postgres": PostgresResource(database_url=ebay_env)},
        ).for_run_failure()
        ebay_run_failure_sensor(context)
        expected_reason = f"Dagster run {dagster_run.run_id} failed"
    else:
        later = datetime.now(UTC) + timedelta(minutes=31)
        assert mirrors.close_stale_runs(engine, timedelta(minutes=30), now=later) == 1
        expected_reason = "went silent"

    with engine.connect() as conn:
        closed = conn.execute(sa.text("select * from ebay_worker_run where id = :i"), {"i": run.id}).one()
        state = conn.execute(sa.text("select * from ebay_sync_state where api_family='orders'")).one()
    assert closed.status == "error" and expected_reason in closed.error_message and closed.finished_at is not None
    assert state.cursor_value is None and expected_reason in state.last_error

    # The re-run lands the window exactly, and only then moves the cursor.
    rerun = run_family_quietly(ebay_env, dagster_instance)
    assert rerun.success
    assert compare(engine, ACCOUNT, expected) == []
    state_after = _scalar(engine, "select cursor_value from ebay_sync_state where api_family='orders'")
    assert parse_ts(state_after) == window_of(sim, "orders", DAY).end


def run_family_quietly(database_url: str, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    """One in-process orders run of the partition (errors are returned, not raised)."""
    from tests_support import fast_definitions

    return run_family(fast_definitions(database_url), instance, "orders", ACCOUNT, DAY)
