"""Dagster instances and reconstructable jobs for the benchmarks."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from bench.env import ROOT

#: Run config that keeps Dagster's console logger to warnings (benchmark output stays readable).
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def write_instance_config(home: Path, dagster_url: str, queued: bool = False) -> None:
    """Write ``dagster.yaml`` under ``home``: PostgreSQL storage, and the project's run queue if ``queued``.

    The queued variant is the project's own ``dagster.yaml`` (it reads ``EBAY_PIPELINES_DAGSTER_PG_URL``).
    """
    home.mkdir(parents=True, exist_ok=True)
    if queued:
        shutil.copyfile(ROOT / "dagster.yaml", home / "dagster.yaml")
        return
    (home / "dagster.yaml").write_text(
        "storage:\n  postgres:\n    postgres_url: " + _yaml_str(dagster_url) + "\ntelemetry:\n  enabled: false\n"
    )


def _yaml_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@contextmanager
def instance_at(home: Path) -> Iterator[dg.DagsterInstance]:
    """The Dagster instance configured under ``home`` (DAGSTER_HOME must point there)."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        yield instance


def sync_job(family: str) -> dg.JobDefinition:
    """The project's ``sync_<family>_job`` (resources from the environment)."""
    from ebay_pipelines.definitions import build_definitions

    return build_definitions().resolve_job_def(f"sync_{family}_job")


def multiprocess_sync_job(family: str) -> dg.JobDefinition:
    """``sync_<family>_job`` as the project defines it, but with Dagster's multiprocess executor."""
    from ebay_pipelines.definitions import build_definitions
    from ebay_pipelines.defs.jobs import build_family_job
    from ebay_pipelines.settings import Settings
    from ebay_pipelines.sync.families import family as family_spec

    settings = Settings.from_env()
    defs = build_definitions(settings=settings)
    base = build_family_job(family_spec(family), settings)
    job = dg.define_asset_job(
        name=f"{base.name}_multiprocess",
        selection=base.selection,
        partitions_def=base.partitions_def,
        executor_def=dg.multiprocess_executor,
        tags=base.tags,
    )
    local = dg.Definitions(assets=defs.assets, jobs=[job], resources=defs.resources)
    return local.resolve_job_def(job.name)


def sync_orders_job_multiprocess() -> dg.JobDefinition:
    """The orders job with the multiprocess executor, reconstructable in another process."""
    return multiprocess_sync_job("orders")


def sync_active_inventory_job() -> dg.JobDefinition:
    """``sync_active_inventory_job``, reconstructable in another process."""
    return sync_job("active_inventory")


def sync_offers_job() -> dg.JobDefinition:
    """``sync_offers_job``, reconstructable in another process."""
    return sync_job("offers")
