"""One schedule per api family, cadence from the spec table.

Each tick requests one run per chunk of up to ``EBAY_PIPELINES_ACCOUNTS_PER_RUN`` enabled accounts
(contiguous in the partitions' order), each account: a snapshot, or the window from the first day
:func:`ebay_pipelines.sync.refresh.first_days` names to today, i.e. today; yesterday again on the
first tick after midnight UTC; and, for a family whose records keep changing after their filter
date, back to its oldest open record (every tick) or its whole lifecycle (that first tick).
A tick with nothing to do says why (kill switch, disabled families, no accounts); accounts whose
refresh token expired or was rejected, or that did not grant the family's scope, are left out
with that reason and no eBay call is made for them.
"""

from collections.abc import Iterable
from datetime import UTC, date, datetime

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from ebay_pipelines.defs.partitions import ACCOUNTS_PARTITION, period_start
from ebay_pipelines.defs.requests import account_chunks, accounts_label, accounts_run_request
from ebay_pipelines.defs.resources import PostgresResource
from ebay_pipelines.settings import Settings
from ebay_pipelines.store import mirrors
from ebay_pipelines.store.accounts import list_accounts, workers_enabled
from ebay_pipelines.sync.families import FAMILIES, FamilySpec
from ebay_pipelines.sync.refresh import first_days, is_daily_sweep
from ebay_pipelines.sync.scopes import scope_reason


def family_schedule_requests(
    spec: FamilySpec,
    postgres: PostgresResource,
    partitions: Iterable[str],
    tick: datetime,
    earliest: date,
    grain: str = "day",
    accounts_per_run: int = 50,
) -> list[dg.RunRequest] | dg.SkipReason:
    """Return the run requests of one tick of ``spec``'s schedule, or why there are none.

    ``partitions`` are the account partitions in Dagster's order (a set is taken sorted);
    ``earliest`` is the first day partition (``EBAY_PIPELINES_START_DATE``). Each request syncs
    up to ``accounts_per_run`` contiguous accounts: the current ``grain`` period, its window
    narrowed to the days the tick reads (``ebay/window_from``).
    """
    order = sorted(partitions) if isinstance(partitions, (set, frozenset)) else list(partitions)
    present = set(order)
    engine = postgres.get_engine()
    with engine.connect() as conn:
        if not workers_enabled(conn):
            return dg.SkipReason("workers are disabled globally (ebay_worker_global_config.workers_enabled = false)")
        accounts = [a for a in list_accounts(conn, enabled_only=True) if a.account_id in present]
        skipped: list[str] = []
        wanted: list[str] = []
        for account in accounts:
            allowed, reason = mirrors.sync_allowed(conn, account.account_id, spec.name)
            if allowed:
                # A scope the seller did not grant: no run is requested (it could only be skipped).
                reason = scope_reason(conn, account.account_id, spec)
                allowed = reason is None
            if allowed:
                wanted.append(account.account_id)
            else:
                assert reason is not None
                skipped.append(reason)
        if not wanted:
            reasons = "; ".join(skipped) if skipped else "no enabled accounts with partitions yet"
            return dg.SkipReason(f"{spec.name}: nothing to sync: {reasons}")
        starts = first_days(conn, spec, wanted, tick, earliest) if spec.windowed else {}
    stamp = tick.strftime("%Y%m%dT%H%M")
    today = tick.date()
    current = period_start(grain, today)
    requests = []
    for chunk in account_chunks(order, wanted, accounts_per_run):
        run_key = f"{spec.name}:{accounts_label(chunk)}:{stamp}"
        if not spec.windowed:
            requests.append(accounts_run_request(spec, chunk, None, run_key, "schedule"))
            continue
        window_from: dict[str, date] = {}
        open_from: dict[str, date] = {}
        if spec.refresh is None:
            # Every account reads the same days: today, and yesterday once more after midnight.
            first = starts[chunk[0]]
            first_period = period_start(grain, first)
            if first != first_period:
                window_from = dict.fromkeys(chunk, first)
            reason = "schedule" if first == today else "late-change refresh"
            requests.append(
                accounts_run_request(
                    spec, chunk, first_period, run_key, reason, last_day=current, window_from=window_from
                )
            )
            continue
        # A refresh re-reads older records inside the current period's run: one partition, a longer window.
        sweep = is_daily_sweep(tick)
        for account_id in chunk:
            first = starts[account_id]
            if sweep:
                if first != current:
                    window_from[account_id] = first
                continue
            if today != current:
                window_from[account_id] = today
            if first < today:
                open_from[account_id] = first
        if sweep:
            reason = "daily refresh" if window_from else "schedule"
        else:
            reason = "open records refresh" if open_from else "schedule"
        requests.append(
            accounts_run_request(spec, chunk, current, run_key, reason, window_from=window_from, open_from=open_from)
        )
    return requests


def schedule_cron(spec: FamilySpec, settings: Settings) -> str:
    """The cron of ``spec``'s schedule: its own, or every ``EBAY_PIPELINES_OPEN_REFRESH_MINUTES`` for open problems."""
    if spec.refresh is None or not spec.refresh.still_open:
        return spec.cron
    minutes = settings.open_refresh_minutes
    return "0 * * * *" if minutes == 60 else f"*/{minutes} * * * *"


def build_family_schedule(
    spec: FamilySpec, job: UnresolvedAssetJobDefinition, settings: Settings
) -> dg.ScheduleDefinition:
    """Build the schedule of one family, launching its ``job``."""
    cron = schedule_cron(spec, settings)
    earliest = settings.start_date
    grain, per_run = settings.partition_grain, settings.accounts_per_run

    @dg.schedule(
        name=f"sync_{spec.name}_schedule",
        job=job,
        cron_schedule=cron,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Sync {spec.name} for every enabled account ({cron} UTC).",
    )
    def _schedule(context: dg.ScheduleEvaluationContext, postgres: PostgresResource):
        tick = context.scheduled_execution_time or datetime.now(UTC)
        partitions = list(context.instance.get_dynamic_partitions(ACCOUNTS_PARTITION))
        return family_schedule_requests(spec, postgres, partitions, tick.astimezone(UTC), earliest, grain, per_run)

    return _schedule


def build_family_schedules(
    jobs: dict[str, UnresolvedAssetJobDefinition], settings: Settings
) -> list[dg.ScheduleDefinition]:
    """Every family's schedule, given the family jobs by name."""
    return [build_family_schedule(spec, jobs[spec.name], settings) for spec in FAMILIES]
