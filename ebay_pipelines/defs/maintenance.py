"""Token refresh ahead of expiry and the per-account health asset (what the old monitors did)."""

import dagster as dg

from ebay_pipelines.defs.assets import OWNERS
from ebay_pipelines.defs.partitions import ACCOUNTS_PARTITION, account_partitions, parse_partition_key
from ebay_pipelines.defs.resources import PostgresResource
from ebay_pipelines.sync.maintenance import account_health, inventory_coverage, refresh_tokens, token_lifetime


@dg.op(description="Refresh every enabled account's access token that expires within 45 minutes.")
def refresh_access_tokens(context: dg.OpExecutionContext, postgres: PostgresResource) -> None:
    """Refresh tokens; accounts that must re-authorize are reported, others are unaffected."""
    results = refresh_tokens(postgres.get_engine())
    for result in results:
        if result.ok:
            context.log.info(f"account {result.account_id}: access token valid")
        else:
            context.log.warning(f"account {result.account_id}: {result.error}")
    context.add_output_metadata(
        {
            "accounts": dg.MetadataValue.int(len(results)),
            "refreshed_or_valid": dg.MetadataValue.int(sum(r.ok for r in results)),
            "must_reauthorize": dg.MetadataValue.text(
                ", ".join(r.account_id for r in results if r.needs_reauthorization) or "none"
            ),
            "failed": dg.MetadataValue.text(", ".join(r.account_id for r in results if not r.ok) or "none"),
        }
    )


@dg.job(
    description="Refresh eBay access tokens ahead of expiry for every enabled account.",
    executor_def=dg.in_process_executor,
)
def refresh_tokens_job() -> None:
    """One op that refreshes all accounts' tokens."""
    refresh_access_tokens()


refresh_tokens_schedule = dg.ScheduleDefinition(
    name="refresh_tokens_schedule",
    job=refresh_tokens_job,
    cron_schedule="*/30 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

HEALTH_CHECK = dg.AssetCheckSpec(
    name="all_apis_answer",
    asset="ebay_account_health",
    description="The token is valid and every eBay API answered a minimal call; warns 30 days before the "
    "refresh token expires and fails once it has.",
)


@dg.asset(
    name="ebay_account_health",
    partitions_def=account_partitions,
    group_name="health",
    owners=OWNERS,
    kinds={"ebay"},
    check_specs=[HEALTH_CHECK],
    description="Per-account health: the access token and one cheap call per eBay API, with timings and errors.",
)
def ebay_account_health(context: dg.AssetExecutionContext, postgres: PostgresResource):
    """Probe one account and record each API's answer as metadata and a check result."""
    account_id = parse_partition_key(context.partition_key).account_id
    lifetime = token_lifetime(postgres.get_engine(), account_id)
    results = account_health(postgres.get_engine(), account_id)
    failed = [r for r in results if not r.ok]
    metadata = {
        f"{r.api}.{r.call}": ("ok" if r.ok else f"FAILED: {r.error}")
        + (f": {r.error}" if r.ok and r.error else "")
        + f" ({r.seconds}s)"
        for r in results
    }
    metadata["refresh_token_expires_at"] = (
        lifetime.expires_at.isoformat() if lifetime.expires_at is not None else "not known"
    )
    if lifetime.warning:
        context.log.warning(lifetime.warning)
        metadata["refresh_token_warning"] = lifetime.warning
    coverage = inventory_coverage(postgres.get_engine(), account_id)
    if coverage is not None:
        metadata["inventory_api_coverage"] = coverage
    yield dg.MaterializeResult(metadata={"account": account_id, "healthy": not failed, **metadata})
    # A refresh token expiring within 30 days fails the check as a warning; expired, as an error.
    warn_only = not failed and lifetime.warning is not None
    yield dg.AssetCheckResult(
        check_name=HEALTH_CHECK.name,
        passed=not failed and not warn_only,
        severity=dg.AssetCheckSeverity.WARN if warn_only else dg.AssetCheckSeverity.ERROR,
        metadata={
            "failed_apis": ", ".join(f"{r.api}: {r.error}" for r in failed) or "none",
            "refresh_token": lifetime.expired or lifetime.warning or "valid",
        },
    )


health_job = dg.define_asset_job(
    name="ebay_health_job",
    selection=dg.AssetSelection.assets("ebay_account_health"),
    partitions_def=account_partitions,
    executor_def=dg.in_process_executor,
)


@dg.schedule(
    name="ebay_health_schedule",
    job=health_job,
    cron_schedule="10 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def ebay_health_schedule(context: dg.ScheduleEvaluationContext):
    """Probe every registered account once an hour."""
    accounts = context.instance.get_dynamic_partitions(ACCOUNTS_PARTITION)
    stamp = context.scheduled_execution_time.strftime("%Y%m%dT%H%M") if context.scheduled_execution_time else "now"
    return [dg.RunRequest(run_key=f"health:{a}:{stamp}", partition_key=a) for a in accounts] or dg.SkipReason(
        "no accounts"
    )
