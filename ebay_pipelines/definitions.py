"""The Dagster code location: every asset, check, sensor, schedule and resource of the project."""

from __future__ import annotations

import dagster as dg

from ebay_pipelines.defs.assets import FAMILY_ASSETS, IO_MANAGER_KEY, build_family_asset
from ebay_pipelines.defs.checks import QUALITY_CHECKS, quality_checks_job, quality_checks_schedule
from ebay_pipelines.defs.io_manager import PostgresUpsertIOManager
from ebay_pipelines.defs.jobs import FAMILY_JOBS
from ebay_pipelines.defs.maintenance import (
    ebay_account_health,
    ebay_health_schedule,
    health_job,
    refresh_tokens_job,
    refresh_tokens_schedule,
)
from ebay_pipelines.defs.problem_orders import problem_orders, problem_orders_schedule
from ebay_pipelines.defs.resources import EbayApiResource, PostgresResource
from ebay_pipelines.defs.schedules import FAMILY_SCHEDULES
from ebay_pipelines.defs.sensors import SENSORS
from ebay_pipelines.sync.families import FAMILIES


def build_definitions(
    postgres: PostgresResource | None = None,
    ebay: EbayApiResource | None = None,
    step_retry_policy: dg.RetryPolicy | None = None,
) -> dg.Definitions:
    """Assemble the code location (tests pass their own resources and, optionally, a step retry policy)."""
    postgres = postgres or PostgresResource()
    family_assets = [build_family_asset(s, step_retry_policy) for s in FAMILIES] if step_retry_policy else FAMILY_ASSETS
    return dg.Definitions(
        assets=[*family_assets, problem_orders, ebay_account_health],
        asset_checks=QUALITY_CHECKS,
        jobs=[*FAMILY_JOBS.values(), quality_checks_job, refresh_tokens_job, health_job],
        schedules=[
            *FAMILY_SCHEDULES,
            quality_checks_schedule,
            refresh_tokens_schedule,
            ebay_health_schedule,
            problem_orders_schedule,
        ],
        sensors=SENSORS,
        resources={
            "postgres": postgres,
            "ebay": ebay or EbayApiResource(),
            IO_MANAGER_KEY: PostgresUpsertIOManager(postgres=postgres),
        },
    )


defs = build_definitions()
