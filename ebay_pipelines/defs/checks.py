"""Asset checks over the stored tables: keys, money, references and per-account freshness."""

from collections.abc import Callable
from datetime import UTC, datetime

import dagster as dg
from sqlalchemy.engine import Connection

from ebay_pipelines.defs.resources import PostgresResource
from ebay_pipelines.store import quality, reconcile
from ebay_pipelines.store.quality import CheckOutcome
from ebay_pipelines.sync.families import DATA_TABLES, FAMILIES, FamilySpec


def _result(
    outcome: CheckOutcome, severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR
) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=outcome.passed,
        severity=severity,
        metadata={
            "failures": dg.MetadataValue.int(outcome.failures),
            "rows_checked": dg.MetadataValue.int(outcome.checked),
            "examples": dg.MetadataValue.text("\n".join(outcome.examples) or "none"),
        },
    )


def _check(
    table: str,
    name: str,
    description: str,
    query: Callable[[Connection], CheckOutcome],
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=dg.AssetKey(table), name=name, description=description, blocking=False)
    def _run(postgres: PostgresResource) -> dg.AssetCheckResult:
        with postgres.get_engine().connect() as conn:
            return _result(query(conn), severity)

    return _run


def _reconcile_check(
    table: str, name: str, description: str, query: Callable[[Connection], reconcile.Reconciliation]
) -> dg.AssetChecksDefinition:
    """A reconciliation check: failures name the rows and figures; rows it cannot judge are counted by reason."""

    @dg.asset_check(asset=dg.AssetKey(table), name=name, description=description, blocking=False)
    def _run(postgres: PostgresResource) -> dg.AssetCheckResult:
        with postgres.get_engine().connect() as conn:
            found = query(conn)
        result = _result(found.outcome())
        skipped = {
            f"not_judged: {reason}": dg.MetadataValue.int(count) for reason, count in sorted(found.skipped.items())
        }
        return dg.AssetCheckResult(
            passed=result.passed, severity=result.severity, metadata={**result.metadata, **skipped}
        )

    return _run


def _duplicate_check(table: str) -> dg.AssetChecksDefinition:
    return _check(
        table,
        "no_duplicate_keys",
        f"No eBay key of {table} is stored under two accounts (that would double-count it).",
        lambda conn: quality.duplicate_keys_across_accounts(conn, table),
    )


def _freshness_check(spec: FamilySpec) -> dg.AssetChecksDefinition:
    return _check(
        spec.tables[0],
        "accounts_fresh",
        f"Every enabled account completed a {spec.name} sync within {spec.max_lag} and its last run did not fail.",
        lambda conn: quality.stale_accounts(conn, spec.name, spec.max_lag, datetime.now(UTC)),
        dg.AssetCheckSeverity.WARN,
    )


QUALITY_CHECKS: list[dg.AssetChecksDefinition] = [
    *[_duplicate_check(t) for t in DATA_TABLES],
    _check(
        "ebay_orders",
        "order_totals_match_line_items",
        "Each order's total equals its line items' cost plus delivery and tax, less discounts (eBay's pricingSummary).",
        quality.order_total_mismatches,
    ),
    _check(
        "ebay_finances_fees",
        "fees_belong_to_transactions",
        "Every finance fee belongs to a stored finance transaction.",
        quality.orphan_fees,
    ),
    _check(
        "ebay_refunds",
        "refunds_point_at_stored_orders",
        "Refunds of orders sold inside the synced orders range point at stored orders.",
        lambda conn: quality.references_without_orders(conn, "refunds"),
    ),
    _check(
        "ebay_disputes",
        "disputes_point_at_stored_orders",
        "Disputes of orders sold inside the synced orders range point at stored orders.",
        lambda conn: quality.references_without_orders(conn, "disputes"),
    ),
    _reconcile_check(
        "ebay_payouts", "payouts_match_transactions", reconcile.PAYOUT_EQUATION, reconcile.payout_mismatches
    ),
    _reconcile_check(
        "ebay_finances_transactions", "sales_match_orders", reconcile.SALE_EQUATION, reconcile.sale_mismatches
    ),
    *[_freshness_check(spec) for spec in FAMILIES],
]

quality_checks_job = dg.define_asset_job(
    name="ebay_quality_checks_job",
    selection=dg.AssetSelection.checks(*QUALITY_CHECKS),
    executor_def=dg.in_process_executor,
    description="Run every data-quality check over the stored tables.",
)

quality_checks_schedule = dg.ScheduleDefinition(
    name="ebay_quality_checks_schedule",
    job=quality_checks_job,
    cron_schedule="30 */6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
