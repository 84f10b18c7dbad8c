"""Marketplace Account Deletion in Dagster: a sensor turns each stored notification into a purge run."""

import dagster as dg

from ebay_pipelines.defs.resources import PostgresResource
from ebay_pipelines.store.deletions import pending_notifications, record_purge_failure
from ebay_pipelines.sync.deletion import purge

#: Failed purges of one notification before the sensor stops retrying it (its last_error says why).
MAX_ATTEMPTS = 5
PURGE_OP = "purge_deleted_user"


class PurgeConfig(dg.Config):
    """Which stored notification to purge."""

    notification_id: str


@dg.op(name=PURGE_OP, description="Remove one deleted eBay user's personal data from every table.")
def purge_deleted_user(context: dg.OpExecutionContext, config: PurgeConfig, postgres: PostgresResource) -> None:
    """Purge the notification's user; a failure is counted on the notification and the run fails."""
    engine = postgres.get_engine()
    try:
        outcome = purge(engine, config.notification_id)
    except Exception as exc:
        record_purge_failure(engine, config.notification_id, f"{type(exc).__name__}: {exc}")
        raise
    if outcome.already_processed:
        context.log.info(f"notification {config.notification_id} was already purged: nothing changed")
        return
    context.add_output_metadata(
        {
            "rows_changed": dg.MetadataValue.json(outcome.rows_changed),
            "seller_accounts_retired": dg.MetadataValue.int(len(outcome.seller_accounts)),
        }
    )


@dg.job(
    name="ebay_account_deletion_job",
    description="Purge the user of one Marketplace Account Deletion notification from every table.",
    executor_def=dg.in_process_executor,
    tags={"ebay/purpose": "account_deletion"},
)
def account_deletion_job() -> None:
    """One op: the purge."""
    purge_deleted_user()


def run_request(notification_id: str, attempts: int) -> dg.RunRequest:
    """The purge run of one notification (a new run key per attempt, so a failed purge is retried)."""
    return dg.RunRequest(
        run_key=f"account-deletion:{notification_id}:{attempts}",
        run_config={"ops": {PURGE_OP: {"config": {"notification_id": notification_id}}}},
        tags={"ebay/notification_id": notification_id},
    )


@dg.sensor(
    name="ebay_account_deletion_sensor",
    job=account_deletion_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Requests a purge run for each stored account-deletion notification not purged yet.",
)
def account_deletion_sensor(
    context: dg.SensorEvaluationContext, postgres: PostgresResource
) -> list[dg.RunRequest] | dg.SkipReason:
    """One run per pending notification (failed ones again, up to MAX_ATTEMPTS)."""
    with postgres.get_engine().connect() as conn:
        pending = pending_notifications(conn, MAX_ATTEMPTS)
    if not pending:
        return dg.SkipReason("no account-deletion notification waits for its purge")
    context.log.info(f"{len(pending)} account-deletion notification(s) to purge")
    return [run_request(p.notification_id, p.attempts) for p in pending]
