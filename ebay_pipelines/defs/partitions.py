"""Partitions: accounts (dynamic) × UTC days for window families, accounts alone for snapshots.

Keep accounts × days under ~100,000 per asset (Dagster's recommended ceiling): with the default
start date the day dimension grows by 365 a year, so a fleet of 100 accounts stays under it for
about two and a half years; move ``EBAY_PIPELINES_START_DATE`` forward for larger fleets (days
before it are not partitions and are not synced; their stored rows stay).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import dagster as dg

from ebay_pipelines.ids import validate_account_id
from ebay_pipelines.sync.windows import parse_day

ACCOUNTS_PARTITION = "ebay_accounts"
ACCOUNT_DIM, DATE_DIM = "account", "date"
#: A refresh's first day: the run syncs its partition with a window starting that day (``sync.refresh``).
WINDOW_FROM_TAG = "ebay/window_from"
#: The same for a refresh of open records only (sources holding none keep the partition's window).
OPEN_FROM_TAG = "ebay/open_from"

account_partitions = dg.DynamicPartitionsDefinition(name=ACCOUNTS_PARTITION)


@functools.cache
def window_partitions(start_date: date) -> dg.MultiPartitionsDefinition:
    """Accounts × UTC days from ``start_date`` (``EBAY_PIPELINES_START_DATE``), today included.

    ``end_offset=1`` makes today's (still growing) day a partition, so schedules can refresh it.
    """
    days = dg.DailyPartitionsDefinition(start_date=start_date.isoformat(), timezone="UTC", end_offset=1)
    return dg.MultiPartitionsDefinition({ACCOUNT_DIM: account_partitions, DATE_DIM: days})


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


def window_from_tag(tags: Mapping[str, str], name: str = WINDOW_FROM_TAG) -> date | None:
    """The day a refresh run's window starts (tag ``name``), or None; a bad value is a clear error."""
    value = tags.get(name)
    if not value:
        return None
    try:
        return parse_day(value)
    except ValueError:
        raise InvalidPartitionKey(f"invalid run tag {name}={value!r}: expected YYYY-MM-DD") from None


def window_key(account_id: str, day: date) -> dg.MultiPartitionKey:
    """Return the multi-partition key of an account's day."""
    return dg.MultiPartitionKey({ACCOUNT_DIM: validate_account_id(account_id), DATE_DIM: day.isoformat()})


def range_label(account_id: str, first_day: date, last_day: date | None = None) -> str:
    """The run-row partition key of an account's days: ``ACCOUNT|DAY``, or ``ACCOUNT|FIRST..LAST``."""
    if last_day is None or last_day == first_day:
        return f"{account_id}|{first_day.isoformat()}"
    return f"{account_id}|{first_day.isoformat()}..{last_day.isoformat()}"


@dataclass(frozen=True)
class PartitionGroup:
    """Consecutive partitions of one account that a run syncs together: one window, one run row."""

    account_id: str
    first_day: date | None
    last_day: date | None
    keys: tuple[str, ...]

    @property
    def label(self) -> str:
        """The group's partition key, or ``ACCOUNT|FIRST..LAST`` for several days."""
        if self.first_day is None:
            return self.keys[0]
        return range_label(self.account_id, self.first_day, self.last_day)


def group_partition_keys(partition_keys: Iterable[str | dg.MultiPartitionKey]) -> list[PartitionGroup]:
    """Validate a run's partition keys and group them by account into runs of consecutive days.

    A single-partition run gives one group; a range run (``BackfillPolicy`` or a range request)
    gives one group per account, split where a day is missing. Snapshot keys give one group each.
    """
    targets = sorted(
        {t.key: t for t in map(parse_partition_key, partition_keys)}.values(),
        key=lambda t: (t.account_id, t.day or date.min),
    )
    groups: list[PartitionGroup] = []
    for target in targets:
        last = groups[-1] if groups else None
        if (
            last is not None
            and target.day is not None
            and last.last_day is not None
            and last.account_id == target.account_id
            and target.day == last.last_day + timedelta(days=1)
        ):
            groups[-1] = PartitionGroup(last.account_id, last.first_day, target.day, (*last.keys, target.key))
        else:
            groups.append(PartitionGroup(target.account_id, target.day, target.day, (target.key,)))
    return groups
