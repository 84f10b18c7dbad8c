"""eBay's quota figures and the project's own calls per account, family, call and eBay day.

``ebay_api_quota`` keeps each figure eBay reported (and each quota a 429 showed spent);
``ebay_api_calls_daily`` adds up the calls each run made. What is left of a quota now is the latest
figure still in its eBay day, less the project's calls counted since it was fetched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection

from ebay_pipelines.store.tables import ebay_api_calls_daily, ebay_api_quota

APP = "app"
ACCOUNT = "account"


class Rate(Protocol):
    """What a stored figure needs of a rate eBay reported (``ebay.analytics.RateRecord``)."""

    @property
    def api_context(self) -> str: ...

    @property
    def api_name(self) -> str: ...

    @property
    def api_version(self) -> str: ...

    @property
    def resource(self) -> str: ...

    @property
    def limit(self) -> int | None: ...

    @property
    def remaining(self) -> int | None: ...

    @property
    def count(self) -> int | None: ...

    @property
    def reset(self) -> datetime | None: ...

    @property
    def time_window(self) -> int | None: ...

    @property
    def quota(self) -> str | None: ...


@dataclass(frozen=True)
class Left:
    """What is left of one quota now, by the latest figure (scope ``app`` or ``account``)."""

    quota: str
    scope: str
    account_id: str
    limit: int | None
    remaining: int
    reset_at: datetime | None
    fetched_at: datetime


def record_calls(
    conn: Connection, day: date, account_id: str, family: str, calls: Mapping[str, int], quota_of: Mapping[str, str]
) -> None:
    """Add a run's calls (by eBay call name) to the account's and family's counts of eBay day ``day``."""
    rows = [
        {
            "ebay_day": day,
            "ebay_account_id": account_id,
            "family": family,
            "call_name": name,
            "quota": quota_of.get(name),
            "calls": n,
        }
        for name, n in calls.items()
        if n
    ]
    if not rows:
        return
    stmt = insert(ebay_api_calls_daily).values(rows)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["ebay_day", "ebay_account_id", "family", "call_name"],
            set_={"calls": ebay_api_calls_daily.c.calls + stmt.excluded.calls, "updated_at": sa.func.now()},
        )
    )


def calls_of_day(conn: Connection, quota: str, day: date, account_id: str | None = None) -> int:
    """The project's calls spending ``quota`` on eBay day ``day`` (every account's, or one account's)."""
    c = ebay_api_calls_daily.c
    query = sa.select(sa.func.coalesce(sa.func.sum(c.calls), 0)).where(c.quota == quota, c.ebay_day == day)
    if account_id is not None:
        query = query.where(c.ebay_account_id == account_id)
    return int(conn.execute(query).scalar_one())


def store_rates(
    conn: Connection,
    scope: str,
    account_id: str,
    rates: Iterable[Rate],
    fetched_at: datetime,
    day: date,
    source: str,
) -> int:
    """Store the rates eBay reported at ``fetched_at`` (eBay day ``day``), with the project's calls so far."""
    rows = []
    for rate in rates:
        own = 0 if rate.quota is None else calls_of_day(conn, rate.quota, day, account_id if scope == ACCOUNT else None)
        rows.append(
            {
                "scope": scope,
                "ebay_account_id": account_id,
                "api_context": rate.api_context,
                "api_name": rate.api_name,
                "api_version": rate.api_version,
                "resource": rate.resource,
                "quota": rate.quota,
                "call_limit": rate.limit,
                "remaining": rate.remaining,
                "call_count": rate.count,
                "reset_at": rate.reset,
                "time_window_seconds": rate.time_window,
                "calls_at_fetch": own,
                "source": source,
                "fetched_at": fetched_at,
            }
        )
    if rows:
        conn.execute(ebay_api_quota.insert(), rows)
    return len(rows)


def mark_spent(
    conn: Connection, quota: str, default_limit: int | None, now: datetime, day: date, reset: datetime
) -> None:
    """Record that eBay refused a call of ``quota`` for its rate limit: spent for the application until ``reset``."""
    c = ebay_api_quota.c
    known = conn.execute(
        sa.select(c.call_limit)
        .where(c.quota == quota, c.scope == APP, c.call_limit.is_not(None))
        .order_by(c.fetched_at.desc(), c.quota_row_id.desc())
        .limit(1)
    ).scalar_one_or_none()
    conn.execute(
        ebay_api_quota.insert().values(
            scope=APP,
            ebay_account_id="",
            quota=quota,
            call_limit=known if known is not None else default_limit,
            remaining=0,
            reset_at=reset,
            calls_at_fetch=calls_of_day(conn, quota, day),
            source="429",
            fetched_at=now,
        )
    )


def left(conn: Connection, quota: str, account_id: str, now: datetime, day_of: _DayOf) -> list[Left]:
    """What is left of ``quota`` now, for the application and for the account (figures of past eBay days: none)."""
    c = ebay_api_quota.c
    out = []
    for scope, holder in ((APP, ""), (ACCOUNT, account_id)):
        rows = conn.execute(
            sa.select(c.call_limit, c.remaining, c.reset_at, c.calls_at_fetch, c.fetched_at)
            .where(c.quota == quota, c.scope == scope, c.ebay_account_id == holder, c.remaining.is_not(None))
            .order_by(c.fetched_at.desc(), c.quota_row_id.desc())
            .limit(8)
        ).all()
        if not rows:
            continue
        latest = rows[0].fetched_at
        figures = [r for r in rows if r.fetched_at == latest]
        if (figures[0].reset_at is not None and figures[0].reset_at <= now) or day_of(latest) != day_of(now):
            continue  # eBay has reset the quota since
        since = calls_of_day(conn, quota, day_of(now), account_id if scope == ACCOUNT else None)
        # Several rates of one quota (one per method, as eBay may name them): the tightest counts.
        tightest = min(figures, key=lambda r: r.remaining)
        spent = max(0, since - tightest.calls_at_fetch)
        out.append(
            Left(
                quota,
                scope,
                holder,
                tightest.call_limit,
                tightest.remaining - spent,
                tightest.reset_at,
                tightest.fetched_at,
            )
        )
    return out


class _DayOf(Protocol):
    def __call__(self, moment: datetime, /) -> date: ...
