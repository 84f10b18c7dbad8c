"""Benchmark 5: re-materializing a 30-day range of orders after 1% of the orders changed.

The 30 day partitions are materialized once through Dagster (one range run, in process); then
the simulator changes 1% of the orders (their lastModifiedDate moves to half an hour ago, a note
changes) and the 30 partitions are materialized again by one range run. Reported: wall time of
the second pass, rows written (inserted + updated) against the orders whose eBay payload really
changed (simulator truth before and after), rows left unchanged, API calls, and how many changed
orders now hold eBay's new payload.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench import dagster_support
from bench.env import (
    ACCOUNT,
    patched_environ,
    pinned_now,
    postgres_server,
    project_environment,
    register_account,
    start_simulator,
)
from bench.ingestion import DAYS, partition_days, range_tags
from bench.report import Stopwatch, table
from ebay_pipelines.store.database import make_engine

NAME = "resync"
SIZES = {"full": 30_000, "small": 3_000, "tiny": 300}


def _materialize(env: dict[str, str], home: Path, days: list, engine: sa.Engine, since: Any) -> dict[str, int]:
    with patched_environ(env), dagster_support.instance_at(home) as instance:
        instance.add_dynamic_partitions("ebay_accounts", [ACCOUNT])
        job = dagster_support.sync_job("orders")
        assert job.execute_in_process(
            instance=instance, tags=range_tags(days), run_config=dagster_support.QUIET
        ).success
    totals = {"inserted": 0, "updated": 0, "unchanged": 0, "api_calls": 0}
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select summary_json from ebay_worker_run where api_family = 'orders' "
                "and status = 'completed' and started_at >= :s"
            ),
            {"s": since},
        ).all()
    for (summary,) in rows:
        totals["api_calls"] += int(summary.get("api_calls") or 0)
        for counts in (summary.get("tables") or {}).values():
            for key in ("inserted", "updated", "unchanged"):
                totals[key] += int(counts.get(key) or 0)
    return totals


def run(orders: int = SIZES["full"], fraction: float = 0.01, days: int = DAYS) -> dict[str, Any]:
    """Sync ``days`` days, change ``fraction`` of the orders, re-sync; return time and rows written."""
    now = pinned_now()
    n_days = days
    days = partition_days(now, n_days)
    sim = start_simulator(
        now=now,
        orders_per_day=max(1, orders // n_days),
        history_days=n_days,
        messages_per_day=0,
        inventory_skus=1,
        active_listings=0,
        purchases=1,
    )
    try:
        with postgres_server() as pg, tempfile.TemporaryDirectory(prefix="ebay-bench-home-") as tmp:
            home = Path(tmp) / "dagster"
            dagster_support.write_instance_config(home, pg.create_database("bench_dagster", migrated=False))
            url = pg.create_database("resync")
            engine = make_engine(url)
            env = project_environment(url, sim, home)
            with patched_environ(env):
                register_account(engine, sim)
            with engine.connect() as conn:
                t0 = conn.execute(sa.text("select now()")).scalar()
            with Stopwatch() as first:
                initial = _materialize(env, home, days, engine, t0)
            changed_at = now - timedelta(minutes=30)
            since = datetime.combine(days[0], datetime.min.time(), tzinfo=UTC) - timedelta(hours=1)
            before = {o["orderId"]: o for o in sim.twin.truth.orders(ACCOUNT, since, now)}
            sim.modify_orders(ACCOUNT, fraction, at=changed_at)
            after = {o["orderId"]: o for o in sim.twin.truth.orders(ACCOUNT, since, now)}
            changed = [order_id for order_id, order in after.items() if before.get(order_id) != order]
            # An order the change brings into the window for the first time brings its line items too.
            new_line_items = sum(len(after[o].get("lineItems") or []) for o in changed if o not in before)
            with engine.connect() as conn:
                t1 = conn.execute(sa.text("select now()")).scalar()
                stored_orders = conn.execute(sa.text("select count(*) from ebay_orders")).scalar()
            with Stopwatch() as second:
                again = _materialize(env, home, days, engine, t1)
            with engine.connect() as conn:
                stored = dict(
                    conn.execute(
                        sa.text("select order_id, raw from ebay_orders where order_id = any(:ids)"), {"ids": changed}
                    ).all()
                )
            landed = sum(1 for order_id in changed if stored.get(order_id) == after[order_id])
            engine.dispose()
    finally:
        sim.stop()
    written = again["inserted"] + again["updated"]
    expected = len(changed) + new_line_items
    return {
        "size": {"orders": stored_orders, "days": n_days, "fraction": fraction},
        "initial": {"seconds": first.seconds, **initial},
        "resync": {"seconds": second.seconds, **again, "written": written},
        "changed_orders": len(changed),
        "new_line_items": new_line_items,
        "changed_orders_stored": int(landed or 0),
        "targets": {"resync_writes_only_changed_rows": written == expected and landed == len(changed)},
    }


def render(result: dict[str, Any]) -> str:
    """The benchmark's table."""
    i, r = result["initial"], result["resync"]
    rows = [
        ["initial sync", i["seconds"], i["inserted"] + i["updated"], i["unchanged"], i["api_calls"]],
        ["re-sync after changes", r["seconds"], r["written"], r["unchanged"], r["api_calls"]],
    ]
    size = result["size"]
    title = (
        f"Incremental re-sync: {size['orders']:,} orders over {size['days']} days, "
        f"{result['changed_orders']:,} changed ({size['fraction']:.0%}); changed rows stored: "
        f"{result['changed_orders_stored']:,}"
    )
    return table(title, ["pass", "seconds", "rows written", "rows unchanged", "API calls"], rows)
