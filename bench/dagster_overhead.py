"""Benchmark 3: what Dagster costs per partition, per sensor evaluation and per schedule tick.

- a partition materialization that fetches nothing (an orders window with no orders: one
  getOrders call answering an empty page), in process, against the sync layer alone;
- the same through the daemon's run queue: ``dagster dev`` (webserver + daemon) with the
  project's ``dagster.yaml`` (QueuedRunCoordinator), runs submitted over GraphQL, queue wait and
  run time read from the run records (bounded in time);
- one ``ebay_accounts_sensor`` evaluation and one ``sync_orders_schedule`` tick with N accounts.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import requests

from bench import dagster_support
from bench.env import (
    ACCOUNT,
    ROOT,
    patched_environ,
    pinned_now,
    postgres_server,
    project_environment,
    register_account,
    start_simulator,
)
from bench.report import Stopwatch, table
from ebay_pipelines.store.database import make_engine

NAME = "dagster_overhead"
SIZES = {
    "full": {"runs": 20, "queued_runs": 10, "accounts": 500},
    "small": {"runs": 6, "queued_runs": 4, "accounts": 100},
    "tiny": {"runs": 2, "queued_runs": 0, "accounts": 20},
}
QUEUE_TIMEOUT_S = 300


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _empty_days(now_date: date, n: int) -> list[date]:
    return [now_date - timedelta(days=i) for i in range(1, n + 1)]


def measure_in_process(env: dict[str, str], home: Path, engine: Any, days: list[date], now: Any) -> dict[str, float]:
    """Seconds per empty partition: sync layer alone vs ``execute_in_process``."""
    from ebay_pipelines.defs.partitions import window_key
    from ebay_pipelines.sync import partition_sync
    from ebay_pipelines.sync.families import family

    with patched_environ(env):
        spec = family("orders")
        sync_times = []
        for day in days:
            with Stopwatch() as sw:
                began = partition_sync.begin(engine, spec, ACCOUNT, day, partition_key=f"{ACCOUNT}|{day}", now=now)
                began.write(engine)
            sync_times.append(sw.seconds)
        with dagster_support.instance_at(home) as instance:
            instance.add_dynamic_partitions("ebay_accounts", [ACCOUNT])
            job = dagster_support.sync_job("orders")
            job.execute_in_process(
                instance=instance, partition_key=str(window_key(ACCOUNT, days[0])), run_config=dagster_support.QUIET
            )  # warm-up
            dagster_times = []
            for day in days:
                with Stopwatch() as sw:
                    result = job.execute_in_process(
                        instance=instance, partition_key=str(window_key(ACCOUNT, day)), run_config=dagster_support.QUIET
                    )
                assert result.success
                dagster_times.append(sw.seconds)
    return {
        "sync_layer_s": statistics.median(sync_times),
        "dagster_in_process_s": statistics.median(dagster_times),
        "dagster_added_s": statistics.median(dagster_times) - statistics.median(sync_times),
    }


def measure_queue(env: dict[str, str], home: Path, dagster_url: str, days: list[date]) -> dict[str, Any]:
    """Submit runs to ``dagster dev`` (QueuedRunCoordinator) and read queue wait and run time."""
    import dagster as dg
    from dagster_graphql import DagsterGraphQLClient

    from ebay_pipelines.defs.partitions import window_key
    from ebay_pipelines.manual_run import partition_tags

    queued_home = home.parent / "queued-home"
    dagster_support.write_instance_config(queued_home, dagster_url, queued=True)
    port = _free_port()
    run_env = {**os.environ, **env, "DAGSTER_HOME": str(queued_home), "EBAY_PIPELINES_DAGSTER_PG_URL": dagster_url}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dagster",
            "dev",
            "-w",
            str(ROOT / "workspace.yaml"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        cwd=ROOT,
        env=run_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if requests.post(f"http://127.0.0.1:{port}/graphql", json={"query": "{ version }"}, timeout=3).ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("dagster dev did not come up")
            time.sleep(1)
        client = DagsterGraphQLClient("127.0.0.1", port_number=port, timeout=60)
        with patched_environ({"DAGSTER_HOME": str(queued_home), "EBAY_PIPELINES_DAGSTER_PG_URL": dagster_url}):
            with dg.DagsterInstance.get() as instance:
                instance.add_dynamic_partitions("ebay_accounts", [ACCOUNT])
                started = time.monotonic()
                run_ids = []
                for day in days:
                    key = str(window_key(ACCOUNT, day))
                    tags = partition_tags(key, ACCOUNT, day, "orders")
                    run_ids.append(
                        client.submit_job_execution(
                            "sync_orders_job", repository_location_name="ebay_pipelines", tags=tags
                        )
                    )
                submitted = time.monotonic() - started
                records: list[Any] = []
                while time.monotonic() - started < QUEUE_TIMEOUT_S:
                    records = instance.get_run_records(dg.RunsFilter(run_ids=run_ids))
                    if len(records) == len(run_ids) and all(r.dagster_run.is_finished for r in records):
                        break
                    time.sleep(0.5)
                wall = time.monotonic() - started
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
    finished = [r for r in records if r.dagster_run.is_finished]
    ok = [r for r in finished if r.dagster_run.is_success]
    waits = [r.start_time - r.create_timestamp.timestamp() for r in ok if r.start_time]
    durations = [r.end_time - r.start_time for r in ok if r.start_time and r.end_time]
    return {
        "runs": len(run_ids),
        "succeeded": len(ok),
        "finished": len(finished),
        "submit_s": submitted,
        "wall_s": wall,
        "wall_per_run_s": wall / len(run_ids) if run_ids else None,
        "median_queue_wait_s": statistics.median(waits) if waits else None,
        "median_run_s": statistics.median(durations) if durations else None,
    }


def measure_fleet(env: dict[str, str], home: Path, engine: Any, sim: Any, accounts: int) -> dict[str, Any]:
    """One accounts-sensor evaluation and one orders-schedule tick with ``accounts`` registered accounts."""
    import dagster as dg

    from ebay_pipelines.definitions import build_definitions
    from ebay_pipelines.defs.resources import PostgresResource
    from ebay_pipelines.store.accounts import add_account
    from ebay_pipelines.store.secrets import load_cipher

    with patched_environ(env):
        cipher = load_cipher()
        for i in range(accounts):
            add_account(engine, cipher, f"fleet-{i:04d}", f"refresh-token-{i}")
        defs = build_definitions()
        sensor = defs.resolve_sensor_def("ebay_accounts_sensor")
        schedule = defs.resolve_schedule_def("sync_orders_schedule")
        resources = {"postgres": PostgresResource(database_url=env["EBAY_PIPELINES_DATABASE_URL"])}
        with dagster_support.instance_at(home) as instance:
            context = dg.build_sensor_context(instance=instance, resources=resources)
            with Stopwatch() as first:
                result = sensor(context)
            for request in result.dynamic_partitions_requests or []:
                instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
            first_runs = len(result.run_requests or [])
            context = dg.build_sensor_context(instance=instance, resources=resources, cursor=result.cursor)
            with Stopwatch() as steady:
                again = sensor(context)
            # Midday, so the tick never falls in the after-midnight late refresh whatever the clock says.
            midday = pinned_now().replace(hour=12, minute=0)
            tick = dg.build_schedule_context(instance=instance, resources=resources, scheduled_execution_time=midday)
            with Stopwatch() as tick_time:
                requests_ = schedule(tick)
    tick_runs = len(requests_) if isinstance(requests_, list) else 0
    return {
        "accounts": accounts + 1,
        "sensor_first_s": first.seconds,
        "sensor_first_run_requests": first_runs,
        "sensor_steady_s": steady.seconds,
        "sensor_steady_run_requests": len(again.run_requests or []),
        "schedule_tick_s": tick_time.seconds,
        "schedule_run_requests": tick_runs,
    }


def run(runs: int = 20, queued_runs: int = 10, accounts: int = 500) -> dict[str, Any]:
    """Run the three measurements; return their figures."""
    now = pinned_now()
    sim = start_simulator(
        now=now, orders_per_day=0, messages_per_day=0, inventory_skus=1, active_listings=0, purchases=0
    )
    try:
        with postgres_server() as pg, tempfile.TemporaryDirectory(prefix="ebay-bench-home-") as tmp:
            home = Path(tmp) / "dagster"
            dagster_url = pg.create_database("bench_dagster", migrated=False)
            dagster_support.write_instance_config(home, dagster_url)
            url = pg.create_database("overhead")
            engine = make_engine(url)
            env = project_environment(url, sim, home)
            with patched_environ(env):
                register_account(engine, sim)
            days = _empty_days(now.date(), runs)
            result: dict[str, Any] = {"size": {"runs": runs, "queued_runs": queued_runs, "accounts": accounts}}
            result["in_process"] = measure_in_process(env, home, engine, days, now)
            if queued_runs:
                result["queue"] = measure_queue(
                    env, home, dagster_url, _empty_days(now.date() - timedelta(days=runs), queued_runs)
                )
            result["fleet"] = measure_fleet(env, home, engine, sim, accounts)
            engine.dispose()
    finally:
        sim.stop()
    return result


def render(result: dict[str, Any]) -> str:
    """The benchmark's table."""
    ip, q, fleet = result["in_process"], result.get("queue") or {}, result["fleet"]
    rows = [
        ["empty partition, sync layer alone (median)", ip["sync_layer_s"]],
        ["empty partition, execute_in_process (median)", ip["dagster_in_process_s"]],
        ["  Dagster's share", ip["dagster_added_s"]],
        [
            f"daemon run queue: wall per run ({q.get('succeeded', 0)}/{q.get('runs', 0)} runs ok)",
            q.get("wall_per_run_s"),
        ],
        ["daemon run queue: median queue wait", q.get("median_queue_wait_s")],
        ["daemon run queue: median run (start to end)", q.get("median_run_s")],
        [f"accounts sensor, first evaluation ({fleet['accounts']} accounts)", fleet["sensor_first_s"]],
        ["accounts sensor, steady evaluation", fleet["sensor_steady_s"]],
        [f"orders schedule tick ({fleet['schedule_run_requests']} run requests)", fleet["schedule_tick_s"]],
    ]
    return table("Dagster overhead (seconds)", ["what", "seconds"], rows)
