"""eBay's daily quota figures: the application's and each account's, read once a day after eBay's reset."""

import dagster as dg

from ebay_pipelines.defs.assets import OWNERS
from ebay_pipelines.defs.resources import PostgresResource
from ebay_pipelines.sync.quota_guard import fetch_quotas


@dg.asset(
    name="ebay_api_quota",
    group_name="health",
    owners=OWNERS,
    kinds={"ebay", "postgres"},
    description="eBay's call quotas (Developer Analytics getRateLimits for the application, getUserRateLimits "
    "per account): limit, remaining and reset per API resource. Runs skip a family whose quota is below "
    "EBAY_PIPELINES_QUOTA_RESERVE until eBay's reset.",
)
def ebay_api_quota(context: dg.AssetExecutionContext, postgres: PostgresResource) -> dg.MaterializeResult:
    """Read and store eBay's quota figures; an account whose call failed is named, the others are stored."""
    fetched = fetch_quotas(postgres.get_engine())
    for account_id, error in fetched.failed.items():
        context.log.warning(f"account {account_id}: getUserRateLimits failed: {error}")
    return dg.MaterializeResult(
        metadata={
            "application_rates": fetched.app,
            "accounts": len(fetched.accounts),
            "account_rates": sum(fetched.accounts.values()),
            "failed_accounts": ", ".join(sorted(fetched.failed)) or "none",
        }
    )


quota_job = dg.define_asset_job(
    name="ebay_api_quota_job",
    selection=dg.AssetSelection.assets("ebay_api_quota"),
    executor_def=dg.in_process_executor,
)

#: Five minutes after eBay's daily reset (midnight Pacific time), and at noon.
quota_schedule = dg.ScheduleDefinition(
    name="ebay_api_quota_schedule",
    job=quota_job,
    cron_schedule="5 0,12 * * *",
    execution_timezone="America/Los_Angeles",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
