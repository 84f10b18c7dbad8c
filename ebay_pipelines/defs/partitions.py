"""Partitions: accounts (dynamic) × UTC days for window families, accounts alone for snapshots.

Keep accounts × days under ~100,000 per asset (Dagster's recommended ceiling): with the default
start date the day dimension grows by 365 a year, so a fleet of 100 accounts stays under it for
about two and a half years; move ``EBAY_PIPELINES_START_DATE`` forward for larger fleets (older
days can still be synced by a one-off run, they just are not partitions).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date

import dagster as dg

from ebay_pipelines.ids import validate_account_id
from ebay_pipelines.sync.windows import parse_day

ACCOUNTS_PARTITION = "ebay_accounts"
ACCOUNT_DIM, DATE_DIM = "account", "date"
START_DATE = os.environ.get("EBAY_PIPELINES_START_DATE", "2025-06-01")

account_partitions = dg.DynamicPartitionsDefinition(name=ACCOUNTS_PARTITION)
# end_offset=1 makes today's (still growing) day a partition, so schedules can refresh it.
daily_partitions = dg.DailyPartitionsDefinition(start_date=START_DATE, timezone="UTC", end_offset=1)
window_partitions = dg.MultiPartitionsDefinition({ACCOUNT_DIM: account_partitions, DATE_DIM: daily_partitions})


@dataclass(frozen=True)
class PartitionTarget:
    """The account (and day, for window families) a partition key names."""

    account_id: str
    day: date | None
    key: str


class InvalidPartitionKey(ValueError):
    """A partition key that is neither ``ACCOUNT`` nor ``ACCOUNT|YYYY-MM-DD``."""


def _day_of(partition_key: str, value: str) -> date:
    try:
        return parse_day(value)
    except (TypeError, ValueError):
        raise InvalidPartitionKey(
            f"invalid partition key {partition_key!r}: {value!r} is not a day (YYYY-MM-DD)"
        ) from None


def parse_partition_key(partition_key: str | dg.MultiPartitionKey) -> PartitionTarget:
    """Turn ``acct|2026-10-01`` (multi) or ``acct`` (snapshot) into a validated target.

    Raises InvalidAccountId or InvalidPartitionKey (both ValueErrors naming the key) before
    anything touches eBay or the database.
    """
    if isinstance(partition_key, dg.MultiPartitionKey):
        dims = partition_key.keys_by_dimension
        key = str(partition_key)
        return PartitionTarget(validate_account_id(dims[ACCOUNT_DIM]), _day_of(key, dims[DATE_DIM]), key)
    if not isinstance(partition_key, str):
        raise InvalidPartitionKey(f"invalid partition key {partition_key!r}: expected a string")
    if "|" in partition_key:
        parts = partition_key.split("|")
        if len(parts) != 2:
            raise InvalidPartitionKey(
                f"invalid partition key {partition_key!r}: expected ACCOUNT|YYYY-MM-DD (account ids cannot contain '|')"
            )
        account_id, day = parts
        return PartitionTarget(validate_account_id(account_id), _day_of(partition_key, day), partition_key)
    return PartitionTarget(validate_account_id(partition_key), None, partition_key)


def window_key(account_id: str, day: date) -> dg.MultiPartitionKey:
    """Return the multi-partition key of an account's day."""
    return dg.MultiPartitionKey({ACCOUNT_DIM: validate_account_id(account_id), DATE_DIM: day.isoformat()})
