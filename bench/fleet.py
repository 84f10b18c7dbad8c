"""Benchmark: a fleet of simulated accounts kept current through the real daemon.

A production-shaped deployment (``ebay-pipelines serve`` code server, daemon and webserver, the
project's ``dagster.yaml`` with its QueuedRunCoordinator, Dagster's storage in PostgreSQL) syncs N
simulated accounts (the simulator's default seller: 12 orders, 5 messages a day, 40 SKUs) at
month grain (``EBAY_PIPELINES_PARTITION_GRAIN=month``, what a fleet of that size needs):

- **catch-up**: the accounts sensor adds the N accounts and requests their initial backfill of
  today (``EBAY_PIPELINES_START_DATE`` = today): every family for every account, the work of the
  heaviest tick;
- **one hour of ticks**: every schedule due at :00, :15, :30 and :45 of this hour is evaluated
  (the schedule's own code, as the scheduler daemon runs it) and its run requests are queued over
  GraphQL, tick after tick, each once the previous one has drained. The schedules themselves are
  stopped meanwhile, so the hour's work is measured alone: its CPU is the CPU of one hour at the
  default cadences, and each tick's drain (from its requests to its last run's end) is how far
  that tick would lag behind its cron on an otherwise idle machine; within a tick the run queue
  starts the families due again soonest first (``dagster/priority``), and each family's lag is
  held against its own cadence period;
- **live**: optionally, the schedules run on their own for a while and the lag of the ticks the
  scheduler fires (run start and end behind the cron instant) is read from the runs' tags;
- **initial backfill**: with the default start date, how long the accounts sensor takes to
  backfill M new accounts (every family's ``first_backfill_days``) through the same queue.

CPU is the machine's busy time (``/proc/stat``) during each phase, less the simulator's own (eBay's
servers are not on this machine in production) and this process's. eBay's per-application quotas
are lifted on the simulator: this measures the machine, ``ebay-pipelines quota plan`` the quotas.
"""

from __future__ import annotations

import functools
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
import sqlalchemy as sa

from bench.deployment import Deployment
from bench.env import SECRET_KEY, Simulator, patched_environ, postgres_server, project_environment, start_simulator
from ebay_pipelines.store.database import make_engine

NAME = "fleet"
SIZES: dict[str, dict[str, Any]] = {
    "full": {"fleets": (30, 300, 1000), "backfill_accounts": 100, "live_minutes": 0},
    "small": {"fleets": (30, 100), "backfill_accounts": 20, "live_minutes": 0},
    "tiny": {"fleets": (3,), "backfill_accounts": 2, "live_minutes": 0},
}
TICK_TAG = "ebay/bench_tick"
FLEET_GRAIN = "month"
PHASE_TIMEOUT_S = 3 * 3600
FINISHED = ("SUCCESS", "FAILURE", "CANCELED")


@dataclass
class CpuSample:
    """Busy CPU seconds of the project's processes, the whole machine and the simulator at one instant."""

    at: float
    project: float
    machine: float
    simulator: float


def tree_cpu(root: psutil.Process) -> float:
    """CPU seconds of ``root`` and every process under it, the reaped ones included.

    A reaped child's time moves into its parent's ``children_*`` counters, so the sum over the live
    processes of their own and their reaped children's time counts everything that ever ran there.
    """
    total = 0.0
    try:
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


class CpuMeter:
    """Reads busy CPU seconds of the project's process trees (deployment roles and PostgreSQL).

    The project's figure leaves out the simulator (eBay's servers are elsewhere in production), this
    benchmark and anything else on the machine; the machine's busy time is kept beside it.
    """

    def __init__(self, roots: list[int], sim: Simulator) -> None:
        self.roots = [psutil.Process(pid) for pid in roots]
        self.sim = psutil.Process(sim.process.pid)

    def sample(self) -> CpuSample:
        times = psutil.cpu_times()
        busy = times.user + times.nice + times.system + times.irq + times.softirq + getattr(times, "steal", 0.0)
        return CpuSample(time.monotonic(), sum(tree_cpu(r) for r in self.roots), busy, tree_cpu(self.sim))

    @staticmethod
    def since(first: CpuSample, last: CpuSample) -> dict[str, float]:
        """Wall and CPU seconds between two samples."""
        return {
            "wall_s": last.at - first.at,
            "project_cpu_s": last.project - first.project,
            "machine_cpu_s": last.machine - first.machine,
            "simulator_cpu_s": last.simulator - first.simulator,
        }


def postmaster_pid(data_dir: Path | None) -> int | None:
    """The embedded PostgreSQL server's postmaster (its CPU counts as the project's), or None."""
    if data_dir is None:
        return None
    return int((data_dir / "postmaster.pid").read_text().split()[0])


@dataclass
class World:
    """One fleet's databases, simulator, environment and deployment."""

    env: dict[str, str]
    engine: sa.Engine
    sim: Simulator
    home: Path
    deployment: Deployment
    accounts: list[str]
    meter: CpuMeter
    #: CPU when the deployment was started (the initial backfill's clock starts there).
    began: CpuSample


@contextmanager
def fleet_world(accounts: int, start_date: date, tmp: Path, backfill: bool = True) -> Iterator[World]:
    """Fresh databases, a wall-clock simulator without quotas, ``accounts`` registered, the deployment running.

    Without ``backfill`` the accounts are Dagster partitions before the daemon starts, so the
    accounts sensor sees nothing new and requests no initial backfill: the first tick syncs them.
    """
    from ebay_pipelines.simulator.quotas import QUOTAS
    from ebay_pipelines.store.accounts import add_account
    from ebay_pipelines.store.secrets import load_cipher

    sim = start_simulator(quota_limits={q.key: 1_000_000_000 for q in QUOTAS})
    try:
        with postgres_server() as pg:
            url = pg.create_database("fleet")
            engine = make_engine(url)
            home = tmp / f"home-{accounts}"
            env = {
                **project_environment(url, sim, home),
                "EBAY_PIPELINES_START_DATE": start_date.isoformat(),
                # The grain that keeps 1,000 accounts × two years under Dagster's partition ceiling.
                "EBAY_PIPELINES_PARTITION_GRAIN": FLEET_GRAIN,
                "EBAY_PIPELINES_SECRET_KEY": SECRET_KEY,
            }
            names = [f"fleet-{i:04d}" for i in range(accounts)]
            with patched_environ(env):
                cipher = load_cipher()
                for name in names:
                    add_account(engine, cipher, name, sim.refresh_token(name))
            process_env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "EBAY_"))}
            deployment = Deployment({**process_env, **env}, tmp)
            pg_pid = postmaster_pid(pg.data_dir)
            try:
                deployment.start_code_server()
                meter = CpuMeter([*deployment.pids(), *([pg_pid] if pg_pid else [])], sim)
                began = meter.sample()
                deployment.start(before_daemon=None if backfill else lambda: _add_partitions(home, env, names))
                # The hour's ticks are queued by the benchmark; the scheduler must not add its own.
                deployment.set_schedules(running=False)
                meter = CpuMeter([*deployment.pids(), *([pg_pid] if pg_pid else [])], sim)
                yield World(env, engine, sim, home, deployment, names, meter, began)
            finally:
                deployment.stop()
                engine.dispose()
    finally:
        sim.stop()


def _add_partitions(home: Path, env: dict[str, str], accounts: list[str]) -> None:
    """Make ``accounts`` Dagster partitions directly (as if the accounts sensor had added them long ago)."""
    import dagster as dg

    from ebay_pipelines.defs.partitions import ACCOUNTS_PARTITION
    from ebay_pipelines.store.database import resolve_target

    with patched_environ(env):
        dagster_url = resolve_target(start_embedded=False).dagster_url
    with patched_environ({**env, "EBAY_PIPELINES_DAGSTER_PG_URL": dagster_url}):
        with dg.DagsterInstance.from_config(str(home)) as instance:
            instance.add_dynamic_partitions(ACCOUNTS_PARTITION, accounts)


def _runs(engine: sa.Engine, tag: str, value: str | None = None) -> list[dict[str, Any]]:
    """Dagster's run rows carrying ``tag`` (= ``value`` when given): status, times, their tags we read."""
    query = """
        select r.run_id, r.pipeline_name, r.status, r.create_timestamp, r.start_time, r.end_time,
               t.value as tag_value
        from runs r join run_tags t on t.run_id = r.run_id and t.key = :tag
    """ + (" where t.value = :value" if value is not None else "")
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(sa.text(query), {"tag": tag, "value": value})]


def _dagster_engine(world: World) -> sa.Engine:
    return make_engine(_dagster_url(world), poolclass=sa.pool.NullPool)


def _worker_rows(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("select status, count(*) from ebay_worker_run group by status")).all()
    return {str(status): int(count) for status, count in rows}


def _wait_backfill(world: World, dagster: sa.Engine, tasks_per_account: int) -> dict[str, Any]:
    """Wait until every account's initial backfill has a finished run row per task; the phase's figures."""
    expected = len(world.accounts) * tasks_per_account
    first = world.began
    deadline = time.monotonic() + PHASE_TIMEOUT_S
    while True:
        rows = _worker_rows(world.engine)
        done = rows.get("completed", 0) + rows.get("error", 0) + rows.get("skipped", 0)
        runs = _runs(dagster, "dagster/sensor_name", "ebay_accounts_sensor")
        in_flight = [r for r in runs if r["status"] not in FINISHED]
        if done >= expected and not in_flight:
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"initial backfill: {done}/{expected} run rows after {PHASE_TIMEOUT_S} s")
        time.sleep(2)
    last = world.meter.sample()
    return {
        **CpuMeter.since(first, last),
        "runs": len(runs),
        "failed_runs": sum(r["status"] != "SUCCESS" for r in runs),
        "run_rows": rows,
        "expected_run_rows": expected,
        **_run_times(runs),
    }


def _run_times(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median queue wait and run time of finished runs."""
    started = [r for r in runs if r["start_time"] and r["end_time"]]
    waits = [r["start_time"] - r["create_timestamp"].replace(tzinfo=UTC).timestamp() for r in started]
    return {
        "median_queue_wait_s": statistics.median(waits) if waits else None,
        "median_run_s": statistics.median([r["end_time"] - r["start_time"] for r in started]) if started else None,
    }


def _due(cron: str, tick: datetime) -> bool:
    from dagster._utils.schedules import cron_string_iterator

    return next(cron_string_iterator((tick - timedelta(seconds=1)).timestamp(), cron, "UTC")) == tick


def replay_hour(world: World, dagster: sa.Engine) -> dict[str, Any]:
    """Queue the ticks of one hour (as the scheduler would), one after another; each tick's figures.

    The hour is the latest whose :00 also fires the six-hourly snapshot families; they are queued
    as a tick of their own after the :00 windows, so an average hour counts a sixth of them.
    """
    import dagster as dg

    from ebay_pipelines import settings
    from ebay_pipelines.definitions import build_definitions
    from ebay_pipelines.defs.resources import PostgresResource
    from ebay_pipelines.defs.schedules import schedule_cron
    from ebay_pipelines.sync.families import FAMILIES

    now_utc = datetime.now(UTC)
    hour = now_utc.replace(hour=now_utc.hour - now_utc.hour % 6, minute=0, second=0, microsecond=0)
    ticks = []
    with patched_environ({**world.env, "EBAY_PIPELINES_DAGSTER_PG_URL": _dagster_url(world)}):
        now = settings.current()
        defs = build_definitions()
        resources = {"postgres": PostgresResource(database_url=world.env["EBAY_PIPELINES_DATABASE_URL"])}
        with dg.DagsterInstance.from_config(str(world.home)) as instance:
            plan = []
            for minute in (0, 15, 30, 45):
                tick = hour + timedelta(minutes=minute)
                due = [spec for spec in FAMILIES if _due(schedule_cron(spec, now), tick)]
                plan.append((tick.strftime("%H:%M"), tick, [spec for spec in due if spec.windowed]))
                if any(not spec.windowed for spec in due):
                    plan.append((tick.strftime("%H:%M") + " snapshots", tick, [s for s in due if not s.windowed]))
            for label, tick, due in plan:
                first = world.meter.sample()
                began_epoch = time.time()
                requests: list[tuple[str, dg.RunRequest]] = []
                for spec in due:
                    schedule = defs.resolve_schedule_def(f"sync_{spec.name}_schedule")
                    context = dg.build_schedule_context(
                        instance=instance, resources=resources, scheduled_execution_time=tick
                    )
                    result = schedule(context)
                    if isinstance(result, list):
                        requests.extend((f"sync_{spec.name}_job", r) for r in result)
                evaluate_s = time.monotonic() - first.at
                for job, request in requests:
                    world.deployment.submit(job, {**request.tags, TICK_TAG: label})
                submitted_s = time.monotonic() - first.at
                runs = world.deployment.wait(
                    functools.partial(_drained, dagster, label, len(requests)),
                    PHASE_TIMEOUT_S,
                    f"the {label} tick's runs",
                    interval=1.0,
                )
                last = world.meter.sample()
                ticks.append(
                    {
                        "tick": label,
                        "families": [spec.name for spec in due],
                        "runs": len(runs),
                        "failed_runs": sum(r["status"] != "SUCCESS" for r in runs),
                        "schedule_evaluation_s": evaluate_s,
                        "submit_s": submitted_s,
                        "drain_s": last.at - first.at,
                        "family_drain_s": _family_drains(runs, began_epoch),
                        "family_period_s": {spec.name: _period_s(schedule_cron(spec, now), tick) for spec in due},
                        **CpuMeter.since(first, last),
                        **_run_times(runs),
                    }
                )
    return _hour_summary(ticks, len(world.accounts))


def _family_drains(runs: list[dict[str, Any]], began: float) -> dict[str, float]:
    """Per family: seconds from the tick's start until its last run ended."""
    drains: dict[str, float] = {}
    for run in runs:
        family = str(run["pipeline_name"]).removeprefix("sync_").removesuffix("_job")
        if run["end_time"]:
            drains[family] = max(drains.get(family, 0.0), run["end_time"] - began)
    return drains


def _period_s(cron: str, tick: datetime) -> float:
    """Seconds from ``tick`` to the cron's next instant (the family's cadence period)."""
    from dagster._utils.schedules import cron_string_iterator

    instants = cron_string_iterator(tick.timestamp(), cron, "UTC")
    first = next(instants)
    if first <= tick:
        first = next(instants)
    return (first - tick).total_seconds()


def _drained(dagster: sa.Engine, label: str, expected: int) -> list[dict[str, Any]] | None:
    runs = _runs(dagster, TICK_TAG, label)
    if len(runs) >= expected and all(r["status"] in FINISHED for r in runs):
        return runs
    return None


def _dagster_url(world: World) -> str:
    from ebay_pipelines.store.database import resolve_target

    with patched_environ(world.env):
        return resolve_target(start_embedded=False).dagster_url


def _hour_summary(ticks: list[dict[str, Any]], accounts: int) -> dict[str, Any]:
    """An average hour: runs per minute, CPU per account-hour, the largest fleet 2 cores keep current.

    Snapshot ticks fire every six hours: a sixth of theirs counts toward the average hour. The
    worst lag is the :00 tick's windows and snapshots drained one after the other.
    """

    def weight(tick: dict[str, Any]) -> float:
        return 1 / 6 if tick["tick"].endswith("snapshots") else 1.0

    runs = sum(t["runs"] * weight(t) for t in ticks)
    wall = sum(t["drain_s"] * weight(t) for t in ticks)
    project = sum(t["project_cpu_s"] * weight(t) for t in ticks)
    per_account_hour = project / accounts
    cores = psutil.cpu_count() or 1
    worst = ticks[0]["drain_s"] + sum(t["drain_s"] for t in ticks if t["tick"] == ticks[0]["tick"] + " snapshots")
    # Each family's lag: its last run's end behind its cron instant (the snapshots, queued behind
    # the :00 windows, also wait for them), against its own cadence period.
    lags: dict[str, float] = {}
    late: list[str] = []
    for tick in ticks:
        behind = ticks[0]["drain_s"] if tick["tick"].endswith("snapshots") else 0.0
        for family, drain in tick["family_drain_s"].items():
            lag = behind + drain
            lags[family] = max(lags.get(family, 0.0), lag)
            if lag >= tick["family_period_s"][family]:
                late.append(f"{family} at {tick['tick']}: {lag:.0f} s")
    return {
        "ticks": ticks,
        "runs_per_hour": runs,
        "failed_runs": sum(t["failed_runs"] for t in ticks),
        "runs_per_minute": runs / (wall / 60) if wall else None,
        "project_cpu_s_per_hour": project,
        "simulator_cpu_s_per_hour": sum(t["simulator_cpu_s"] * weight(t) for t in ticks),
        "cpu_s_per_account_hour": per_account_hour,
        # Every core busy all hour with the project's work alone (eBay's servers are elsewhere).
        "max_accounts_cpu": int(cores * 3600 / per_account_hour) if per_account_hour else None,
        "worst_tick_drain_s": worst,
        "worst_lag_s_by_family": lags,
        "late": late,
        "hour_of_work_wall_s": wall,
        "keeps_current": wall < 3600 and not late,
    }


def live_lag(world: World, dagster: sa.Engine, minutes: float) -> dict[str, Any]:
    """Let the scheduler fire for ``minutes`` (then until its last tick drains); lag of each tick it fired."""
    world.deployment.set_schedules(running=True)
    ends = time.monotonic() + minutes * 60
    while time.monotonic() < ends:
        time.sleep(5)
    world.deployment.set_schedules(running=False)
    world.deployment.wait(
        lambda: all(r["status"] in FINISHED for r in _runs(dagster, "dagster/schedule_name")),
        PHASE_TIMEOUT_S,
        "the scheduled runs",
        interval=2.0,
    )
    by_tick: dict[str, list[dict[str, Any]]] = {}
    for run in _runs(dagster, "dagster/scheduled_execution_time"):
        by_tick.setdefault(run["tag_value"], []).append(run)
    ticks = []
    for instant, runs in sorted(by_tick.items()):
        cron = datetime.fromisoformat(instant).timestamp()
        started = [r["start_time"] for r in runs if r["start_time"]]
        ended = [r["end_time"] for r in runs if r["end_time"]]
        ticks.append(
            {
                "tick": instant,
                "runs": len(runs),
                "failed_runs": sum(r["status"] != "SUCCESS" for r in runs),
                "first_start_lag_s": min(started) - cron if started else None,
                "last_end_lag_s": max(ended) - cron if ended else None,
            }
        )
    return {"minutes": minutes, "ticks": ticks}


def measure_fleet(accounts: int, tmp: Path, live_minutes: float, catch_up: bool) -> dict[str, Any]:
    """Catch-up (when asked), one hour of ticks and (optionally) live ticks for ``accounts`` accounts."""
    from ebay_pipelines.sync.families import FAMILIES

    with fleet_world(accounts, datetime.now(UTC).date(), tmp, backfill=catch_up) as world:
        dagster = _dagster_engine(world)
        result: dict[str, Any] = {"accounts": accounts}
        if catch_up:
            # Today's backfill: one run row per account and family.
            result["catch_up"] = _wait_backfill(world, dagster, len(FAMILIES))
        result["hour"] = replay_hour(world, dagster)
        if live_minutes:
            result["live"] = live_lag(world, dagster, live_minutes)
        result["run_rows"] = _worker_rows(world.engine)
        dagster.dispose()
    return result


def measure_initial_backfill(accounts: int, tmp: Path) -> dict[str, Any]:
    """The accounts sensor's initial backfill of ``accounts`` new accounts from the default start date."""
    from ebay_pipelines.defs.sensors import backfill_tasks
    from ebay_pipelines.settings import DEFAULT_START_DATE

    today = datetime.now(UTC).date()
    with fleet_world(accounts, DEFAULT_START_DATE, tmp) as world:
        dagster = _dagster_engine(world)
        with patched_environ(world.env):
            tasks = len(backfill_tasks(today))
        result = {"accounts": accounts, "tasks_per_account": tasks}
        result.update(_wait_backfill(world, dagster, tasks))
        with world.engine.connect() as conn:
            result["orders"] = int(conn.execute(sa.text("select count(*) from ebay_orders")).scalar() or 0)
        dagster.dispose()
    return result


def run(
    fleets: tuple[int, ...] = (30, 300, 1000),
    backfill_accounts: int = 100,
    live_minutes: float = 0,
    catch_up_max: int = 300,
) -> dict[str, Any]:
    """Every fleet size, then the initial backfill; their figures.

    Fleets of more than ``catch_up_max`` accounts skip the catch-up (its work is the :00 tick's
    again, and at 1,000 accounts it would add half an hour): their first tick syncs them.
    """
    result: dict[str, Any] = {"fleets": [], "size": {"fleets": list(fleets), "backfill_accounts": backfill_accounts}}
    with tempfile.TemporaryDirectory(prefix="ebay-bench-fleet-") as tmp:
        for accounts in fleets:
            folder = Path(tmp) / f"fleet-{accounts}"
            folder.mkdir()
            live = live_minutes if accounts == fleets[-1] else 0
            result["fleets"].append(measure_fleet(accounts, folder, live, catch_up=accounts <= catch_up_max))
        if backfill_accounts:
            folder = Path(tmp) / "backfill"
            folder.mkdir()
            result["initial_backfill"] = measure_initial_backfill(backfill_accounts, folder)
    largest = result["fleets"][-1]["hour"] if result["fleets"] else None
    backfill = result.get("initial_backfill")
    result["targets"] = {
        "fleet_1000_kept_current": bool(
            largest and result["fleets"][-1]["accounts"] >= 1000 and largest["keeps_current"]
        ),
        "backfill_100_under_15_min": bool(
            backfill and backfill["accounts"] >= 100 and backfill["wall_s"] < 15 * 60 and not backfill["failed_runs"]
        ),
    }
    return result


def render(result: dict[str, Any]) -> str:
    """The benchmark's tables."""
    from bench.report import table

    rows = []
    for fleet in result["fleets"]:
        hour, catch = fleet["hour"], fleet.get("catch_up") or {}
        rows.append(
            [
                fleet["accounts"],
                f"{catch['wall_s']:.0f}" if catch else "-",
                f"{hour['runs_per_hour']:.0f}",
                f"{hour['runs_per_minute']:.1f}",
                f"{hour['hour_of_work_wall_s'] / 60:.1f}",
                f"{hour['worst_tick_drain_s'] / 60:.1f}",
                f"{hour['cpu_s_per_account_hour']:.2f}",
                hour["max_accounts_cpu"],
                hour["failed_runs"] + catch.get("failed_runs", 0),
            ]
        )
    text = table(
        "Fleet through the daemon (an average hour of default-cadence ticks)",
        [
            "accounts",
            "catch-up s",
            "runs/hour",
            "runs/min",
            "hour of work, min",
            "worst tick (:00) drain, min",
            "CPU s/account-hour",
            "max accounts (2 cores)",
            "failed runs",
        ],
        rows,
    )
    backfill = result.get("initial_backfill")
    if backfill:
        text += "\n" + table(
            "Initial backfill through the accounts sensor",
            ["accounts", "tasks/account", "runs", "orders", "wall min", "project CPU s", "failed runs"],
            [
                [
                    backfill["accounts"],
                    backfill["tasks_per_account"],
                    backfill["runs"],
                    backfill["orders"],
                    f"{backfill['wall_s'] / 60:.1f}",
                    f"{backfill['project_cpu_s']:.0f}",
                    backfill["failed_runs"],
                ]
            ],
        )
    for fleet in result["fleets"]:
        lags = fleet["hour"]["worst_lag_s_by_family"]
        text += f"\n{fleet['accounts']} accounts, worst lag behind cron (min): " + ", ".join(
            f"{family} {lag / 60:.1f}" for family, lag in sorted(lags.items(), key=lambda item: -item[1])
        )
        if fleet["hour"]["late"]:
            text += f"\n  late: {'; '.join(fleet['hour']['late'])}"
        for tick in (fleet.get("live") or {}).get("ticks", []):
            text += (
                f"\nlive tick {tick['tick']}: {tick['runs']} runs, first start +{tick['first_start_lag_s']:.0f} s, "
                f"last end +{tick['last_end_lag_s']:.0f} s"
            )
    return text
