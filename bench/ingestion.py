"""Benchmark 1: ingestion throughput of orders + line items, side by side in one run.

Contenders, each into a fresh database on the same PostgreSQL, from the same simulator process:

- ``ours_dagster_in_process``: the 30 day partitions of ``sync_orders_job`` materialized by one
  range run (as the project's backfill policy and accounts sensor launch them) with
  ``execute_in_process`` on a PostgreSQL-backed Dagster instance;
- ``ours_dagster_multiprocess``: the same range run through ``execute_job`` with Dagster's
  multiprocess executor (the step in a child process);
- ``ours_sync_layer``: the same 30 days through the sync layer alone (no Dagster), to show what
  Dagster adds;
- ``dlt``: dlt's ``rest_api`` source on the same endpoint and time range, ``merge`` on ``orderId``;
- ``limit_fetch``: every page of the same window fetched and decoded, no database work;
- ``limit_copy``: ``COPY`` of the already-parsed, already-rendered rows into the two tables, no HTTP.

Rows are orders + line items landed (distinct); rows/s = rows / wall time. The limit is the
slower of the two ``limit_*`` figures.

``server="fast"`` answers from pre-rendered pages instead (:mod:`bench.fastserver`: the
simulator's bytes, served by a dictionary look-up), so the client is what is measured; the 30 days
then end yesterday, so that every contender's window, and so every request, is known before it
runs. It adds ``ours_cli``: ``ebay-pipelines run --day .. --to-day --in-process`` in a fresh
process, CLI start included. There ``limit_fetch`` is every page through the client's paging
engine (``paging.pages``: HTTP and JSON decode, no row built).
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench import dagster_support, dlt_peer, fastserver
from bench.env import (
    ACCOUNT,
    Postgres,
    Simulator,
    patched_environ,
    pinned_now,
    postgres_server,
    project_environment,
    register_account,
    start_simulator,
    table_count,
)
from bench.report import Stopwatch, table
from ebay_pipelines.store.database import make_engine
from ebay_pipelines.store.tables import metadata
from ebay_pipelines.sync.windows import days_window

NAME = "ingestion"
DAYS = 30
TABLES = ("ebay_orders", "order_line_items")
SIZES = {"full": 100_000, "small": 6_000, "tiny": 600}
SERVERS = ("simulator", "fast")


def partition_days(now: datetime, days: int = DAYS, *, end_yesterday: bool = False) -> list[date]:
    """The ``days`` day partitions ending today (or yesterday: a window whose end does not move with the clock)."""
    last = now.date() - timedelta(days=1 if end_yesterday else 0)
    return [last - timedelta(days=i) for i in range(days - 1, -1, -1)]


def covered_range(now: datetime, days: list[date]) -> tuple[datetime, datetime]:
    """The time range the days' window covers (the first day's start less the overlap, to the window's end)."""
    from ebay_pipelines.sync.families import family

    window = days_window(days[0], days[-1], family("orders").overlap, now)
    return window.start, window.end


def _rows(engine: sa.Engine) -> dict[str, int]:
    return {t: table_count(engine, t, ACCOUNT) for t in TABLES}


class Contender:
    """One measured way of landing the data, in its own fresh database."""

    def __init__(self, pg: Postgres, sim: Simulator, home: Path, dagster_url: str | None) -> None:
        self.pg, self.sim, self.home, self.dagster_url = pg, sim, home, dagster_url

    def database(self, prefix: str) -> tuple[str, sa.Engine]:
        """A fresh migrated database with the benchmark account registered."""
        url = self.pg.create_database(prefix)
        engine = make_engine(url)
        with patched_environ(project_environment(url, self.sim, self.home)):
            register_account(engine, self.sim)
        return url, engine


def run_sync_layer(env: dict[str, str], engine: sa.Engine, days: list[date], now: datetime) -> None:
    """Sync the days' orders through the sync layer alone (one window, as a range run does)."""
    from ebay_pipelines.defs.partitions import range_label
    from ebay_pipelines.sync import partition_sync
    from ebay_pipelines.sync.families import family

    spec = family("orders")
    with patched_environ(env):
        began = partition_sync.begin(
            engine,
            spec,
            ACCOUNT,
            days[0],
            last_day=days[-1],
            partition_key=range_label(ACCOUNT, days[0], days[-1]),
            now=now,
        )
        assert isinstance(began, partition_sync.PartitionSync), began
        result = began.write(engine)
    print(f"  sync layer: staged in {result.summary['staging_s']} s, merged in {result.summary['merge_s']} s")


def range_tags(days: list[date]) -> dict[str, str]:
    """The tags of one run materializing the day partitions ``days[0]..days[-1]`` of the account."""
    from ebay_pipelines.defs.partitions import window_key

    return {
        "dagster/asset_partition_range_start": str(window_key(ACCOUNT, days[0])),
        "dagster/asset_partition_range_end": str(window_key(ACCOUNT, days[-1])),
    }


def run_dagster_in_process(env: dict[str, str], home: Path, days: list[date]) -> None:
    """Materialize the day partitions in one range run with ``execute_in_process`` (in-process executor)."""
    with patched_environ(env), dagster_support.instance_at(home) as instance:
        instance.add_dynamic_partitions("ebay_accounts", [ACCOUNT])
        job = dagster_support.sync_job("orders")
        result = job.execute_in_process(instance=instance, tags=range_tags(days), run_config=dagster_support.QUIET)
        assert result.success
        materialized = {e.partition for e in result.get_asset_materialization_events()}
        assert len(materialized) == len(days), f"{len(materialized)} of {len(days)} partitions materialized"


def run_dagster_multiprocess(env: dict[str, str], home: Path, days: list[date]) -> None:
    """Materialize the day partitions in one range run with the multiprocess executor (the step in a child process)."""
    import dagster as dg

    job = dg.reconstructable(dagster_support.sync_orders_job_multiprocess)
    with patched_environ(env), dagster_support.instance_at(home) as instance:
        instance.add_dynamic_partitions("ebay_accounts", [ACCOUNT])
        result = dg.execute_job(
            job,
            instance=instance,
            tags=range_tags(days),
            run_config={**dagster_support.QUIET, "execution": {"config": {"max_concurrent": 1}}},
        )
        assert result.success, f"run {result.run_id} failed"


def measure_limit_fetch(
    env: dict[str, str], engine: sa.Engine, days: list[date], now: datetime
) -> tuple[float, int, list]:
    """Fetch and decode every page of the days' window through the paging engine (no row built, no database).

    Return time, rows (orders + line items), pages.
    """
    from ebay_pipelines.ebay import fulfillment, paging
    from ebay_pipelines.sync import partition_sync
    from ebay_pipelines.sync.families import family

    spec = family("orders")
    pages: list[list[dict]] = []
    rows = 0
    with patched_environ(env):
        clients = partition_sync.build_clients(engine, ACCOUNT)
        clients.rest.tokens.get()  # the token grant is not part of fetching pages
        window = days_window(days[0], days[-1], spec.overlap, now)
        with Stopwatch() as sw:
            for page in paging.pages(fulfillment.ORDERS, rest=clients.rest, since=window.start, until=window.end):
                rows += len(page) + sum(len(o.get("lineItems") or ()) for o in page)
                pages.append(page)
    return sw.seconds, rows, pages


def run_cli(env: dict[str, str], days: list[date]) -> None:
    """``ebay-pipelines run --day .. --to-day --in-process`` in a fresh process (CLI start included)."""
    import subprocess
    import sys

    argv = [sys.executable, "-m", "ebay_pipelines.cli", "run", "--account", ACCOUNT, "--api", "orders"]
    argv += ["--day", days[0].isoformat(), "--to-day", days[-1].isoformat(), "--in-process"]
    done = subprocess.run(argv, env={**os.environ, **env}, capture_output=True, text=True, check=False)
    print(f"  cli: {done.stdout.strip()}")
    if done.returncode != 0:
        raise RuntimeError(f"ebay-pipelines run failed ({done.returncode}): {done.stderr[-2000:]}")


def measure_limit_copy(engine: sa.Engine, pages: list[list[dict]]) -> tuple[float, int]:
    """COPY the parsed rows of ``pages`` into empty tables; only the COPY is timed."""
    from ebay_pipelines.ebay import fulfillment
    from ebay_pipelines.store.tables import natural_key
    from ebay_pipelines.store.upsert import COPY_OPTIONS, _dedupe, copy_text

    rendered: list[tuple[str, list[str], io.StringIO, int]] = []
    for name, build in (
        ("ebay_orders", lambda o: [fulfillment.order_row(ACCOUNT, o)]),
        ("order_line_items", lambda o: fulfillment.line_item_rows(ACCOUNT, o)),
    ):
        table = metadata.tables[name]
        rows = _dedupe([r for page in pages for o in page for r in build(o)], natural_key(table))
        columns = sorted(rows[0].keys())
        json_columns = frozenset(c.name for c in table.columns if c.type.__class__.__name__ == "JSONB")
        rendered.append((name, columns, copy_text(rows, columns, json_columns), len(rows)))
        del rows
    total = 0
    raw = engine.raw_connection()
    try:
        with Stopwatch() as sw:
            cursor = raw.cursor()
            for name, columns, buffer, count in rendered:
                cols = ", ".join(f'"{c}"' for c in columns)
                cursor.copy_expert(f'COPY "{name}" ({cols}) FROM STDIN {COPY_OPTIONS}', buffer)
                total += count
            raw.commit()
    finally:
        raw.close()
    return sw.seconds, total


DEFAULT_CONTENDERS = (
    "limit_fetch",
    "limit_copy",
    "ours_dagster_in_process",
    "ours_dagster_multiprocess",
    "ours_sync_layer",
    "dlt",
)


def run(
    orders: int = SIZES["full"],
    *,
    days: int = DAYS,
    contenders: tuple[str, ...] | None = None,
    check_truth: bool = True,
    server: str = "simulator",
) -> dict[str, Any]:
    """Run the ingestion benchmark for about ``orders`` orders over ``days`` days; return the result dict.

    ``server`` is ``simulator`` (the simulator answers every call) or ``fast`` (pre-rendered pages).
    """
    if server not in SERVERS:
        raise ValueError(f"unknown server {server!r}: one of {', '.join(SERVERS)}")
    fast = server == "fast"
    n_days = days
    default = ("limit_fetch", "limit_copy", "ours_cli", "ours_sync_layer", "dlt") if fast else DEFAULT_CONTENDERS
    wanted = set(contenders or default)
    now = pinned_now()
    days = partition_days(now, n_days, end_yesterday=fast)
    world: dict[str, Any] = dict(
        now=now,
        orders_per_day=max(1, orders // n_days),
        history_days=n_days + (1 if fast else 0),
        messages_per_day=0,
        purchases=1,
        inventory_skus=1,
        active_listings=0,
    )
    sim = fastserver.start([ACCOUNT], *covered_range(now, days), **world) if fast else start_simulator(**world)
    results: dict[str, dict[str, Any]] = {}
    try:
        with postgres_server() as pg, tempfile.TemporaryDirectory(prefix="ebay-bench-home-") as tmp:
            home = Path(tmp) / "dagster"
            dagster_url = pg.create_database("bench_dagster", migrated=False)
            dagster_support.write_instance_config(home, dagster_url)
            with patched_environ({"DAGSTER_HOME": str(home)}), dagster_support.instance_at(home):
                pass  # Dagster creates its storage schema once, outside every measurement
            contender = Contender(pg, sim, home, dagster_url)
            since, until = covered_range(now, days)

            def ours(name: str, action: Callable[[dict[str, str], sa.Engine], None]) -> None:
                url, engine = contender.database(name)
                env = project_environment(url, sim, home)
                pg.checkpoint()
                with Stopwatch() as sw:
                    action(env, engine)
                landed = _rows(engine)
                engine.dispose()
                results[name] = {"seconds": sw.seconds, "rows": sum(landed.values()), "tables": landed}

            if {"limit_fetch", "limit_copy"} & wanted:
                url, engine = contender.database("limits")
                env = project_environment(url, sim, home)
                seconds, rows, pages = measure_limit_fetch(env, engine, days, now)
                results["limit_fetch"] = {"seconds": seconds, "rows": rows, "note": "rows fetched (overlaps included)"}
                if "limit_copy" in wanted:
                    pg.checkpoint()
                    seconds, rows = measure_limit_copy(engine, pages)
                    results["limit_copy"] = {"seconds": seconds, "rows": rows}
                del pages
                engine.dispose()
            if "ours_cli" in wanted:
                # Its own Dagster home: the CLI installs the packaged dagster.yaml there.
                cli_home = {"DAGSTER_HOME": str(Path(tmp) / "dagster_cli")}
                ours(
                    "ours_cli",
                    lambda env, _e: run_cli(
                        {**env, **cli_home, "EBAY_PIPELINES_DAGSTER_DATABASE_URL": dagster_url}, days
                    ),
                )
            if "ours_dagster_in_process" in wanted:
                ours("ours_dagster_in_process", lambda env, _e: run_dagster_in_process(env, home, days))
            if "ours_dagster_multiprocess" in wanted:
                ours("ours_dagster_multiprocess", lambda env, _e: run_dagster_multiprocess(env, home, days))
            if "ours_sync_layer" in wanted:
                ours("ours_sync_layer", lambda env, engine: run_sync_layer(env, engine, days, now))
            if "dlt" in wanted:
                url = pg.create_database("dlt", migrated=False)
                pg.checkpoint()
                with Stopwatch() as sw:
                    landed = dlt_peer.run(sim, url, ACCOUNT, since, until)
                results["dlt"] = {
                    "seconds": sw.seconds,
                    "rows": landed["orders"] + landed["line_items"],
                    "tables": {"orders": landed["orders"], "orders__line_items": landed["line_items"]},
                }
            if fast:
                missed = fastserver.misses(sim)
                if missed:
                    raise RuntimeError(f"the fast server was asked what it did not pre-render: {missed[:3]}")
        # The truth comes last: the simulator's in-process twin caches every order it generates, and
        # a measuring process holding millions of extra objects pays for them in every full GC.
        truth = sim.twin.truth.orders(ACCOUNT, since, until)
        expected = {"ebay_orders": len(truth), "order_line_items": sum(len(o.get("lineItems") or ()) for o in truth)}
        expected_rows = sum(expected.values())
        del truth
    finally:
        sim.stop()
    for figures in results.values():
        figures["rows_per_s"] = figures["rows"] / figures["seconds"] if figures["seconds"] else None
    summary = summarize(results, expected, expected_rows, orders, n_days, check_truth)
    summary["server"] = server
    return summary


def summarize(
    results: dict[str, dict[str, Any]],
    expected: dict[str, int],
    expected_rows: int,
    orders: int,
    days: int,
    check_truth: bool,
) -> dict[str, Any]:
    """Add the ratios (ours/dlt, ours/limit) and the truth check to the raw figures."""
    limits = [results[k]["rows_per_s"] for k in ("limit_fetch", "limit_copy") if k in results]
    limit = min(limits) if limits else None
    dlt_rate = results.get("dlt", {}).get("rows_per_s")
    for name, figures in results.items():
        if name.startswith("ours"):
            figures["vs_dlt"] = figures["rows_per_s"] / dlt_rate if dlt_rate else None
            figures["vs_limit"] = figures["rows_per_s"] / limit if limit else None
        if "tables" in figures and check_truth:
            figures["matches_truth"] = figures["rows"] == expected_rows
    ours_rates = {k: v["rows_per_s"] for k, v in results.items() if k.startswith("ours")}
    best = max(ours_rates, key=ours_rates.get) if ours_rates else None
    targets = {}
    if best and dlt_rate:
        targets["ours_at_least_2x_dlt"] = results[best]["rows_per_s"] >= 2 * dlt_rate
    if best and limit:
        targets["ours_at_least_half_of_limit"] = results[best]["rows_per_s"] >= 0.5 * limit
    return {
        "size": {"orders_requested": orders, "days": days, "expected_rows": expected, "expected_total": expected_rows},
        "results": results,
        "limit_rows_per_s": limit,
        "best_ours": best,
        "targets": targets,
    }


def render(result: dict[str, Any]) -> str:
    """The benchmark's table."""
    rows = []
    for name, f in result["results"].items():
        rows.append(
            [
                name,
                f["rows"],
                f["seconds"],
                f["rows_per_s"],
                _ratio(f.get("vs_dlt")),
                _ratio(f.get("vs_limit")),
                {True: "yes", False: "NO"}.get(f.get("matches_truth"), "-"),
            ]
        )
    size = result["size"]
    title = (
        f"Ingestion: orders + line items, 1 account, {size['expected_rows']['ebay_orders']:,} orders over "
        f"{size['days']} days (limit = {result['limit_rows_per_s'] or 0:,.0f} rows/s)"
    )
    return table(title, ["contender", "rows", "seconds", "rows/s", "ours/dlt", "ours/limit", "= truth"], rows)


def _ratio(value: float | None) -> str | None:
    return None if value is None else f"{value:.2f}x"
