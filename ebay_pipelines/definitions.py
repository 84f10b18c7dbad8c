"""The Dagster code location: every asset, check, sensor, schedule and resource of the project."""

from __future__ import annotations

import dagster as dg

from ebay_pipelines.defs.assets import FAMILY_ASSETS, IO_MANAGER_KEY
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


def build_definitions(postgres: PostgresResource | None = None, ebay: EbayApiResource | None = None) -> dg.Definitions:
    """Assemble the code location (tests pass their own resources)."""
    postgres = postgres or PostgresResource()
    return dg.Definitions(
        assets=[*FAMILY_ASSETS, problem_orders, ebay_account_health],
        asset_checks=QUALITY_CHECKS,
        jobs=[*FAMILY_JOBS.values(), quality_checks_job, refresh_tokens_job, health_job],
        schedules=[*FAMILY_SCHEDULES, quality_checks_schedule, refresh_tokens_schedule, ebay_health_schedule,
                   problem_orders_schedule],
        sensors=SENSORS,
        resources={
            "postgres": postgres,
            "ebay": ebay or EbayApiResource(),
            IO_MANAGER_KEY: PostgresUpsertIOManager(postgres=postgres),
        },
    )


defs = build_definitions()
