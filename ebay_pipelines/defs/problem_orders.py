"""The downstream ``problem_orders`` asset: the one grid of problem orders, per account."""

import dagster as dg
import pandas as pd

from ebay_pipelines.defs.assets import IO_MANAGER_KEY, OWNERS, column_schema
from ebay_pipelines.defs.partitions import ACCOUNT_DIM, ACCOUNTS_PARTITION, account_partitions, parse_partition_key
from ebay_pipelines.sync.problems import build_problem_orders

_BY_ACCOUNT = dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name=ACCOUNT_DIM)


def _input(table: str, columns: list[str]) -> dg.AssetIn:
    return dg.AssetIn(
        key=dg.AssetKey(table), partition_mapping=_BY_ACCOUNT, metadata={"columns": columns, "all_days": True}
    )


@dg.asset(
    name="problem_orders",
    partitions_def=account_partitions,
    io_manager_key=IO_MANAGER_KEY,
    group_name="problem_orders",
    owners=OWNERS,
    kinds={"postgres", "pandas"},
    tags={"sync": "derived"},
    metadata={"dagster/column_schema": column_schema("problem_orders"), "dagster/table_name": "problem_orders"},
    ins={
        "orders": _input(
            "ebay_orders",
            [
                "order_id",
                "creation_date",
                "buyer_username",
                "order_payment_status",
                "order_fulfillment_status",
                "currency",
                "total_value",
            ],
        ),
        "line_items": _input(
            "order_line_items", ["order_id", "line_item_id", "legacy_item_id", "legacy_transaction_id"]
        ),
        "inquiries": _input("ebay_inquiries", ["inquiry_id", "order_id", "item_id", "transaction_id", "creation_date"]),
        "cases": _input("ebay_cases", ["case_id", "order_id", "item_id", "transaction_id", "creation_date"]),
        "disputes": _input("ebay_disputes", ["payment_dispute_id", "order_id", "open_date"]),
        "refunds": _input(
            "ebay_refunds",
            ["refund_id", "refund_source", "order_id", "return_id", "refund_amount_value", "refund_date"],
        ),
    },
    description="One row per order with any inquiry, case, payment dispute, return or refund, and what happened "
    "to it; rebuilt per account from the synced tables.",
)
def problem_orders(
    context: dg.AssetExecutionContext,
    orders: pd.DataFrame,
    line_items: pd.DataFrame,
    inquiries: pd.DataFrame,
    cases: pd.DataFrame,
    disputes: pd.DataFrame,
    refunds: pd.DataFrame,
) -> pd.DataFrame:
    """Join the problem tables to their orders (Post-Order rows through their line items)."""
    account_id = parse_partition_key(context.partition_key).account_id
    frame = build_problem_orders(account_id, orders, line_items, inquiries, cases, disputes, refunds)
    context.log.info(f"account {account_id}: {len(frame)} problem orders")
    return frame


problem_orders_job = dg.define_asset_job(
    name="problem_orders_job",
    selection=dg.AssetSelection.assets(problem_orders).without_checks(),
    partitions_def=account_partitions,
    executor_def=dg.in_process_executor,
)


@dg.schedule(
    name="problem_orders_schedule",
    job=problem_orders_job,
    cron_schedule="40 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def problem_orders_schedule(context: dg.ScheduleEvaluationContext):
    """Rebuild every account's problem orders once an hour from the synced tables."""
    accounts = context.instance.get_dynamic_partitions(ACCOUNTS_PARTITION)
    stamp = context.scheduled_execution_time.strftime("%Y%m%dT%H%M") if context.scheduled_execution_time else "now"
    return [dg.RunRequest(run_key=f"problem_orders:{a}:{stamp}", partition_key=a) for a in accounts] or dg.SkipReason(
        "no accounts"
    )
