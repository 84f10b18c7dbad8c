"""The canceled-run sensor closes the run rows of a canceled run (its context has no failure event)."""

from __future__ import annotations

import dagster as dg
import sqlalchemy as sa

from ebay_pipelines.defs import sensors
from ebay_pipelines.defs.resources import PostgresResource
from ebay_pipelines.store import mirrors


def test_canceled_sensor_closes_the_rows_of_a_canceled_run(
    project_env, database_url: str, engine: sa.Engine, dagster_instance: dg.DagsterInstance
) -> None:
    @dg.op
    def sync_step() -> None:
        """Stands in for the step of the canceled run."""

    @dg.job(name="sync_orders_job")
    def job() -> None:
        sync_step()

    run = dagster_instance.create_run_for_job(job_def=job, tags={"dagster/partition": "shop-a|2026-11-20"})
    handle = mirrors.start_run(engine, "shop-a", "orders", run.run_id, "shop-a|2026-11-20", {"window_from": "x"})
    event = dagster_instance.report_run_canceled(run, "canceled from the UI")
    context = dg.build_run_status_sensor_context(
        sensor_name="ebay_run_canceled_sensor",
        dagster_instance=dagster_instance,
        dagster_run=dagster_instance.get_run_by_id(run.run_id),
        dagster_event=event,
    )
    sensors.ebay_run_canceled_sensor(context, postgres=PostgresResource(database_url=database_url))
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("select status, error_message from ebay_worker_run where id = :i"), {"i": handle.run_id}
        ).one()
    assert row.status == "error"
    assert row.error_message == f"Dagster run {run.run_id} was canceled"
