"""Partitions: accounts (dynamic) × UTC periods for window families, accounts alone for snapshots.

The period is ``EBAY_PIPELINES_PARTITION_GRAIN``: ``day`` (default), ``week`` (from Monday) or
``month``. Keys stay ``ACCOUNT|YYYY-MM-DD``, the period's first day, and a partition's window is
``[period start - overlap, min(next period start, now))``. Keep accounts × periods under ~100,000
per asset (Dagster's recommended ceiling): at day grain 1,000 accounts reach it in 100 days, at
month grain 1,000 accounts × 24 months are 24,000 (see :func:`partition_count` and README).
Days before ``EBAY_PIPELINES_START_DATE`` are not partitions and are not synced; their stored rows stay.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

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


#: Dagster's recommended ceiling of partitions per asset.
PARTITIONS_CEILING = 100_000
Grain = Literal["day", "week", "month"]


def period_start(grain: str, day: date) -> date:
    """The first day of the ``grain`` period holding ``day`` (weeks start on Monday)."""
    if grain == "day":
        return day
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    raise ValueError(f"unknown partition grain {grain!r}: expected day, week or month")


def next_period(grain: str, start: date) -> date:
    """The first day of the period after the one starting ``start``."""
    if grain == "day":
        return start + timedelta(days=1)
    if grain == "week":
        return start + timedelta(days=7)
    if grain == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    raise ValueError(f"unknown partition grain {grain!r}: expected day, week or month")


def period_last_day(grain: str, start: date) -> date:
    """The last day of the period starting ``start``."""
    return next_period(grain, start) - timedelta(days=1)


def periods_between(grain: str, first: date, last: date) -> int:
    """How many ``grain`` periods the days ``first..last`` touch."""
    count, start = 0, period_start(grain, first)
    while start <= last:
        count, start = count + 1, next_period(grain, start)
    return count


def partition_count(accounts: int, start_date: date, today: date, grain: str) -> int:
    """The partitions of one window asset: accounts × periods from ``start_date`` to today."""
    return accounts * periods_between(grain, start_date, today)


def grain_advice(accounts: int, start_date: date, today: date, grain: str) -> str | None:
    """Why ``grain`` puts a window asset over Dagster's ceiling, naming the grain to switch to (None: under it)."""
    count = partition_count(accounts, start_date, today, grain)
    if count <= PARTITIONS_CEILING:
        return None
    coarser = [g for g in ("week", "month") if partition_count(accounts, start_date, today, g) <= PARTITIONS_CEILING]
    better = [g for g in coarser if ("day", "week", "month").index(g) > ("day", "week", "month").index(grain)]
    advice = (
        f"set EBAY_PIPELINES_PARTITION_GRAIN={better[0]}"
        if better
        else "move EBAY_PIPELINES_START_DATE forward or use month grain"
    )
    return (
        f"{accounts} accounts × {count // max(accounts, 1)} {grain}s since {start_date.isoformat()} = {count:,} "
        f"partitions per window asset, over Dagster's recommended {PARTITIONS_CEILING:,}: {advice}"
    )


@functools.cache
def window_partitions(start_date: date, grain: str = "day") -> dg.MultiPartitionsDefinition:
    """Accounts × UTC periods (``grain``) from the one holding ``start_date``, the current one included.

    ``end_offset=1`` makes the current (still growing) period a partition, so schedules can refresh it.
    """
    first = period_start(grain, start_date).isoformat()
    periods: dg.TimeWindowPartitionsDefinition
    if grain == "week":
        periods = dg.WeeklyPartitionsDefinition(start_date=first, day_offset=1, timezone="UTC", end_offset=1)
    elif grain == "month":
        periods = dg.MonthlyPartitionsDefinition(start_date=first, timezone="UTC", end_offset=1)
    else:
        periods = dg.DailyPartitionsDefinition(start_date=first, timezone="UTC", end_offset=1)
    return dg.MultiPartitionsDefinition({ACCOUNT_DIM: account_partitions, DATE_DIM: periods})


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


def window_from_tag(tags: Mapping[str, str], name: str = WINDOW_FROM_TAG, account_id: str | None = None) -> date | None:
    """The day a run's window starts (tag ``name``) for ``account_id``, or None; a bad value is a clear error.

    The tag holds one day for every account of the run (``YYYY-MM-DD``), or a day per account
    (``acct-1=YYYY-MM-DD,acct-2=YYYY-MM-DD``; accounts not named have none).
    """
    value = tags.get(name)
    if not value:
        return None
    try:
        if "=" not in value:
            return parse_day(value)
        days = dict(item.split("=", 1) for item in value.split(","))
        day = days.get(account_id or "")
        return parse_day(day) if day else None
    except ValueError:
        raise InvalidPartitionKey(
            f"invalid run tag {name}={value!r}: expected YYYY-MM-DD or ACCOUNT=YYYY-MM-DD,..."
        ) from None


def window_from_value(days: Mapping[str, date], accounts: Iterable[str]) -> str | None:
    """The tag value naming the first day of each of a run's ``accounts`` that has one (None: none has).

    One day when every account shares it, else ``ACCOUNT=DAY`` pairs.
    """
    if not days:
        return None
    distinct = set(days.values())
    if len(distinct) == 1 and set(days) == set(accounts):
        return next(iter(distinct)).isoformat()
    return ",".join(f"{account}={day.isoformat()}" for account, day in days.items())


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
    grain: str = "day"

    @property
    def through(self) -> date | None:
        """The last day the group's periods cover (its last partition's last day)."""
        return None if self.last_day is None else period_last_day(self.grain, self.last_day)

    @property
    def label(self) -> str:
        """The group's partition key, or ``ACCOUNT|FIRST..LAST`` for several days."""
        if self.first_day is None:
            return self.keys[0]
        return range_label(self.account_id, self.first_day, self.last_day)


def group_partition_keys(
    partition_keys: Iterable[str | dg.MultiPartitionKey], grain: str = "day"
) -> list[PartitionGroup]:
    """Validate a run's partition keys and group them by account into runs of consecutive periods.

    A single-partition run gives one group; a range run (``BackfillPolicy`` or a range request,
    of one account or a rectangle of many) gives one group per account, split where a period is
    missing. Snapshot keys give one group each.
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
            and target.day == next_period(grain, last.last_day)
        ):
            groups[-1] = PartitionGroup(last.account_id, last.first_day, target.day, (*last.keys, target.key), grain)
        else:
            groups.append(PartitionGroup(target.account_id, target.day, target.day, (target.key,), grain))
    return groups
