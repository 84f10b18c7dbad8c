"""eBay's daily call quotas: which calls count against which quota, and how eBay names each one.

The one table matching the project's quota keys to the calls the clients count (``calls``
counters, by eBay call name) and to the records of the Developer Analytics API (``apiContext``,
``apiName``, resource ``name``). eBay's pages leave the resource names open: the type page
``developer/analytics/types/api:RateLimit`` gives method names as examples (``getOrder`` for the
Fulfillment API, ``AddItems`` for the Trading API) while the limits page
(``develop/api/sell/api_call_limits``) counts per resource (Post-Order inquiry, case, return).
A record matches a quota when its API name is one of the quota's API spellings and its resource
name (whole, or its last dotted part) is one of the quota's resource or call names; case,
``-``, ``_`` and ``.`` are ignored.

Default daily limits per application: README Wire facts "Default daily limits"
(``develop/api/sell/api_call_limits``); quotas reset at midnight Pacific time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

#: eBay's quotas reset at midnight Pacific time (README Wire facts "Default daily limits").
PACIFIC = ZoneInfo("America/Los_Angeles")


@dataclass(frozen=True)
class Quota:
    """One daily quota: our key, eBay's default limit (None: not known) and the calls counting against it."""

    key: str
    label: str
    daily: int | None
    #: eBay call names (as the clients count them) that spend this quota.
    calls: tuple[str, ...]
    #: Spellings of the API name in Developer Analytics records.
    api_names: tuple[str, ...]
    #: Spellings of the resource name (besides the call names).
    resources: tuple[str, ...] = ()


QUOTAS: tuple[Quota, ...] = (
    Quota(
        "postorder.inquiry",
        "Post-Order inquiry",
        5_000,
        ("searchInquiries", "getInquiry"),
        ("postorder", "post-order"),
        ("inquiry", "postorder.inquiry"),
    ),
    Quota(
        "postorder.case",
        "Post-Order case",
        5_000,
        ("searchCases", "getCase"),
        ("postorder", "post-order"),
        ("case", "casemanagement", "postorder.case"),
    ),
    Quota(
        "postorder.return",
        "Post-Order return",
        5_000,
        ("searchReturns", "getReturn"),
        ("postorder", "post-order"),
        ("return", "postorder.return"),
    ),
    Quota(
        "postorder.cancellation",
        "Post-Order cancellation",
        5_000,
        ("searchCancellations", "getCancellation"),
        ("postorder", "post-order"),
        ("cancellation", "postorder.cancellation"),
    ),
    Quota(
        "sell.finances",
        "Finances",
        15_000,
        ("getTransactions", "getPayouts", "getTransactionSummary", "getPayout"),
        ("finances",),
        ("finances", "sell.finances", "transaction", "payout"),
    ),
    Quota(
        "sell.fulfillment.order",
        "Fulfillment order",
        100_000,
        ("getOrders", "getOrder"),
        ("fulfillment",),
        ("order", "fulfillment", "sell.fulfillment", "sell.fulfillment.order"),
    ),
    Quota(
        "sell.fulfillment.payment_dispute",
        "Payment disputes",
        250_000,
        ("getPaymentDisputeSummaries", "getPaymentDispute"),
        ("fulfillment",),
        ("payment_dispute", "payment_dispute_summary", "sell.fulfillment.payment_dispute"),
    ),
    Quota(
        "sell.inventory",
        "Inventory",
        None,
        ("getInventoryItems", "getOffers"),
        ("inventory",),
        ("inventory", "sell.inventory", "inventory_item", "offer"),
    ),
    Quota(
        "tradingapi.GetMyMessages",
        "Trading GetMyMessages",
        None,
        ("GetMyMessages",),
        ("tradingapi", "trading"),
    ),
    Quota(
        "tradingapi.GetMyeBaySelling",
        "Trading GetMyeBaySelling",
        None,
        ("GetMyeBaySelling",),
        ("tradingapi", "trading"),
    ),
    Quota(
        "tradingapi.GetMyeBayBuying",
        "Trading GetMyeBayBuying",
        None,
        ("GetMyeBayBuying",),
        ("tradingapi", "trading"),
    ),
    Quota(
        "developer.analytics",
        "Developer Analytics",
        5_000,
        ("getRateLimits", "getUserRateLimits"),
        ("analytics", "developer.analytics"),
        ("rate_limit", "user_rate_limit", "analytics", "developer.analytics"),
    ),
    Quota(
        "commerce.notification",
        "Notification",
        10_000,
        ("getPublicKey",),
        ("notification",),
        ("public_key", "notification", "commerce.notification"),
    ),
)

QUOTAS_BY_KEY: dict[str, Quota] = {q.key: q for q in QUOTAS}
#: The quota each counted call spends (calls of no quota, e.g. token grants, are absent).
QUOTA_OF_CALL: dict[str, str] = {call: q.key for q in QUOTAS for call in q.calls}


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def quota_of_record(api_name: str, resource: str) -> str | None:
    """The quota key a Developer Analytics record (its ``apiName`` and resource ``name``) reports, or None."""
    api = _norm(api_name)
    names = {_norm(resource), _norm(resource.rsplit(".", 1)[-1])}
    for quota in QUOTAS:
        if api not in {_norm(a) for a in quota.api_names}:
            continue
        spellings = {_norm(r) for r in (*quota.resources, *quota.calls)}
        if names & spellings:
            return quota.key
    return None


def quotas_of_calls(calls: Iterable[str]) -> tuple[str, ...]:
    """The quota keys the given eBay calls spend, in table order."""
    wanted = {QUOTA_OF_CALL[c] for c in calls if c in QUOTA_OF_CALL}
    return tuple(q.key for q in QUOTAS if q.key in wanted)


def ebay_day(moment: datetime) -> date:
    """The day eBay counts ``moment``'s calls in: its date in Pacific time."""
    return moment.astimezone(PACIFIC).date()


def next_reset(moment: datetime) -> datetime:
    """eBay's next quota reset after ``moment``: the coming midnight Pacific time (an aware datetime)."""
    day = ebay_day(moment) + timedelta(days=1)
    return datetime.combine(day, time.min, tzinfo=PACIFIC)
