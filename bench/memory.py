"""Benchmark 4: peak RSS of the process that materializes a big snapshot.

Each materialization runs in a fresh child process (``python -m bench.memory <family>``) that
imports the project, runs the family's job with ``execute_in_process`` and reports its own peak
RSS (``VmHWM`` of ``/proc/self/status``) and its RSS right before the run, so the harness and the
simulator never pollute the figure. (``getrusage(..).ru_maxrss`` would not do: Linux carries the
parent's high-water mark at fork time across ``exec`` into it.)
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import psutil

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
    table_count,
)
from bench.report import Stopwatch, table
from ebay_pipelines.store.database import make_engine
from ebay_pipelines.sync.families import FAMILIES_BY_NAME

NAME = "memory"
SIZES = {
    "full": {"listings": 200_000, "skus": 20_000},
    "small": {"listings": 20_000, "skus": 2_000},
    "tiny": {"listings": 400, "skus": 60},
}
#: The snapshot families measured, and the table each fills (from the family table).
TABLE_OF = {name: FAMILIES_BY_NAME[name].tables[0] for name in ("active_inventory", "offers")}
LIMIT_MB = 300


def _vm_hwm_mb() -> float:
    """This process's own peak resident set size in MiB (Linux ``VmHWM``; ru_maxrss elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(family: str, home: str) -> dict[str, Any]:
    """In the child: materialize ``family`` for the benchmark account; report RSS figures in MiB."""
    from ebay_pipelines.defs.partitions import ACCOUNTS_PARTITION

    with dagster_support.instance_at(Path(home)) as instance:
        instance.add_dynamic_partitions(ACCOUNTS_PARTITION, [ACCOUNT])
        job = dagster_support.sync_job(family)
        before = psutil.Process().memory_info().rss / 2**20
        result = job.execute_in_process(instance=instance, partition_key=ACCOUNT, run_config=dagster_support.QUIET)
    peak = _vm_hwm_mb()
    return {"success": result.success, "rss_before_run_mb": before, "peak_rss_mb": peak}


def run(listings: int = 200_000, skus: int = 20_000) -> dict[str, Any]:
    """Materialize the two snapshots in child processes; return their peak RSS and rows."""
    now = pinned_now()
    sim = start_simulator(
        now=now, orders_per_day=1, messages_per_day=0, inventory_skus=skus, active_listings=listings, purchases=1
    )
    out: dict[str, Any] = {"size": {"listings": listings, "skus": skus}, "results": {}}
    try:
        with postgres_server() as pg, tempfile.TemporaryDirectory(prefix="ebay-bench-home-") as tmp:
            home = Path(tmp) / "dagster"
            dagster_support.write_instance_config(home, pg.create_database("bench_dagster", migrated=False))
            for family in TABLE_OF:
                url = pg.create_database(f"memory_{family}")
                engine = make_engine(url)
                env = project_environment(url, sim, home)
                with patched_environ(env):
                    register_account(engine, sim)
                    with Stopwatch() as sw:
                        proc = subprocess.run(
                            [sys.executable, "-m", "bench.memory", family, str(home)],
                            cwd=ROOT,
                            capture_output=True,
                            text=True,
                            timeout=1500,
                        )
                if proc.returncode != 0:
                    raise RuntimeError(f"memory child for {family} failed: {proc.stderr[-2000:]}")
                figures = json.loads(proc.stdout.strip().splitlines()[-1])
                figures["seconds"] = sw.seconds
                figures["rows"] = table_count(engine, TABLE_OF[family], ACCOUNT)
                figures["expected_rows"] = (
                    listings if family == "active_inventory" else len(sim.twin.truth.offers(ACCOUNT))
                )
                out["results"][family] = figures
                engine.dispose()
    finally:
        sim.stop()
    snapshot = out["results"]["active_inventory"]
    out["targets"] = {"active_inventory_peak_under_300mb": snapshot["peak_rss_mb"] < LIMIT_MB}
    return out


def render(result: dict[str, Any]) -> str:
    """The benchmark's table."""
    rows = [
        [family, f["rows"], f["expected_rows"], f["seconds"], f["rss_before_run_mb"], f["peak_rss_mb"]]
        for family, f in result["results"].items()
    ]
    size = result["size"]
    return table(
        f"Peak RSS (MiB) of the materializing process: {size['listings']:,} listings, {size['skus']:,} SKUs",
        ["snapshot", "rows", "expected", "seconds", "RSS before run", "peak RSS"],
        rows,
    )


if __name__ == "__main__":
    print(json.dumps(child(sys.argv[1], sys.argv[2])))
