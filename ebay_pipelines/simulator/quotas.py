"""Daily call quotas of the simulated eBay, and the Developer Analytics answers reporting them.

Every call served spends its resource's quota for the application (and, for resources limited per
user, the account's); counts start again at midnight Pacific time, the reset of eBay's default
limits (README Wire facts "Default daily limits", ``develop/api/sell/api_call_limits``). A call
beyond a spent quota answers 429 (REST and Post-Order, with eBay's error bodies) or Trading error
518 (README "Rate limits") until the reset.

getRateLimits / getUserRateLimits answer eBay's ``RateLimitsResponse`` (``developer/analytics``
pages: ``rateLimits[] {apiContext, apiName, apiVersion, resources[] {name, rates[] {count, limit,
remaining, reset, timeWindow}}}``). eBay's pages leave the resource names open, so the simulator
plays both readings (``quota_naming``): ``resource`` (one resource per quota, named as the limits
page counts them, e.g. ``postorder.inquiry``) and ``method`` (one entry per method, as the RateLimit
type page's examples ``getOrder`` / ``AddItems`` word them, each showing the quota it shares).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from .util import from_ms, iso_ms, to_ms

PACIFIC = ZoneInfo("America/Los_Angeles")
DAY_SECONDS = 86_400


@dataclass(frozen=True)
class SimQuota:
    """One quota of the simulated eBay: where Developer Analytics reports it and which calls spend it."""

    key: str
    api_context: str
    api_name: str
    api_version: str
    resource: str
    calls: tuple[str, ...]
    daily: int


#: eBay's default daily limits (README Wire facts "Default daily limits"). Trading's per-call limits
#: are not in the README: the simulator gives each Trading call 5,000 unless configured.
QUOTAS: tuple[SimQuota, ...] = (
    SimQuota(
        "postorder.inquiry", "sell", "postorder", "v2", "postorder.inquiry", ("searchInquiries", "getInquiry"), 5000
    ),
    SimQuota("postorder.case", "sell", "postorder", "v2", "postorder.case", ("searchCases", "getCase"), 5000),
    SimQuota("postorder.return", "sell", "postorder", "v2", "postorder.return", ("searchReturns", "getReturn"), 5000),
    SimQuota("sell.finances", "sell", "finances", "v1", "sell.finances", ("getTransactions", "getPayouts"), 15_000),
    SimQuota(
        "sell.fulfillment.order", "sell", "fulfillment", "v1", "sell.fulfillment", ("getOrders", "getOrder"), 100_000
    ),
    SimQuota(
        "sell.fulfillment.payment_dispute",
        "sell",
        "fulfillment",
        "v1",
        "sell.fulfillment.payment_dispute",
        ("getPaymentDisputeSummaries", "getPaymentDispute"),
        250_000,
    ),
    SimQuota(
        "sell.inventory", "sell", "inventory", "v1", "sell.inventory", ("getInventoryItems", "getOffers"), 2_000_000
    ),
    SimQuota("trading.GetMyMessages", "tradingapi", "tradingapi", "v1", "GetMyMessages", ("GetMyMessages",), 5000),
    SimQuota(
        "trading.GetMyeBaySelling", "tradingapi", "tradingapi", "v1", "GetMyeBaySelling", ("GetMyeBaySelling",), 5000
    ),
    SimQuota(
        "trading.GetMyeBayBuying", "tradingapi", "tradingapi", "v1", "GetMyeBayBuying", ("GetMyeBayBuying",), 5000
    ),
    SimQuota(
        "developer.analytics",
        "developer",
        "analytics",
        "v1_beta",
        "developer.analytics",
        ("getRateLimits", "getUserRateLimits"),
        5000,
    ),
)
QUOTA_OF_CALL: dict[str, SimQuota] = {call: q for q in QUOTAS for call in q.calls}
NAMINGS = ("resource", "method")


def pacific_day_start(ms: int) -> datetime:
    """Midnight Pacific time starting the eBay day of ``ms``."""
    day = from_ms(ms).astimezone(PACIFIC).date()
    return datetime.combine(day, time.min, tzinfo=PACIFIC)


class QuotaMeter:
    """Counts the calls served per quota and eBay day, for the application and per account; thread-safe."""

    def __init__(
        self,
        limits: Mapping[str, int],
        user_limits: Mapping[str, int],
        naming: str = "resource",
        retry_after: bool = False,
    ) -> None:
        unknown = (set(limits) | set(user_limits)) - {q.key for q in QUOTAS}
        if unknown:
            raise ValueError(f"unknown simulated quotas: {', '.join(sorted(unknown))}")
        if naming not in NAMINGS:
            raise ValueError(f"quota_naming must be one of {', '.join(NAMINGS)}")
        self.limits = {q.key: int(limits.get(q.key, q.daily)) for q in QUOTAS}
        self.user_limits = dict(user_limits)
        self.naming = naming
        self.retry_after = retry_after
        self._lock = threading.Lock()
        self._day: datetime | None = None
        self._app: Counter[str] = Counter()
        self._user: Counter[tuple[str, str]] = Counter()
        #: 429s (and Trading 518s) served, by (account, call).
        self.refused: Counter[tuple[str | None, str]] = Counter()

    def _roll(self, now_ms: int) -> None:
        start = pacific_day_start(now_ms)
        if start != self._day:
            self._day, self._app, self._user = start, Counter(), Counter()

    def spend(self, account: str | None, call: str, now_ms: int) -> bool:
        """Count one call; False (and nothing counted) when its quota is spent for the day."""
        quota = QUOTA_OF_CALL.get(call)
        if quota is None:
            return True
        with self._lock:
            self._roll(now_ms)
            user_limit = self.user_limits.get(quota.key)
            spent_user = (
                account is not None and user_limit is not None and self._user[(account, quota.key)] >= user_limit
            )
            if self._app[quota.key] >= self.limits[quota.key] or spent_user:
                self.refused[(account, call)] += 1
                return False
            self._app[quota.key] += 1
            if account is not None:
                self._user[(account, quota.key)] += 1
            return True

    def seconds_to_reset(self, now_ms: int) -> int:
        """Whole seconds until the next midnight Pacific time."""
        reset = to_ms(pacific_day_start(now_ms) + timedelta(days=1))
        return max(1, -(-(reset - now_ms) // 1000))

    def report(self, now_ms: int, account: str | None, api_context: str | None, api_name: str | None) -> dict:
        """A RateLimitsResponse: the application's quotas (``account`` None) or the account's per-user ones."""
        with self._lock:
            self._roll(now_ms)
            reset = iso_ms(to_ms(pacific_day_start(now_ms) + timedelta(days=1)))
            if account is None:
                used = {q.key: (self._app[q.key], self.limits[q.key]) for q in QUOTAS}
            else:
                used = {k: (self._user[(account, k)], lim) for k, lim in self.user_limits.items()}
        apis: dict[tuple[str, str, str], list[dict]] = {}
        for quota in QUOTAS:
            if quota.key not in used:
                continue
            if api_context and api_context.lower() != quota.api_context:
                continue
            if api_name and api_name.lower() != quota.api_name.lower():
                continue
            count, limit = used[quota.key]
            rate = {
                "count": count,
                "limit": limit,
                "remaining": max(0, limit - count),
                "reset": reset,
                "timeWindow": DAY_SECONDS,
            }
            names = [quota.resource] if self.naming == "resource" else list(quota.calls)
            entry = apis.setdefault((quota.api_context, quota.api_name, quota.api_version), [])
            entry.extend({"name": name, "rates": [dict(rate)]} for name in names)
        return {
            "rateLimits": [
                {"apiContext": c, "apiName": n, "apiVersion": v, "resources": resources}
                for (c, n, v), resources in apis.items()
            ]
        }
