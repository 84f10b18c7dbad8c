"""The downstream problem grid (``problem_orders`` and ``problem_order_items``), rebuilt per account in SQL.

The rebuild runs inside PostgreSQL (``store.problem_grid``); nothing is loaded into this process.
The schedule rebuilds, once an hour, every account whose upstream tables changed since its last build.
"""

from datetime import UTC, datetime

import dagster as dg

from ebay_pipelines.defs.assets import OWNERS, column_schema
from ebay_pipelines.defs.partitions import ACCOUNT_DIM, ACCOUNTS_PARTITION, account_partitions, parse_partition_key
from ebay_pipelines.defs.resources import PostgresResource
from ebay_pipelines.store.accounts import list_accounts, workers_enabled
from ebay_pipelines.store.problem_grid import UPSTREAM_TABLES, stale_accounts
from ebay_pipelines.sync.problems import rebuild

_BY_ACCOUNT = dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name=ACCOUNT_DIM)
_DEPS = [dg.AssetDep(table, partition_mapping=_BY_ACCOUNT) for table in UPSTREAM_TABLES]


def _spec(table: str, description: str) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=table,
        deps=_DEPS,
        group_name="problem_orders",
        owners=OWNERS,
        kinds={"postgres"},
        tags={"sync": "derived"},
        metadata={"dagster/column_schema": column_schema(table), "dagster/table_name": table},
        description=description,
    )


@dg.multi_asset(
    name="problem_orders",
    partitions_def=account_partitions,
    specs=[
        _spec(
            "problem_orders",
            "One row per order with any inquiry, case, payment dispute, return or refund: the order, per-type "
            "lists of its problems, how many are open, whether the seller must act and the next deadline.",
        ),
        _spec(
            "problem_order_items",
            "One row per inquiry, case, payment dispute, return or refund: status, whether the seller must act, "
            "respond-by date, amount, outcome, and its order.",
        ),
    ],
)
def problem_orders(context: dg.AssetExecutionContext, postgres: PostgresResource):
    """Rebuild the account's problem grid from the synced tables, in one transaction."""
    account_id = parse_partition_key(context.partition_key).account_id
    build = rebuild(postgres.get_engine(), account_id)
    context.log.info(
        f"account {account_id}: {build.problems} problems on {build.problem_orders} orders, "
        f"{build.action_needed} awaiting the seller"
    )
    common = {
        "account": account_id,
        "source_synced_at": build.source_synced_at.isoformat() if build.source_synced_at else "none",
    }
    yield dg.MaterializeResult(
        asset_key="problem_orders",
        metadata={**common, "dagster/row_count": build.problem_orders, "rows": build.problem_orders},
    )
    yield dg.MaterializeResult(
        asset_key="problem_order_items",
        metadata={
            **common,
            "dagster/row_count": build.problems,
            "rows": build.problems,
            "problems_by_type": dg.MetadataValue.json(build.by_type),
            "open_problems": build.open_problems,
            "action_needed": build.action_needed,
            "next_deadline": build.next_deadline.isoformat() if build.next_deadline else "none",
        },
    )


problem_orders_job = dg.define_asset_job(
    name="problem_orders_job",
    selection=dg.AssetSelection.assets(problem_orders).without_checks(),
    partitions_def=account_partitions,
    executor_def=dg.in_process_executor,
)


def problem_grid_requests(
    postgres: PostgresResource, partitions: list[str], tick: datetime
) -> list[dg.RunRequest] | dg.SkipReason:
    """One rebuild per account whose upstream rows changed since its last build, or why there is none."""
    with postgres.get_engine().connect() as conn:
        if not workers_enabled(conn):
            return dg.SkipReason("workers are disabled globally (ebay_worker_global_config.workers_enabled = false)")
        # Only registered, enabled accounts: a partition can outlive its account.
        registered = {a.account_id for a in list_accounts(conn, enabled_only=True)}
        stale = stale_accounts(conn, [a for a in partitions if a in registered])
    if not stale:
        return dg.SkipReason(
            "problem grid: nothing new since the last build" if partitions else "problem grid: no accounts"
        )
    stamp = tick.strftime("%Y%m%dT%H%M")
    return [dg.RunRequest(run_key=f"problem_orders:{a}:{stamp}", partition_key=a) for a in stale]


@dg.schedule(
    name="problem_orders_schedule",
    job=problem_orders_job,
    # Ten minutes after the problem families' ticks (:00 and :30): a change eBay shows is in the grid
    # within one open-problem tick plus ten minutes.
    cron_schedule="10,40 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Rebuild the problem grid of every account whose synced tables changed since its last build.",
)
def problem_orders_schedule(context: dg.ScheduleEvaluationContext, postgres: PostgresResource):
    """Twice an hour: accounts with nothing new since their last build are skipped."""
    tick = context.scheduled_execution_time or datetime.now(UTC)
    accounts = context.instance.get_dynamic_partitions(ACCOUNTS_PARTITION)
    return problem_grid_requests(postgres, list(accounts), tick.astimezone(UTC))
