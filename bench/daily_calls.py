"""Benchmark 6: eBay API calls per account per day of each family at the default cadences.

One account with a seller's profile is synced as the accounts sensor would (every family's
initial backfill, ``backfill_tasks``: each window family's ``first_backfill_days``, 90, so every
day a daily sweep reaches back to is stored, as for an account synced for months; snapshots
once), then the call counter is reset and one simulated day of all family schedules is
rehearsed (:func:`ebay_pipelines.rehearsal.rehearse`: every cron tick from 00:01 to 00:01 the
next day, so exactly one tick after midnight, each run request executed in process) while the
simulator's clock follows the ticks. Calls are counted by the simulator per
(account, eBay call), as eBay would see them, diffed around each run and booked to the run's
family (getTransactions is shared by transactions, finances and refunds); token grants apart.

Three rehearsals, each on a fresh simulator and database:

- ``before``: the schedules as they were without the lifecycle refresh: no family has a
  ``Refresh`` and the open-problem families tick hourly (their old cron); the first tick after
  midnight re-reads yesterday;
- ``after``: the family table as it is (open problems every
  ``EBAY_PIPELINES_OPEN_REFRESH_MINUTES`` = 30, a daily sweep of ``Refresh.days``);
- ``after_60``: the same with ``EBAY_PIPELINES_OPEN_REFRESH_MINUTES=60``.

Then the fleet arithmetic: eBay's default daily call limits per application against one
account's calls a day, i.e. how many such accounts one application can sync.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

from bench import dagster_support
from bench.env import (
    ACCOUNT,
    Postgres,
    Simulator,
    patched_environ,
    postgres_server,
    project_environment,
    register_account,
    start_simulator,
)
from bench.report import Stopwatch, table
from ebay_pipelines.store.database import make_engine
from ebay_pipelines.sync.families import FAMILIES, FamilySpec

NAME = "daily_calls"
SIZES: dict[str, dict[str, int]] = {
    "full": {"orders_per_day": 50, "messages_per_day": 20, "hours": 24, "backfill_days": 90},
    "small": {"orders_per_day": 20, "messages_per_day": 8, "hours": 24, "backfill_days": 90},
    "tiny": {"orders_per_day": 20, "messages_per_day": 4, "hours": 2, "backfill_days": 10},
}
#: The rest of the seller's profile: the simulator's defaults for problems (dispute 3%, inquiry 5%,
#: case 2%, return 4% of orders), 40 SKUs and listings, 15 purchases.
PROFILE: dict[str, Any] = {"inventory_skus": 40, "active_listings": 40, "purchases": 15, "history_days": 120}
#: The simulator's knobs reported as the profile.
PROFILE_KNOBS = (
    "seed",
    "orders_per_day",
    "messages_per_day",
    *PROFILE,
    "dispute_rate",
    "inquiry_rate",
    "case_rate",
    "return_rate",
)
#: The cron the open-problem families had before the refresh (the family default: hourly).
OLD_PROBLEM_CRON = "0 * * * *"
#: Modules that read ``FAMILIES`` while definitions are built (assets, jobs, schedules).
FAMILY_TABLE_READERS = ("ebay_pipelines.definitions", "ebay_pipelines.defs.jobs", "ebay_pipelines.defs.schedules")


@dataclass(frozen=True)
class Limit:
    """One of eBay's default daily call limits per application, and the calls that count against it."""

    name: str
    daily: int
    calls: tuple[str, ...]


#: eBay's default daily limits per application (developer.ebay.com develop/api/sell/api_call_limits).
LIMITS = (
    Limit("Post-Order inquiry", 5_000, ("searchInquiries", "getInquiry")),
    Limit("Post-Order case", 5_000, ("searchCases", "getCase")),
    Limit("Post-Order return", 5_000, ("searchReturns", "getReturn")),
    Limit("Finances", 15_000, ("getTransactions",)),
    Limit("Fulfillment order", 100_000, ("getOrders",)),
    Limit("Payment disputes: getPaymentDisputeSummaries", 250_000, ("getPaymentDisputeSummaries",)),
    Limit("Payment disputes: getPaymentDispute", 250_000, ("getPaymentDispute",)),
)


def _as_before(spec: FamilySpec) -> FamilySpec:
    """``spec`` as it was before the lifecycle refresh: no refresh, open problems on the old cron."""
    on_knob = spec.refresh is not None and bool(spec.refresh.still_open)
    return dataclasses.replace(spec, refresh=None, cron=OLD_PROBLEM_CRON if on_knob else spec.cron)


@dataclass(frozen=True)
class Scenario:
    """One rehearsal: a family table and the open-problem cadence."""

    name: str
    description: str
    open_refresh_minutes: int
    before: bool = False

    def families(self) -> tuple[FamilySpec, ...]:
        """The family table this rehearsal builds its definitions from."""
        return tuple(_as_before(spec) for spec in FAMILIES) if self.before else FAMILIES


SCENARIOS = {
    s.name: s
    for s in (
        Scenario("before", "no refresh, open problems hourly", 60, before=True),
        Scenario("after", "refresh, open problems every 30 minutes (default)", 30),
        Scenario("after_60", "refresh, EBAY_PIPELINES_OPEN_REFRESH_MINUTES=60", 60),
    )
}


@contextmanager
def family_table(specs: tuple[FamilySpec, ...]) -> Iterator[None]:
    """Build definitions from ``specs`` instead of the project's family table, for the block."""
    from ebay_pipelines.sync import families

    patches: list[tuple[Any, str, Any]] = [
        (importlib.import_module(m), "FAMILIES", specs) for m in FAMILY_TABLE_READERS
    ]
    patches += [
        (families, "FAMILIES", specs),
        (families, "FAMILIES_BY_NAME", {spec.name: spec for spec in specs}),
        (families, "FAMILY_OF_TABLE", {table: spec for spec in specs for table in spec.tables}),
    ]
    saved = [(module, attr, getattr(module, attr)) for module, attr, _ in patches]
    for module, attr, value in patches:
        setattr(module, attr, value)
    try:
        yield
    finally:
        for module, attr, value in saved:
            setattr(module, attr, value)


def set_clock(sim: Simulator) -> Callable[[datetime], None]:
    """A ``set_clock`` for :func:`rehearse` moving the simulator process's clock."""

    def move(when: datetime) -> None:
        requests.post(f"{sim.base_url}/__sim__/now", json={"now": when.isoformat()}, timeout=30).raise_for_status()

    return move


class Ledger:
    """Calls the simulator served during each run, attributed to the run's family (token grants apart)."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.calls: dict[str, Counter] = {spec.name: Counter() for spec in FAMILIES}
        self.runs: dict[str, Counter] = {spec.name: Counter() for spec in FAMILIES}
        self.tokens = 0
        self.counted: Counter = Counter()

    def note(self, job_name: str, reason: str, delta: Counter) -> None:
        """Book the calls ``delta`` one run of ``job_name`` made."""
        self.counted += delta
        family = job_name.removeprefix("sync_").removesuffix("_job")
        mine = Counter({endpoint: n for (account, endpoint), n in delta.items() if account == ACCOUNT})
        self.tokens += mine.pop("token", 0)
        self.calls[family] += mine
        self.runs[family][reason] += 1


@contextmanager
def counted_run(ledger: Ledger, job_name: str, tags: dict[str, str]) -> Iterator[None]:
    """Diff the simulator's counter around one rehearsed run, booked by the run's job."""
    before = ledger.sim.calls()
    try:
        yield
    finally:
        ledger.note(job_name, tags.get("ebay/reason", ""), ledger.sim.calls() - before)


def _open_records(engine: sa.Engine) -> dict[str, int]:
    """Stored rows still open (status NULL or not final), by family with a still-open rule."""
    from ebay_pipelines.store.open_records import count_open

    out: dict[str, int] = {}
    with engine.connect() as conn:
        for spec in FAMILIES:
            for rule in spec.refresh.still_open if spec.refresh else ():
                found = count_open(
                    conn, rule.table, [ACCOUNT], status_column=rule.status_column, final=rule.final, where=rule.where
                )
                out[spec.name] = out.get(spec.name, 0) + found.get(ACCOUNT, 0)
    return out


def _initial_sync(defs: Any, instance: Any, today: date, backfill_days: int) -> dict[str, int]:
    """Every family's first backfill in the runs the accounts sensor requests; return runs and failures."""
    from ebay_pipelines.defs.requests import family_run_request
    from ebay_pipelines.defs.sensors import backfill_tasks
    from ebay_pipelines.sync.families import family

    oldest = today - timedelta(days=backfill_days - 1)
    tasks = [
        (name, first if first is None else max(first, oldest), last)
        for name, first, last in backfill_tasks(today, first_day=date(2000, 1, 1))
        if last is None or last >= oldest
    ]
    failed = 0
    for name, first, last in tasks:
        request = family_run_request(family(name), ACCOUNT, first, None, "backfill", last_day=last)
        assert request.job_name is not None
        result = defs.resolve_job_def(request.job_name).execute_in_process(
            instance=instance,
            partition_key=request.partition_key,
            tags=dict(request.tags),
            run_config=dagster_support.QUIET,
            raise_on_error=False,
        )
        failed += not result.success
    return {"runs": len(tasks), "failed": failed}


def rehearse_day(
    pg: Postgres, home: Path, scenario: Scenario, profile: dict[str, Any], start: datetime, end: datetime, days: int
) -> dict[str, Any]:
    """Initial sync at ``start``, then the schedules of ``[start, end)``; return the calls counted."""
    import dagster as dg

    from ebay_pipelines.definitions import build_definitions
    from ebay_pipelines.defs.partitions import ACCOUNTS_PARTITION
    from ebay_pipelines.defs.resources import PostgresResource
    from ebay_pipelines.rehearsal import rehearse
    from ebay_pipelines.settings import OPEN_REFRESH_MINUTES_ENV

    sim = start_simulator(now=start, **profile)
    try:
        url = pg.create_database(NAME)
        engine = make_engine(url)
        env = {**project_environment(url, sim, home), OPEN_REFRESH_MINUTES_ENV: str(scenario.open_refresh_minutes)}
        with patched_environ(env), family_table(scenario.families()):
            register_account(engine, sim)
            defs = build_definitions()
            schedules = [f"sync_{spec.name}_schedule" for spec in FAMILIES]
            crons = {
                s.removeprefix("sync_").removesuffix("_schedule"): defs.resolve_schedule_def(s).cron_schedule
                for s in schedules
            }
            runs = dg.DagsterInstance.ephemeral()
            runs.add_dynamic_partitions(ACCOUNTS_PARTITION, [ACCOUNT])
            with Stopwatch() as initial_time:
                initial = _initial_sync(defs, runs, start.date(), days)
            initial["calls"] = sum(sim.calls().values())
            open_at_start = _open_records(engine)
            sim.reset_calls()
            ledger = Ledger(sim)
            with dagster_support.instance_at(home) as instance, Stopwatch() as day_time:
                instance.add_dynamic_partitions(ACCOUNTS_PARTITION, [ACCOUNT])
                day = rehearse(
                    defs,
                    instance,
                    {"postgres": PostgresResource(database_url=url)},
                    schedules,
                    start,
                    end,
                    set_clock(sim),
                    run_instance=runs,
                    run_scope=functools.partial(counted_run, ledger),
                    run_config=dagster_support.QUIET,
                )
            # Calls outside any run (none expected: schedule evaluations never call eBay).
            leftover = sim.calls() - ledger.counted
        engine.dispose()
    finally:
        sim.stop()
    families = {
        name: {
            "cron": crons[name],
            "calls": sum(calls.values()),
            "by_call": dict(sorted(calls.items())),
            "runs": sum(ledger.runs[name].values()),
            "reasons": dict(ledger.runs[name]),
        }
        for name, calls in ledger.calls.items()
    }
    by_call: Counter = Counter()
    for calls in ledger.calls.values():
        by_call += calls
    return {
        "description": scenario.description,
        "open_refresh_minutes": scenario.open_refresh_minutes,
        "initial_sync": {**initial, "seconds": initial_time.seconds, "open_records": open_at_start},
        "ticks": day.ticks,
        "skipped_ticks": day.skipped_ticks,
        "runs": len(day.runs),
        "failed_runs": [f"{r.schedule} {r.tick.isoformat()} {r.partitions}" for r in day.failed],
        "families": families,
        "by_call": dict(sorted(by_call.items())),
        "total": sum(by_call.values()),
        "token_calls": ledger.tokens,
        "unattributed": {f"{account}:{endpoint}": n for (account, endpoint), n in leftover.items()},
        "seconds": day_time.seconds,
    }


def fleet(scenarios: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Each limit's calls per account and day, and how many accounts fit in it (floor(limit / calls))."""
    limits = []
    for limit in LIMITS:
        row: dict[str, Any] = {"limit": limit.name, "daily_limit": limit.daily, "calls": list(limit.calls)}
        for name, figures in scenarios.items():
            calls = sum(figures["by_call"].get(c, 0) for c in limit.calls)
            row[name] = {"calls": calls, "max_accounts": limit.daily // calls if calls else None}
        limits.append(row)
    binding = {}
    for name in scenarios:
        bounded = [row for row in limits if row[name]["max_accounts"] is not None]
        if bounded:
            row = min(bounded, key=lambda r: r[name]["max_accounts"])
            binding[name] = {"limit": row["limit"], "max_accounts": row[name]["max_accounts"]}
    return {"limits": limits, "binding": binding}


def run(
    orders_per_day: int = SIZES["full"]["orders_per_day"],
    messages_per_day: int = SIZES["full"]["messages_per_day"],
    hours: int = SIZES["full"]["hours"],
    backfill_days: int = SIZES["full"]["backfill_days"],
    scenarios: tuple[str, ...] = tuple(SCENARIOS),
    profile: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Rehearse ``hours`` simulated hours ending at 00:01 UTC after each initial sync, per scenario.

    ``profile`` overrides simulator knobs of :data:`PROFILE` or its problem rates.
    """
    # A finished day: every tick's day partition exists whatever the wall clock's time of day.
    end = datetime.combine(datetime.now(UTC).date() - timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    end += timedelta(minutes=1)
    start = end - timedelta(hours=hours)
    options = {**PROFILE, **(profile or {}), "orders_per_day": orders_per_day, "messages_per_day": messages_per_day}
    results: dict[str, dict[str, Any]] = {}
    with postgres_server() as pg, tempfile.TemporaryDirectory(prefix="ebay-bench-home-") as tmp:
        home = Path(tmp) / "dagster"
        dagster_support.write_instance_config(home, pg.create_database("bench_dagster", migrated=False))
        for name in scenarios:
            results[name] = rehearse_day(pg, home, SCENARIOS[name], options, start, end, backfill_days)
    return {
        "size": {"hours": hours, "backfill_days": backfill_days, "start": start.isoformat(), "end": end.isoformat()},
        "profile": _profile_of(options),
        "scenarios": results,
        "fleet": fleet(results),
    }


def _profile_of(options: dict[str, Any]) -> dict[str, Any]:
    """The seller's profile: the simulator's knobs (``start_simulator``'s seed 7 and its defaults included)."""
    from ebay_pipelines.simulator import SimulatorConfig

    config = SimulatorConfig(seed=7, **options)
    return {knob: getattr(config, knob) for knob in PROFILE_KNOBS}


def _breakdown(figures: dict[str, Any]) -> str:
    return ", ".join(f"{call} {n}" for call, n in figures["by_call"].items()) or "-"


def render(result: dict[str, Any]) -> str:
    """The benchmark's tables."""
    size, profile, scenarios = result["size"], result["profile"], result["scenarios"]
    names = list(scenarios)
    headers = ["family"]
    for name in names:
        headers += [f"{name} cron", f"{name} calls"]
    headers += [f"{name} by call" for name in names if name in ("before", "after")]
    rows = []
    for family in scenarios[names[0]]["families"]:
        row: list[Any] = [family]
        for name in names:
            figures = scenarios[name]["families"][family]
            row += [figures["cron"], figures["calls"]]
        row += [_breakdown(scenarios[name]["families"][family]) for name in names if name in ("before", "after")]
        rows.append(row)
    total: list[Any] = ["total (token grants apart)"]
    for name in names:
        total += [None, scenarios[name]["total"]]
    rows.append(total + [None for name in names if name in ("before", "after")])
    title = (
        f"eBay calls per account per day: {size['hours']} simulated hours to {size['end']}, after an initial sync of "
        f"{size['backfill_days']} days; profile: {profile['orders_per_day']} orders/day, "
        f"{profile['messages_per_day']} messages/day, problems per order: dispute {profile['dispute_rate']}, "
        f"inquiry {profile['inquiry_rate']}, case {profile['case_rate']}, return {profile['return_rate']}"
    )
    out = [table(title, headers, rows)]
    out.append(
        table(
            "rehearsals",
            ["scenario", "ticks", "runs", "failed", "token grants", "unattributed", "open at start", "seconds"],
            [
                [
                    name,
                    s["ticks"],
                    s["runs"],
                    len(s["failed_runs"]),
                    s["token_calls"],
                    sum(s["unattributed"].values()),
                    ", ".join(f"{k} {v}" for k, v in s["initial_sync"]["open_records"].items()),
                    s["seconds"],
                ]
                for name, s in scenarios.items()
            ],
        )
    )
    fleet_rows = []
    for limit in result["fleet"]["limits"]:
        cells: list[Any] = [limit["limit"], limit["daily_limit"]]
        for name in names:
            cells += [limit[name]["calls"], limit[name]["max_accounts"]]
        fleet_rows.append(cells)
    binding = result["fleet"]["binding"]
    binding_row: list[Any] = ["binding (smallest)", None]
    for name in names:
        found = binding.get(name)
        binding_row += [found["limit"] if found else None, found["max_accounts"] if found else None]
    fleet_rows.append(binding_row)
    fleet_headers = ["eBay daily limit per application", "limit"]
    for name in names:
        fleet_headers += [f"{name} calls/acct", f"{name} max accts"]
    out.append(table("fleet: accounts one application can sync a day", fleet_headers, fleet_rows))
    return "\n\n".join(out)
