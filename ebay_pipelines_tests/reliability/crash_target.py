"""Materialize one orders partition in this process (the crash test kills it mid-way with SIGKILL).

Usage: python crash_target.py DATABASE_URL DAGSTER_STORAGE_URL ACCOUNT_ID YYYY-MM-DD
eBay settings and the secret key come from the environment, as in a Dagster run worker.
"""

from __future__ import annotations

import sys
from datetime import date

import dagster as dg

from ebay_pipelines.definitions import build_definitions
from ebay_pipelines.defs.partitions import window_key
from ebay_pipelines.defs.resources import EbayApiResource, PostgresResource


def main(database_url: str, storage_url: str, account_id: str, day: str) -> int:
    """Run ``sync_orders_job`` for one partition; exit 0 on success."""
    defs = build_definitions(
        PostgresResource(database_url=database_url),
        EbayApiResource(retry_max_attempts=3, retry_initial_delay_s=0.01, retry_jitter_s=0.01, request_timeout_s=30.0),
    )
    with dg.instance_for_test(overrides={"storage": {"postgres": {"postgres_url": storage_url}}}) as instance:
        result = defs.resolve_job_def("sync_orders_job").execute_in_process(
            instance=instance, partition_key=str(window_key(account_id, date.fromisoformat(day))), raise_on_error=False
        )
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
