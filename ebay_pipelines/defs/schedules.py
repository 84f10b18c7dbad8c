"""One schedule per api family, cadence from the spec table.

Each tick requests the latest window (or a snapshot) for every enabled account; the first tick
after midnight UTC also refreshes yesterday once more so late changes inside the overlap land.
A tick with nothing to do says why (kill switch, disabled families, no accounts).
"""

from datetime import UTC, datetime, timedelta

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from ebay_pipelines.defs.partitions import ACCOUNTS_PARTITION
from ebay_pipelines.defs.requests import family_run_request
from ebay_pipelines.defs.resources import PostgresResource
from ebay_pipelines.store import mirrors
from ebay_pipelines.store.accounts import list_accounts, workers_enabled
from ebay_pipelines.sync.families import FAMILIES, FamilySpec

LATE_REFRESH_BEFORE = timedelta(minutes=15)


def family_schedule_requests(
    spec: FamilySpec, postgres: PostgresResource, partitions: set[str], tick: datetime
) -> list[dg.RunRequest] | dg.SkipReason:
    """Return the run requests of one tick of ``spec``'s schedule, or why there are none."""
    engine = postgres.get_engine()
    with engine.connect() as conn:
        if not workers_enabled(conn):
            return dg.SkipReason("workers are disabled globally (ebay_worker_global_config.workers_enabled = false)")
        accounts = [a for a in list_accounts(conn, enabled_only=True) if a.account_id in partitions]
        skipped: list[str] = []
        wanted: list[str] = []
        for account in accounts:
            allowed, reason = mirrors.sync_allowed(conn, account.account_id, spec.name)
            if allowed:
                wanted.append(account.account_id)
            else:
                assert reason is not None
                skipped.append(reason)
    if not wanted:
        reasons = "; ".join(skipped) if skipped else "no enabled accounts with partitions yet"
        return dg.SkipReason(f"{spec.name}: nothing to sync: {reasons}")
    stamp = tick.strftime("%Y%m%dT%H%M")
    today = tick.date()
    requests = []
    for account_id in wanted:
        if spec.windowed:
            requests.append(
                family_run_request(spec, account_id, today, f"{spec.name}:{account_id}:{stamp}", "schedule")
            )
            if tick - datetime.combine(today, datetime.min.time(), tzinfo=UTC) < LATE_REFRESH_BEFORE:
                yesterday = today - timedelta(days=1)
                requests.append(
                    family_run_request(
                        spec, account_id, yesterday, f"{spec.name}:{account_id}:{stamp}:late", "late-change refresh"
                    )
                )
        else:
            requests.append(family_run_request(spec, account_id, None, f"{spec.name}:{account_id}:{stamp}", "schedule"))
    return requests


def build_family_schedule(spec: FamilySpec, job: UnresolvedAssetJobDefinition) -> dg.ScheduleDefinition:
    """Build the schedule of one family, launching its ``job``."""

    @dg.schedule(
        name=f"sync_{spec.name}_schedule",
        job=job,
        cron_schedule=spec.cron,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Sync {spec.name} for every enabled account ({spec.cron} UTC).",
    )
    def _schedule(context: dg.ScheduleEvaluationContext, postgres: PostgresResource):
        tick = context.scheduled_execution_time or datetime.now(UTC)
        partitions = set(context.instance.get_dynamic_partitions(ACCOUNTS_PARTITION))
        return family_schedule_requests(spec, postgres, partitions, tick.astimezone(UTC))

    return _schedule


def build_family_schedules(jobs: dict[str, UnresolvedAssetJobDefinition]) -> list[dg.ScheduleDefinition]:
    """Every family's schedule, given the family jobs by name."""
    return [build_family_schedule(spec, jobs[spec.name]) for spec in FAMILIES]
