"""Keeping the fleet inside eBay's daily quotas: count every run's calls, skip a family whose quota is low.

Before a run, each quota the family's calls spend is looked up (:func:`skip_reason`): the latest
figure eBay reported (Developer Analytics, or a 429), less the project's calls counted since. Below
``EBAY_PIPELINES_QUOTA_RESERVE`` of the limit the run is skipped with a reason naming eBay's reset
(midnight Pacific time, README Wire facts "Default daily limits"); after the reset the figure
belongs to a past eBay day and the family syncs again. A 429 (or Trading error 518) marks its quota
spent until the reset (:func:`note_refusal`), so later runs skip instead of collecting more 429s.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from ebay_pipelines import settings as project_settings
from ebay_pipelines.ebay import analytics
from ebay_pipelines.ebay.auth import OAuthClient
from ebay_pipelines.ebay.config import EbaySettings
from ebay_pipelines.ebay.errors import EbayError, RateLimited, RetriesExhausted, TradingError
from ebay_pipelines.ebay.quotas import PACIFIC, QUOTA_OF_CALL, QUOTAS_BY_KEY, ebay_day, next_reset, quotas_of_calls
from ebay_pipelines.store import quotas as store
from ebay_pipelines.store.accounts import list_accounts

log = logging.getLogger(__name__)

#: The "family" the Developer Analytics calls are counted under.
QUOTAS_FAMILY = "quotas"


@dataclass
class QuotaFetch:
    """What one reading of eBay's quota figures stored: rates for the application, per account, and failures."""

    app: int = 0
    accounts: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def record_run_calls(engine: Engine, account_id: str, family: str, calls: Mapping[str, int], now: datetime) -> None:
    """Add one run's calls (by eBay call name) to ``ebay_api_calls_daily`` for ``now``'s eBay day."""
    with engine.begin() as conn:
        store.record_calls(conn, ebay_day(now), account_id, family, calls, QUOTA_OF_CALL)


def skip_reason(
    engine: Engine, calls: tuple[str, ...], account_id: str, now: datetime, reserve: float | None = None
) -> str | None:
    """Why a run making ``calls`` must wait for eBay's reset (None: every quota it spends has room)."""
    reserve = project_settings.current().quota_reserve if reserve is None else reserve
    with engine.connect() as conn:
        for key in quotas_of_calls(calls):
            for left in store.left(conn, key, account_id, now, ebay_day):
                floor = reserve * left.limit if left.limit else 0.0
                if left.remaining > 0 and left.remaining >= floor:
                    continue
                label = QUOTAS_BY_KEY[key].label
                whose = "the application's" if left.scope == store.APP else f"account {account_id}'s"
                of = f" of {left.limit}" if left.limit else ""
                reset = (left.reset_at or next_reset(now)).astimezone(PACIFIC)
                return (
                    f"eBay's daily {label} quota is spent: {max(left.remaining, 0)}{of} calls left of {whose} quota "
                    f"(reserve {reserve:.0%}); resumes after eBay's reset at {reset.isoformat()} (midnight Pacific)"
                )
    return None


def refused_call(exc: BaseException) -> str | None:
    """The eBay call a rate-limit refusal was for (429, or Trading 518), through exhausted retries; else None."""
    if isinstance(exc, RetriesExhausted):
        return refused_call(exc.last_error)
    if isinstance(exc, RateLimited) or (isinstance(exc, TradingError) and "518" in exc.error_codes):
        return exc.call_name
    return None


def note_refusal(engine: Engine, exc: BaseException, now: datetime) -> str | None:
    """Mark the quota a rate-limit refusal names spent until eBay's reset; return its key (None: not one)."""
    call = refused_call(exc)
    key = QUOTA_OF_CALL.get(call or "")
    if key is None:
        return None
    with engine.begin() as conn:
        store.mark_spent(conn, key, QUOTAS_BY_KEY[key].daily, now, ebay_day(now), next_reset(now))
    log.warning("eBay refused %s for its rate limit: the %s quota is spent until the reset", call, key)
    return key


def fetch_quotas(engine: Engine, settings: EbaySettings | None = None, now: datetime | None = None) -> QuotaFetch:
    """Read eBay's quota figures (getRateLimits for the application, getUserRateLimits per enabled account) and store them.

    An account whose call fails is reported in ``failed`` and the others are still read; the
    Developer Analytics calls themselves are counted like every run's (family ``quotas``).
    """
    from ebay_pipelines.sync.partition_sync import build_clients, ebay_settings

    settings = settings or ebay_settings(project_settings.current())
    now = now or datetime.now(UTC)
    day = ebay_day(now)
    oauth = OAuthClient(settings)
    app = analytics.application_client(oauth)
    result = QuotaFetch()
    try:
        rates = analytics.get_rate_limits(app)
    finally:
        record_run_calls(engine, "", QUOTAS_FAMILY, {name: n for (_, name), n in app.calls.items()}, now)
        app.close()
    with engine.begin() as conn:
        result.app = store.store_rates(conn, store.APP, "", rates, now, day, analytics.GET_RATE_LIMITS)
        accounts = [a.account_id for a in list_accounts(conn, enabled_only=True)]
    for account_id in accounts:
        try:
            clients = build_clients(engine, account_id, settings)
        except EbayError as exc:
            result.failed[account_id] = str(exc)
            continue
        try:
            mine = analytics.get_user_rate_limits(clients.rest)
        except EbayError as exc:
            note_refusal(engine, exc, now)
            result.failed[account_id] = str(exc)
            continue
        finally:
            record_run_calls(engine, account_id, QUOTAS_FAMILY, clients.calls_by_name(), now)
            clients.rest.close()
            clients.trading.close()
        with engine.begin() as conn:
            result.accounts[account_id] = store.store_rates(
                conn, store.ACCOUNT, account_id, mine, now, day, analytics.GET_USER_RATE_LIMITS
            )
    return result
