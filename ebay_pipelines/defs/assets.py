"""One multi-asset per api family, generated from the family spec table.

Each family's step checks the kill switches, opens its ``ebay_worker_run`` row, makes every eBay
call of its partitions and stages their rows (so an eBay failure is a failure of this step, with
its typed error), then yields one output per table holding only the staged handles; the IO manager
merges them into PostgreSQL. A switched-off family yields no output (nothing materializes) and its
run row says ``skipped`` with the reason.

A run of one account keeps that shape: its failure is the step's, retried by the step's
RetryPolicy when transient. A run of many accounts (a schedule tick's or a backfill's chunk)
syncs them ``EBAY_PIPELINES_ACCOUNT_THREADS`` at a time (:mod:`ebay_pipelines.sync.batch`): an
account's failure is recorded on its own rows, the others land, and the run fails naming only the
failed accounts, whose partitions alone Dagster shows as failed (the failure sensor retries them).
"""

from collections.abc import Iterator
from functools import partial

import dagster as dg
from sqlalchemy.engine import Engine

from ebay_pipelines.defs.failures import retry_only_transient
from ebay_pipelines.defs.partitions import (
    OPEN_FROM_TAG,
    WINDOW_FROM_TAG,
    PartitionGroup,
    account_partitions,
    group_partition_keys,
    window_from_tag,
    window_partitions,
)
from ebay_pipelines.defs.resources import EbayApiResource, PostgresResource
from ebay_pipelines.defs.storage_pool import pool_storage_connections
from ebay_pipelines.settings import Settings
from ebay_pipelines.store.tables import metadata as table_metadata
from ebay_pipelines.sync import partition_sync
from ebay_pipelines.sync.batch import AccountPlan, stage_accounts
from ebay_pipelines.sync.families import FamilySpec

OWNERS = ["team:ebay-sync"]
IO_MANAGER_KEY = "ebay_io_manager"


def column_schema(table_name: str) -> dg.TableSchema:
    """Return a table's columns as Dagster column-schema metadata."""
    table = table_metadata.tables[table_name]
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=c.name,
                type=str(c.type).lower(),
                description=c.comment,
                # ``nullable=None`` leaves NULL / NOT NULL to the database, whose default is nullable.
                constraints=dg.TableColumnConstraints(nullable=c.nullable is not False, unique=False),
            )
            for c in table.columns
        ]
    )


def _refresh_text(spec: FamilySpec) -> str:
    """How the family's stored records stay current, for people."""
    refresh = spec.refresh
    if refresh is None:
        return "the window filter follows changes" if spec.windowed else "every snapshot re-reads everything"
    reach = "each tick back to the oldest open record; " if refresh.still_open else ""
    return f"{reach}daily {refresh.days} days back (lag: {refresh.lag}): {refresh.reason}"


def _out(spec: FamilySpec, table: str) -> dg.AssetOut:
    endpoints = spec.endpoints
    return dg.AssetOut(
        key=dg.AssetKey(table),
        description=f"{spec.description} Table `{table}` (family `{spec.name}`).",
        io_manager_key=IO_MANAGER_KEY,
        is_required=False,
        group_name=spec.name,
        owners=OWNERS,
        kinds={"postgres", "ebay"},
        tags={"api_family": spec.name, "sync": "window" if spec.windowed else "snapshot"},
        freshness_policy=dg.FreshnessPolicy.time_window(fail_window=spec.max_lag * 2, warn_window=spec.max_lag),
        metadata={
            "dagster/column_schema": column_schema(table),
            "dagster/table_name": table,
            "api_family": spec.name,
            "ebay_calls": ", ".join(spec.ebay_calls),
            "pagination": "; ".join(f"{e.call}: {e.pagination.value}, {e.page_size} per page" for e in endpoints),
            "window_filter": spec.window_filter or "none (snapshot)",
            "window_limits": "; ".join(f"{e.call}: {e.window.limits}" for e in endpoints if e.window)
            or "none (snapshot)",
            "ebay_endpoints": dg.MetadataValue.json([e.summary() for e in endpoints]),
            "overlap_minutes": int(spec.overlap.total_seconds() // 60) if spec.windowed else 0,
            "first_backfill_days": spec.first_backfill_days,
            "refresh": _refresh_text(spec),
        },
    )


def step_retry_policy(settings: Settings) -> dg.RetryPolicy:
    """Step retries (``EBAY_PIPELINES_STEP_RETRIES``), 30 s apart and growing, for transient failures.

    They cover rate limits, 5xx and dropped connections after the HTTP client's own retries gave
    up; non-transient errors (a revoked token) are never retried (see ``defs.failures``).
    """
    return dg.RetryPolicy(
        max_retries=settings.step_retries, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
    )


def periods_per_run(settings: Settings) -> int:
    """Partitions per backfill run: ``EBAY_PIPELINES_BACKFILL_DAYS_PER_RUN`` days in the grain's periods."""
    days = settings.backfill_days_per_run
    return {"day": days, "week": max(1, days // 7), "month": max(1, days // 28)}[settings.partition_grain]


def account_plans(groups: list[PartitionGroup], tags: dict[str, str]) -> list[AccountPlan]:
    """Each partition group of a run with its account's window reach (run tags ``ebay/window_from``, ``ebay/open_from``)."""
    return [
        AccountPlan(
            account_id=g.account_id,
            first_day=g.first_day,
            through=g.through,
            label=g.label,
            keys=g.keys,
            window_from=window_from_tag(tags, WINDOW_FROM_TAG, g.account_id),
            open_from=window_from_tag(tags, OPEN_FROM_TAG, g.account_id),
        )
        for g in groups
    ]


def build_family_asset(
    spec: FamilySpec, settings: Settings, retry_policy: dg.RetryPolicy | None = None
) -> dg.AssetsDefinition:
    """Build the multi-asset that syncs ``spec`` (default retries: :func:`step_retry_policy`).

    A run syncs one partition, or, for a range run of a window family, each account's consecutive
    periods in one window; backfills of window families are split into runs of up to
    :func:`periods_per_run` partitions per account. A run naming several accounts syncs them
    concurrently, each on its own (see the module docstring).
    """
    grain = settings.partition_grain
    threads = settings.account_threads

    @dg.multi_asset(
        name=f"sync_{spec.name}",
        outs={table: _out(spec, table) for table in spec.tables},
        partitions_def=window_partitions(settings.start_date, grain) if spec.windowed else account_partitions,
        backfill_policy=dg.BackfillPolicy.multi_run(periods_per_run(settings)) if spec.windowed else None,
        deps=[dg.AssetKey(t) for t in spec.upstream],
        can_subset=False,
        op_tags={"api_family": spec.name},
        retry_policy=retry_policy or step_retry_policy(settings),
    )
    def _sync(
        context: dg.AssetExecutionContext, postgres: PostgresResource, ebay: EbayApiResource
    ) -> Iterator[dg.Output]:
        engine = postgres.get_engine()
        pool_storage_connections(context.instance)
        with retry_only_transient(f"family {spec.name} run {context.run_id}"):
            groups = group_partition_keys(context.partition_keys, grain)
            plans = account_plans(groups, dict(context.run.tags))
        if len({plan.account_id for plan in plans}) > 1:
            yield from _sync_many(context, engine, postgres.batch_rows, ebay, plans)
            return
        staged: list[partition_sync.StagedSync] = []
        for plan in plans:
            with retry_only_transient(f"family {spec.name} partition {plan.label}"):
                began = partition_sync.begin(
                    engine,
                    spec,
                    plan.account_id,
                    plan.first_day,
                    last_day=plan.through,
                    partition_key=plan.label,
                    dagster_run_id=context.run_id,
                    clients_factory=partial(ebay.clients_for, engine, plan.account_id),
                    retry_number=context.retry_number,
                    window_from=plan.window_from,
                    open_from=plan.open_from,
                )
            if isinstance(began, partition_sync.Skipped):
                context.log.warning(
                    f"account {plan.account_id} family {spec.name} {plan.label}: skipped: {began.reason}"
                )
                continue
            window = (
                f"{began.window.start.isoformat()} .. {began.window.end.isoformat()}" if began.window else "snapshot"
            )
            context.log.info(f"account {plan.account_id} family {spec.name} {plan.label}: syncing {window}")
            try:
                with retry_only_transient(f"account {plan.account_id} family {spec.name} partition {plan.label}"):
                    staged.append(began.stage(engine, postgres.batch_rows))
            except BaseException:
                partition_sync.abandon_after_failure(engine, staged, plan.label)
                raise
            context.log.info(
                f"account {plan.account_id} family {spec.name} {plan.label}: fetched "
                f"{staged[-1].staged.fetched} records in {staged[-1].staged.pages} pages, {staged[-1].api_calls} API calls"
            )
        if not staged:
            return
        for table in spec.tables:
            yield dg.Output(tuple(staged), output_name=table)

    def _sync_many(
        context: dg.AssetExecutionContext,
        engine: Engine,
        batch_rows: int,
        ebay: EbayApiResource,
        plans: list[AccountPlan],
    ) -> Iterator[dg.Output]:
        """Sync many accounts concurrently; hand the IO manager every account's outcome, failed ones included."""
        context.log.info(f"family {spec.name}: {len(plans)} account partitions, {threads} at a time")
        batch = stage_accounts(
            engine,
            spec,
            plans,
            threads=threads,
            dagster_run_id=context.run_id,
            clients_factory=partial(ebay.clients_for, engine),
            retry_number=context.retry_number,
            batch_rows=batch_rows,
            log=context.log.info,
        )
        if not any(o.staged is not None for o in batch.outcomes):
            if batch.failed:
                raise dg.Failure(description=batch.failure_text(), allow_retries=False)
            return
        for table in spec.tables:
            yield dg.Output(batch, output_name=table)

    return _sync
