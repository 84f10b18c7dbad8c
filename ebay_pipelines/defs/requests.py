"""Run requests for one family partition or day range, or for many accounts at once, tagged for the run queue."""

from collections.abc import Iterable, Mapping, Sequence
from datetime import date

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from ebay_pipelines.defs.jobs import job_name
from ebay_pipelines.defs.partitions import OPEN_FROM_TAG, WINDOW_FROM_TAG, window_from_value, window_key
from ebay_pipelines.ids import validate_account_id
from ebay_pipelines.sync.families import FamilySpec

# dagster.yaml limits runs per unique value of these tags (see tag_concurrency_limits).
ACCOUNT_TAG = "ebay/account"
ACCOUNT_FAMILY_TAG = "ebay/account_family"
#: The first and last account of a run of many (``FIRST..LAST``), and how many it syncs.
ACCOUNTS_TAG = "ebay/accounts"
ACCOUNT_COUNT_TAG = "ebay/account_count"
#: The run queue starts runs with a higher ``dagster/priority`` first (QueuedRunCoordinator).
PRIORITY_TAG = "dagster/priority"
#: Initial backfills wait behind the schedules' runs: a new account never delays the current ones.
BACKFILL_PRIORITY = -1


def cadence_priority(spec: FamilySpec) -> int:
    """The queue priority of ``spec``'s runs: the shorter its cadence, the sooner its runs start.

    At the top of the hour every family ticks at once; the families due again in 15 minutes start
    first, the six-hourly snapshots last, so a burst never makes a frequent family miss its next tick.
    """
    minute, hour = spec.cron.split()[:2]
    if minute.startswith("*/"):
        period = int(minute[2:])
    elif hour.startswith("*/"):
        period = 60 * int(hour[2:])
    else:
        period = 60 if hour == "*" else 24 * 60
    return 3 if period <= 15 else 2 if period <= 30 else 1 if period <= 60 else 0


def partition_key_for(spec: FamilySpec, account_id: str, day: date | None) -> str:
    """Return the partition key of a family's account (and day, for window families)."""
    if spec.windowed:
        assert day is not None, f"family {spec.name} needs a day"
        return str(window_key(account_id, day))
    return validate_account_id(account_id)


def family_run_request(
    spec: FamilySpec,
    account_id: str,
    day: date | None,
    run_key: str | None,
    reason: str,
    last_day: date | None = None,
    window_from: date | None = None,
    open_from: date | None = None,
    priority: int | None = None,
) -> dg.RunRequest:
    """Return a run request syncing one family partition (or the days ``day..last_day``), tagged with its account.

    ``priority`` (default: :func:`cadence_priority`) orders it in the run queue.

    ``window_from`` (before ``day``) makes the window start that day: older records are re-read
    without re-materializing their days' partitions; ``open_from`` does so for the sources that
    hold open records only.
    A ``window_from`` after ``day`` (inside a week or month partition) narrows the window instead.
    """
    tags = {
        ACCOUNT_TAG: account_id,
        ACCOUNT_FAMILY_TAG: f"{account_id}.{spec.name}",
        "ebay/reason": reason,
        PRIORITY_TAG: str(cadence_priority(spec) if priority is None else priority),
    }
    if window_from is not None:
        assert day is not None and window_from != day, f"family {spec.name}: window_from {window_from} is {day}"
        tags[WINDOW_FROM_TAG] = window_from.isoformat()
    if open_from is not None:
        assert day is not None, f"family {spec.name}: open_from needs a day"
        tags[OPEN_FROM_TAG] = open_from.isoformat()
    if last_day is None or last_day == day:
        return dg.RunRequest(
            run_key=run_key, job_name=job_name(spec), partition_key=partition_key_for(spec, account_id, day), tags=tags
        )
    assert day is not None and last_day > day, f"family {spec.name}: bad day range {day}..{last_day}"
    return dg.RunRequest(
        run_key=run_key,
        job_name=job_name(spec),
        tags={
            **tags,
            ASSET_PARTITION_RANGE_START_TAG: partition_key_for(spec, account_id, day),
            ASSET_PARTITION_RANGE_END_TAG: partition_key_for(spec, account_id, last_day),
        },
    )


def accounts_run_request(
    spec: FamilySpec,
    accounts: Sequence[str],
    day: date | None,
    run_key: str | None,
    reason: str,
    last_day: date | None = None,
    window_from: Mapping[str, date] | None = None,
    open_from: Mapping[str, date] | None = None,
    priority: int | None = None,
) -> dg.RunRequest:
    """Return a run request syncing one family for ``accounts`` (contiguous in the partitions' order).

    The run covers the rectangle of those accounts × the partitions ``day..last_day`` (one range
    whose ends are the first account's first and the last account's last partition); each account's
    window reach is named in ``ebay/window_from`` / ``ebay/open_from``. One account gives
    :func:`family_run_request`'s request. The queue allows one run at a time per chunk and family
    (``ebay/account_family`` = ``FIRST..LAST.family``); a second running row of an account and
    family is refused anyway.
    """
    window_from, open_from = dict(window_from or {}), dict(open_from or {})
    if len(accounts) == 1:
        (account_id,) = accounts
        return family_run_request(
            spec,
            account_id,
            day,
            run_key,
            reason,
            last_day=last_day,
            window_from=window_from.get(account_id),
            open_from=open_from.get(account_id),
            priority=priority,
        )
    assert accounts, f"family {spec.name}: a run needs an account"
    label = f"{accounts[0]}..{accounts[-1]}"
    tags = {
        ACCOUNTS_TAG: label,
        ACCOUNT_COUNT_TAG: str(len(accounts)),
        ACCOUNT_FAMILY_TAG: f"{label}.{spec.name}",
        "ebay/reason": reason,
        PRIORITY_TAG: str(cadence_priority(spec) if priority is None else priority),
    }
    for name, days in ((WINDOW_FROM_TAG, window_from), (OPEN_FROM_TAG, open_from)):
        value = window_from_value(days, accounts)
        if value is not None:
            tags[name] = value
    return dg.RunRequest(
        run_key=run_key,
        job_name=job_name(spec),
        tags={
            **tags,
            ASSET_PARTITION_RANGE_START_TAG: partition_key_for(spec, accounts[0], day),
            ASSET_PARTITION_RANGE_END_TAG: partition_key_for(spec, accounts[-1], last_day or day),
        },
    )


def accounts_label(accounts: Sequence[str]) -> str:
    """How run keys name a chunk of accounts: ``ACCOUNT`` alone, else ``FIRST..LAST``."""
    return accounts[0] if len(accounts) == 1 else f"{accounts[0]}..{accounts[-1]}"


def account_chunks(order: Sequence[str], wanted: Iterable[str], size: int) -> list[list[str]]:
    """``wanted`` accounts in runs of contiguous partitions (``order``), at most ``size`` each.

    An account between two wanted ones that is not wanted ends a chunk: a run's accounts are a
    range of the partitions, and a range holds every account between its ends.
    """
    wanted = set(wanted)
    chunks: list[list[str]] = [[]]
    for account_id in order:
        if account_id not in wanted or len(chunks[-1]) >= size:
            chunks.append([])
        if account_id in wanted:
            chunks[-1].append(account_id)
    return [chunk for chunk in chunks if chunk]
