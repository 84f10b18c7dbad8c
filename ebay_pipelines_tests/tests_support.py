"""Small helpers shared by tests (importable because pytest puts this folder on sys.path)."""

from __future__ import annotations

from datetime import date
from typing import Any

import dagster as dg
import sqlalchemy as sa
from conftest import create_database

from ebay_pipelines.store.urls import database_name


def create_dagster_database(server_url: str, ebay_url: str) -> str:
    """Create the sibling database Dagster's storage uses next to a test's eBay database."""
    return create_database(server_url, f"{database_name(ebay_url)}_dagster")


def fast_definitions(database_url: str, **ebay_options: Any) -> dg.Definitions:
    """The project's definitions with quick HTTP retries, on the test's database."""
    from ebay_pipelines.definitions import build_definitions
    from ebay_pipelines.defs.resources import EbayApiResource, PostgresResource

    options = {
        "retry_max_attempts": 3,
        "retry_initial_delay_s": 0.01,
        "retry_max_total_s": 5.0,
        "request_timeout_s": 5.0,
        **ebay_options,
    }
    return build_definitions(PostgresResource(database_url=database_url), EbayApiResource(**options))


def register_account(engine: sa.Engine, sim: Any, account_id: str, instance: dg.DagsterInstance | None = None) -> None:
    """Register an account with the simulator's refresh token (and as a partition)."""
    from ebay_pipelines.store.accounts import add_account
    from ebay_pipelines.store.secrets import load_cipher

    add_account(engine, load_cipher(), account_id, sim.refresh_token_for(account_id))
    if instance is not None:
        instance.add_dynamic_partitions("ebay_accounts", [account_id])


def run_family(
    defs: dg.Definitions, instance: dg.DagsterInstance, family: str, account_id: str, day: date | None = None
) -> dg.ExecuteInProcessResult:
    """Materialize one family partition in process and return the result (errors not raised)."""
    from ebay_pipelines.defs.partitions import window_key

    key = str(window_key(account_id, day)) if day else account_id
    return defs.resolve_job_def(f"sync_{family}_job").execute_in_process(
        instance=instance, partition_key=key, raise_on_error=False
    )


def materialization_metadata(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, Any]]:
    """Metadata of each materialization in a run, by asset key."""
    out = {}
    for event in result.get_asset_materialization_events():
        mat = event.step_materialization_data.materialization
        out[mat.asset_key.to_user_string()] = {k: v.value for k, v in mat.metadata.items()}
    return out


def run_family_range(
    defs: dg.Definitions, instance: dg.DagsterInstance, family: str, first: str, last: str
) -> dg.ExecuteInProcessResult:
    """Materialize the partitions ``first..last`` (``ACCOUNT|DAY`` keys) of a window family in one run."""
    return defs.resolve_job_def(f"sync_{family}_job").execute_in_process(
        instance=instance,
        raise_on_error=False,
        tags={"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last},
    )


def accounts_sensor_tick(instance: dg.DagsterInstance, postgres: Any, cursor: str | None) -> dg.SensorResult:
    """Evaluate the accounts sensor with ``postgres`` (a PostgresResource) and apply its partition requests,
    as the daemon does."""
    from ebay_pipelines.defs import sensors
    from ebay_pipelines.defs.jobs import build_family_jobs
    from ebay_pipelines.settings import Settings

    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"postgres": postgres})
    result = sensors.build_accounts_sensor(list(build_family_jobs(Settings.from_env()).values()))(context)
    for request in result.dynamic_partitions_requests or []:
        if isinstance(request, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        else:
            for key in request.partition_keys:
                instance.delete_dynamic_partition(request.partitions_def_name, key)
    return result
