"""Which days one schedule tick re-reads per account, so stored records stay current.

Every tick reads today. A family with a :class:`~ebay_pipelines.sync.lifecycle.Refresh` reaches
further back: to the oldest stored record still open on every tick, and at least ``Refresh.days``
back on the first tick after midnight UTC (the daily sweep). A family without one re-reads yesterday on
that tick, so late changes inside the overlap land. The answer is one day range per account.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from ebay_pipelines.store.open_records import oldest_open
from ebay_pipelines.sync.families import FamilySpec

#: A tick this close after midnight UTC is the day's first: it sweeps (or re-reads yesterday).
#: Schedules tick at most every five minutes, on the hour's divisors, so exactly one tick a day is.
DAILY_SWEEP_BEFORE = timedelta(minutes=5)


def is_daily_sweep(tick: datetime) -> bool:
    """Whether ``tick`` is the first tick of its UTC day (within :data:`DAILY_SWEEP_BEFORE` of midnight)."""
    tick = tick.astimezone(UTC)
    midnight = datetime.combine(tick.date(), datetime.min.time(), tzinfo=UTC)
    return tick - midnight < DAILY_SWEEP_BEFORE


def first_days(
    conn: sa.Connection, spec: FamilySpec, accounts: Iterable[str], tick: datetime, earliest: date
) -> dict[str, date]:
    """``{account: first day}`` of the window one tick of ``spec`` reads (its last day is the tick's day).

    ``earliest`` is the first day partition: no window reaches before it.
    """
    wanted = list(accounts)
    today = tick.astimezone(UTC).date()
    sweep = is_daily_sweep(tick)
    refresh = spec.refresh
    if refresh is None:
        start = today - timedelta(days=1) if sweep and spec.windowed else today
        return {account: max(start, earliest) for account in wanted}
    first = dict.fromkeys(wanted, today - timedelta(days=refresh.days) if sweep else today)
    since = datetime.combine(earliest, datetime.min.time(), tzinfo=UTC)
    for still_open in refresh.still_open:
        found = oldest_open(
            conn,
            still_open.table,
            wanted,
            status_column=still_open.status_column,
            final=still_open.final,
            since=since,
            date_column=still_open.date_column,
            date_path=still_open.date_path,
            where=still_open.where,
        )
        for account, when in found.items():
            first[account] = min(first[account], when.astimezone(UTC).date())
    return {account: max(day, earliest) for account, day in first.items()}
