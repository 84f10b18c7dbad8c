"""One asset job per api family (the unit schedules, sensors and manual runs launch)."""

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from ebay_pipelines.defs.partitions import account_partitions, window_partitions
from ebay_pipelines.settings import Settings
from ebay_pipelines.sync.families import FAMILIES, FamilySpec


def job_name(spec: FamilySpec) -> str:
    """Return the name of a family's job, e.g. ``sync_orders_job``."""
    return f"sync_{spec.name}_job"


def build_family_job(spec: FamilySpec, settings: Settings) -> UnresolvedAssetJobDefinition:
    """Build the job that materializes one family's tables for one partition."""
    return dg.define_asset_job(
        name=job_name(spec),
        selection=dg.AssetSelection.assets(*[dg.AssetKey(t) for t in spec.tables]).without_checks(),
        partitions_def=window_partitions(settings.start_date, settings.partition_grain)
        if spec.windowed
        else account_partitions,
        executor_def=dg.in_process_executor,
        tags={"api_family": spec.name},
        description=f"Sync the {spec.name} family ({', '.join(spec.tables)}) for one or many account partitions.",
    )


def build_family_jobs(settings: Settings) -> dict[str, UnresolvedAssetJobDefinition]:
    """Every family's job, by family name."""
    return {spec.name: build_family_job(spec, settings) for spec in FAMILIES}
