"""The fleet planner: eBay calls per quota and day for N accounts at the schedules' cadences, against eBay's limits.

Per account and day, from the family table: each family runs once per tick of its schedule's cron
(open-problem families every ``EBAY_PIPELINES_OPEN_REFRESH_MINUTES``); every run makes each list
call once per search (one per :class:`~ebay_pipelines.ebay.endpoints.Variant`, else one) and page.
What the table cannot say is taken from the measured simulated day (``bench/daily_calls.py``,
scenario ``after``: one account with 50 orders and 20 messages a day, 40 SKUs): extra pages and
detail calls per run, calls per SKU (calls that walk per value), and the calls a family saves by
reading another family's stored rows. Detail calls and those stored-row reads are a day's figure
(they follow what changed, not the cadence); the rest scale with the runs. The quota asset adds
two Developer Analytics readings a day for the application and each account.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from math import floor

from ebay_pipelines.ebay.quotas import QUOTA_OF_CALL, QUOTAS
from ebay_pipelines.settings import Settings
from ebay_pipelines.sync.families import FAMILIES, FAMILY_OF_TABLE, FamilySpec

#: The measured simulated day (bench/results/daily_calls.json, scenario "after", finished
#: 2026-12-02): runs and calls per family and eBay call at the default cadences.
MEASURED_RUNS: dict[str, int] = {
    "orders": 96,
    "transactions": 24,
    "finances": 24,
    "refunds": 48,
    "disputes": 48,
    "offers": 4,
    "inventory": 4,
    "active_inventory": 4,
    "messages": 96,
    "buyer": 4,
    "inquiries": 48,
    "cases": 48,
}
MEASURED_CALLS: dict[str, dict[str, int]] = {
    "orders": {"getOrders": 107},
    "transactions": {"getTransactions": 27},
    "finances": {"getTransactions": 27},
    "refunds": {"getTransactions": 1, "searchReturns": 48},
    "disputes": {"getPaymentDispute": 11, "getPaymentDisputeSummaries": 48},
    "offers": {"getInventoryItems": 4, "getOffers": 160},
    "inventory": {"getInventoryItems": 4},
    "active_inventory": {"GetMyeBaySelling": 4},
    "messages": {"GetMyMessages": 133},
    "buyer": {"GetMyeBayBuying": 4},
    "inquiries": {"getInquiry": 8, "searchInquiries": 48},
    "cases": {"getCase": 4, "searchCases": 48},
}
#: Readings of eBay's figures a day by the quota asset (its schedule: 00:05 and 12:05 Pacific).
QUOTA_READS_PER_DAY = 2


def ticks_per_day(cron: str) -> int:
    """How many times a day a five-field cron (``*``, ``*/n``, ``n``, ``a,b`` in minute and hour) fires."""
    fields = cron.split()
    if len(fields) != 5 or fields[2:] != ["*", "*", "*"]:
        raise ValueError(f"cron {cron!r}: only minute and hour fields are planned")
    return len(_values(fields[0], 60)) * len(_values(fields[1], 24))


def _values(field: str, size: int) -> set[int]:
    out: set[int] = set()
    for part in field.split(","):
        if part == "*":
            out.update(range(size))
        elif part.startswith("*/"):
            out.update(range(0, size, int(part[2:])))
        else:
            out.add(int(part))
    return out


def _fixed_per_day(spec: FamilySpec) -> set[str]:
    """Calls whose daily count follows what changed, not the cadence: details, and reads another family covers."""
    fixed = {e.detail.call for e in spec.endpoints if e.detail is not None and e.detail.call != e.call}
    covered = {call for table in spec.upstream for call in FAMILY_OF_TABLE[table].ebay_calls}
    return fixed | (covered & {e.call for e in spec.endpoints})


def account_calls(
    settings: Settings,
    families: tuple[FamilySpec, ...] = FAMILIES,
    measured_runs: Mapping[str, int] = MEASURED_RUNS,
    measured_calls: Mapping[str, Mapping[str, int]] = MEASURED_CALLS,
) -> dict[str, dict[str, float]]:
    """Calls one account makes a day, per family and eBay call, at ``settings``' cadences."""
    from ebay_pipelines.defs.schedules import schedule_cron

    out: dict[str, dict[str, float]] = {}
    for spec in families:
        runs = ticks_per_day(schedule_cron(spec, settings))
        measured = measured_calls.get(spec.name, {})
        bench_runs = measured_runs.get(spec.name) or runs
        fixed = _fixed_per_day(spec)
        per_value = {e.call for e in spec.endpoints if e.value_errors}
        calls: dict[str, float] = {}
        for endpoint in spec.endpoints:
            for call in endpoint.calls:
                seen = measured.get(call, 0)
                if call in fixed:
                    calls[call] = float(seen)
                elif call in per_value or call != endpoint.call:
                    calls[call] = runs * seen / bench_runs
                else:
                    searches = max(1, len(endpoint.variants))
                    calls[call] = runs * max(searches, seen / bench_runs)
        out[spec.name] = calls
    return out


@dataclass(frozen=True)
class QuotaLine:
    """One quota in the plan: eBay's default daily limit and the fleet's calls a day against it."""

    quota: str
    label: str
    limit: int | None
    per_account: int
    fixed: int
    calls: int
    #: The most accounts the limit serves at these cadences, keeping the reserve (None: no known limit).
    max_accounts: int | None

    @property
    def over(self) -> bool:
        """Whether the fleet's calls pass eBay's default limit."""
        return self.limit is not None and self.calls > self.limit


def plan(accounts: int, settings: Settings, reserve: float | None = None) -> list[QuotaLine]:
    """Calls per quota and day for ``accounts`` accounts at ``settings``' cadences, against eBay's default limits."""
    if accounts < 0:
        raise ValueError("the number of accounts cannot be negative")
    reserve = settings.quota_reserve if reserve is None else reserve
    per_quota: dict[str, float] = defaultdict(float)
    for calls in account_calls(settings).values():
        for call, n in calls.items():
            if call in QUOTA_OF_CALL:
                per_quota[QUOTA_OF_CALL[call]] += n
    lines = []
    for quota in QUOTAS:
        per_account = round(per_quota.get(quota.key, 0.0))
        fixed = 0
        if quota.key == "developer.analytics":
            per_account, fixed = QUOTA_READS_PER_DAY, QUOTA_READS_PER_DAY
        if not per_account and not fixed:
            continue
        room = None if quota.daily is None else quota.daily * (1 - reserve) - fixed
        max_accounts = None if room is None or not per_account else max(0, floor(room / per_account))
        lines.append(
            QuotaLine(
                quota.key, quota.label, quota.daily, per_account, fixed, accounts * per_account + fixed, max_accounts
            )
        )
    return lines


def render(accounts: int, lines: list[QuotaLine], settings: Settings) -> str:
    """The plan as a text table."""
    head = (
        f"{accounts} accounts, open problems every {settings.open_refresh_minutes} minutes, "
        f"reserve {settings.quota_reserve:.0%} (eBay's default limits per application and day)"
    )
    rows = [("quota", "limit", "calls/account", "calls/day", "share", "max accounts")]
    for line in lines:
        limit = f"{line.limit:,}" if line.limit is not None else "unknown"
        share = f"{line.calls / line.limit:.0%}" if line.limit else "-"
        most = f"{line.max_accounts:,}" if line.max_accounts is not None else "-"
        flag = " OVER" if line.over else ""
        rows.append((line.label, limit, str(line.per_account), f"{line.calls:,}{flag}", share, most))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    text = [head]
    for n, row in enumerate(rows):
        text.append(
            "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
        )
        if n == 0:
            text.append("  ".join("-" * w for w in widths))
    return "\n".join(text)
