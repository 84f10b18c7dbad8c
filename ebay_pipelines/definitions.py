"""The Dagster code location: every asset, check, sensor, schedule and resource of the project.

Nothing is read from the environment when this module is imported: Dagster calls :func:`defs`
when it loads the code location, and the settings are read then, once.
"""

from __future__ import annotations

import dagster as dg

from ebay_pipelines import settings as project_settings
from ebay_pipelines.defs.assets import IO_MANAGER_KEY, build_family_asset
from ebay_pipelines.defs.checks import QUALITY_CHECKS, quality_checks_job, quality_checks_schedule
from ebay_pipelines.defs.deletion import account_deletion_job, account_deletion_sensor
from ebay_pipelines.defs.io_manager import PostgresUpsertIOManager
from ebay_pipelines.defs.jobs import build_family_jobs
from ebay_pipelines.defs.maintenance import (
    ebay_account_health,
    ebay_health_schedule,
    health_job,
    refresh_tokens_job,
    refresh_tokens_schedule,
)
from ebay_pipelines.defs.problem_orders import problem_orders, problem_orders_schedule
from ebay_pipelines.defs.quotas import ebay_api_quota, quota_job, quota_schedule
from ebay_pipelines.defs.resources import EbayApiResource, PostgresResource
from ebay_pipelines.defs.schedules import build_family_schedules
from ebay_pipelines.defs.sensors import build_sensors
from ebay_pipelines.settings import Settings
from ebay_pipelines.sync.families import FAMILIES


def default_resources(settings: Settings) -> tuple[PostgresResource, EbayApiResource]:
    """The resources of a deployment: each value that is configured comes in through ``dg.EnvVar``.

    Unset values keep their defaults (the embedded PostgreSQL, production eBay hosts).
    """

    def from_env(name: str) -> dg.EnvVar | None:
        return dg.EnvVar(name) if name in settings.configured else None

    ebay = EbayApiResource(
        environment=from_env(project_settings.EBAY_ENVIRONMENT_ENV),
        api_base_url=from_env(project_settings.EBAY_API_BASE_URL_ENV),
        client_id=from_env(project_settings.EBAY_CLIENT_ID_ENV),
        client_secret=from_env(project_settings.EBAY_CLIENT_SECRET_ENV),
    )
    return PostgresResource(database_url=from_env(project_settings.DATABASE_URL_ENV)), ebay


def build_definitions(
    postgres: PostgresResource | None = None,
    ebay: EbayApiResource | None = None,
    step_retry_policy: dg.RetryPolicy | None = None,
    settings: Settings | None = None,
) -> dg.Definitions:
    """Assemble the code location (tests pass their own resources and, optionally, a step retry policy)."""
    settings = settings or Settings.from_env()
    default_postgres, default_ebay = default_resources(settings)
    postgres = postgres or default_postgres
    jobs = build_family_jobs(settings)
    return dg.Definitions(
        assets=[
            *[build_family_asset(spec, settings, step_retry_policy) for spec in FAMILIES],
            problem_orders,
            ebay_account_health,
            ebay_api_quota,
        ],
        asset_checks=QUALITY_CHECKS,
        jobs=[*jobs.values(), quality_checks_job, refresh_tokens_job, health_job, account_deletion_job, quota_job],
        schedules=[
            *build_family_schedules(jobs, settings),
            quality_checks_schedule,
            refresh_tokens_schedule,
            ebay_health_schedule,
            problem_orders_schedule,
            quota_schedule,
        ],
        sensors=[*build_sensors(list(jobs.values())), account_deletion_sensor],
        resources={
            "postgres": postgres,
            "ebay": ebay or default_ebay,
            IO_MANAGER_KEY: PostgresUpsertIOManager(postgres=postgres),
        },
    )


@dg.definitions
def defs() -> dg.Definitions:
    """The code location Dagster loads (``-m ebay_pipelines.definitions``)."""
    return build_definitions()
