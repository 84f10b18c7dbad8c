"""Benchmark 2: eBay API calls spent by a 90-day initial backfill and by an unchanged refresh.

The backfill runs every family of one account in the runs the accounts sensor requests
(``backfill_tasks``: snapshots, then each window family's days, newest first, in range runs of
up to ``BACKFILL_DAYS_PER_RUN`` days, each one eBay window), through the sync layer, and counts
the calls the simulator served. Two minimums, computed from the simulator's truth:

- ``min_global``: ceil(records / eBay's largest page) over the whole 90 days for each search
  endpoint, plus the detail calls no sync can avoid (one per dispute, inquiry, case and refunded
  return; message bodies ten per call), as if the backfill were one window: the least any sync
  can spend;
- ``min_per_window``: the same for each run's window (max(1, ...) per window and endpoint), the
  least the chosen run ranges allow.

Refunds' REFUND finance transactions are on the finances family's pages already, so neither
minimum counts a call for them (refunds reads them from the finances table when a finances run
covered its window).

The refresh then re-syncs today's window of every window family with nothing changed.
"""

from __future__ import annotations

import math
import tempfile
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.env import (
    ACCOUNT,
    patched_environ,
    pinned_now,
    postgres_server,
    project_environment,
    register_account,
    start_simulator,
)
from bench.report import Stopwatch, table
from ebay_pipelines.store.database import make_engine
from ebay_pipelines.sync.families import FAMILIES, family

NAME = "api_calls"
SIZES = {"full": 40, "small": 12, "tiny": 4}  # orders per day

#: eBay's largest page of each list call (the endpoint specs' page sizes).
PAGE = {endpoint.call: endpoint.page_size for spec in FAMILIES for endpoint in spec.endpoints}
#: The calls (list and detail) spent by each family.
FAMILY_ENDPOINTS = {spec.name: spec.ebay_calls for spec in FAMILIES}


def _list_page(name: str) -> int:
    """eBay's largest page of family ``name``'s first list call."""
    return family(name).endpoints[0].page_size


def _bodies_per_call() -> int:
    """Message bodies one GetMyMessages detail call returns."""
    detail = family("messages").endpoints[0].detail
    assert detail is not None
    return detail.batch


def _pages(n: int, size: int) -> int:
    return max(1, math.ceil(n / size))


def minimums(twin: Any, tasks: list[tuple[str, date | None, date | None]], now: datetime) -> dict[str, dict[str, int]]:
    """Per family: ``min_per_window``, ``min_global`` and ``records`` for the backfill ``tasks``."""
    from ebay_pipelines.sync.windows import days_window

    truth = twin.truth
    per_window: Counter = Counter()
    records: dict[str, dict[str, dict]] = {}  # family -> id -> record (distinct over all windows)
    details: dict[str, set[str]] = {}
    message_body_calls = 0
    seen_messages: set[str] = set()

    def note(fam: str, items: list[dict], key: str) -> None:
        bucket = records.setdefault(fam, {})
        for item in items:
            bucket[str(item[key])] = item

    for name, first, last in tasks:
        if first is None or last is None:
            continue
        w = days_window(first, last, family(name).overlap, now)
        if name == "orders":
            items = truth.orders(ACCOUNT, w.start, w.end)
            per_window[name] += _pages(len(items), PAGE["getOrders"])
            note(name, items, "orderId")
        elif name in ("transactions", "finances"):
            items = truth.finance_transactions(ACCOUNT, w.start, w.end)
            per_window[name] += _pages(len(items), PAGE["getTransactions"])
            note(name, items, "transactionId")
        elif name == "refunds":
            refunds = truth.finance_transactions(ACCOUNT, w.start, w.end, transaction_type="REFUND")
            returns = truth.returns(ACCOUNT, w.start, w.end)
            # REFUND transactions are among the finances family's pages: no call of their own is needed.
            # Returns take two searches, open ones (no return_state) and closed ones (CountSummaryType).
            closed = sum(1 for r in returns if r.get("state") == "CLOSED")
            per_window[name] += _pages(len(returns) - closed, PAGE["searchReturns"])
            per_window[name] += _pages(closed, PAGE["searchReturns"])
            note("refunds_fin", refunds, "transactionId")
            note("refunds_ret", returns, "returnId")
            details.setdefault(name, set()).update(
                r["returnId"] for r in returns if (r.get("sellerTotalRefund") or {}).get("actualRefundAmount")
            )
        elif name == "disputes":
            items = truth.dispute_summaries(ACCOUNT, w.start, w.end)
            per_window[name] += _pages(len(items), PAGE["getPaymentDisputeSummaries"])
            note(name, items, "paymentDisputeId")
            details.setdefault(name, set()).update(i["paymentDisputeId"] for i in items)
        elif name in ("inquiries", "cases"):
            items = (
                truth.inquiries(ACCOUNT, w.start, w.end)
                if name == "inquiries"
                else truth.cases(ACCOUNT, w.start, w.end)
            )
            key = "inquiryId" if name == "inquiries" else "caseId"
            per_window[name] += _pages(len(items), _list_page(name))
            note(name, items, key)
            # Only a case's detail adds a field the table needs (caseType: CaseDetailsResponse).
            if family(name).endpoints[0].detail is not None:
                details.setdefault(name, set()).update(i[key] for i in items)
        elif name == "payouts":
            items = truth.payouts(ACCOUNT, w.start, w.end)
            per_window[name] += _pages(len(items), PAGE["getPayouts"])
            note(name, items, "payoutId")
        elif name == "messages":
            items = truth.messages(ACCOUNT, w.start, w.end)
            per_window[name] += _pages(len(items), PAGE["GetMyMessages"])
            new = [m for m in items if str(m["MessageID"]) not in seen_messages]
            seen_messages.update(str(m["MessageID"]) for m in items)
            message_body_calls += math.ceil(len(new) / _bodies_per_call())
            note(name, items, "MessageID")
    config = twin.config
    out: dict[str, dict[str, int]] = {}
    for name in FAMILY_ENDPOINTS:
        if not family(name).windowed:
            n = {
                "offers": config.inventory_skus,
                "inventory": config.inventory_skus,
                "active_inventory": config.active_listings,
                "buyer": len(truth.purchases(ACCOUNT)),
            }[name]
            minimum = _pages(n, _list_page(name)) + (config.inventory_skus if name == "offers" else 0)
            out[name] = {"min_per_window": minimum, "min_global": minimum, "records": n}
            continue
        detail = len(details.get(name, ())) + (message_body_calls if name == "messages" else 0)
        if name == "refunds":
            fin, returns = records.get("refunds_fin", {}), records.get("refunds_ret", {})
            closed = sum(1 for r in returns.values() if r.get("state") == "CLOSED")
            glob = _pages(len(returns) - closed, PAGE["searchReturns"]) + _pages(closed, PAGE["searchReturns"])
            count = len(fin) + len(returns)
        else:
            count = len(records.get(name, {}))
            glob = _pages(count, _list_page(name))
        out[name] = {"min_per_window": per_window[name] + detail, "min_global": glob + detail, "records": count}
    return out


def _family_calls(calls: Counter, endpoints: tuple[str, ...]) -> int:
    return sum(n for (account, endpoint), n in calls.items() if account == ACCOUNT and endpoint in endpoints)


def run(orders_per_day: int = SIZES["full"], days: int = 90) -> dict[str, Any]:
    """Run the backfill and the unchanged refresh; return spent and minimum calls per family."""
    from ebay_pipelines.defs.partitions import range_label
    from ebay_pipelines.defs.sensors import backfill_tasks
    from ebay_pipelines.sync import partition_sync

    now = pinned_now()
    sim = start_simulator(
        now=now,
        orders_per_day=orders_per_day,
        history_days=days + 30,
        messages_per_day=5,
        inventory_skus=40,
        active_listings=40,
        purchases=15,
    )
    try:
        with postgres_server() as pg, tempfile.TemporaryDirectory(prefix="ebay-bench-home-") as tmp:
            url = pg.create_database("api_calls")
            engine = make_engine(url)
            env = project_environment(url, sim, Path(tmp))
            oldest = now.date() - timedelta(days=days - 1)
            tasks = [
                (name, first if first is None else max(first, oldest), last)
                for name, first, last in backfill_tasks(now.date(), first_day=date(2000, 1, 1))
                if last is None or last >= oldest
            ]

            def sync(name: str, first: date | None, last: date | None = None) -> None:
                spec = family(name)
                key = range_label(ACCOUNT, first, last) if first else ACCOUNT
                began = partition_sync.begin(engine, spec, ACCOUNT, first, last_day=last, partition_key=key, now=now)
                assert isinstance(began, partition_sync.PartitionSync), began
                began.write(engine)

            with patched_environ(env):
                register_account(engine, sim)
                sim.reset_calls()
                spent: Counter = Counter()
                with Stopwatch() as backfill_time:
                    before = sim.calls()
                    for name, first, last in tasks:
                        sync(name, first, last)
                        after = sim.calls()
                        spent[name] += _family_calls(after - before, FAMILY_ENDPOINTS[name])
                        before = after
                backfill_calls = sim.calls()
                refresh: dict[str, int] = {}
                with Stopwatch() as refresh_time:
                    for spec in FAMILIES:
                        if not spec.windowed:
                            continue
                        before = sim.calls()
                        sync(spec.name, now.date())
                        after = sim.calls()
                        refresh[spec.name] = sum((after - before).values())
            engine.dispose()
            wanted = minimums(sim.twin, tasks, now)
    finally:
        sim.stop()
    families: dict[str, dict[str, Any]] = {
        name: {**wanted[name], "spent": spent[name], "refresh_calls": refresh.get(name)} for name in FAMILY_ENDPOINTS
    }
    for figures in families.values():
        figures["vs_min_per_window"] = (
            figures["spent"] / figures["min_per_window"] if figures["min_per_window"] else None
        )
        figures["vs_min_global"] = figures["spent"] / figures["min_global"] if figures["min_global"] else None
    total_spent = sum(f["spent"] for f in families.values())
    total_min = sum(f["min_per_window"] for f in families.values())
    total_global = sum(f["min_global"] for f in families.values())
    token_calls = sum(n for (account, endpoint), n in backfill_calls.items() if endpoint == "token")
    windowed = [s.name for s in FAMILIES if s.windowed]
    return {
        "size": {
            "orders_per_day": orders_per_day,
            "days": days,
            "runs": len(tasks),
            "partitions": sum(1 if first is None else (last - first).days + 1 for _, first, last in tasks),
        },
        "families": families,
        "token_calls": token_calls,
        "total": {
            "spent": total_spent,
            "min_per_window": total_min,
            "min_global": total_global,
            "vs_min_per_window": total_spent / total_min,
            "vs_min_global": total_spent / total_global,
        },
        "seconds": {"backfill": backfill_time.seconds, "refresh": refresh_time.seconds},
        "refresh": {"calls_by_family": refresh, "window_families": len(windowed), "total": sum(refresh.values())},
        "targets": {
            "backfill_within_1_1x_min_per_window": total_spent <= 1.1 * total_min,
            "backfill_within_1_1x_min_global": total_spent <= 1.1 * total_global,
            "refresh_one_call_per_window_family": all(refresh.get(n) == 1 for n in windowed),
        },
    }


def render(result: dict[str, Any]) -> str:
    """The benchmark's tables."""
    rows = [
        [
            name,
            f["records"],
            f["spent"],
            f["min_per_window"],
            f["min_global"],
            _x(f["vs_min_per_window"]),
            _x(f["vs_min_global"]),
            f["refresh_calls"],
        ]
        for name, f in result["families"].items()
    ]
    t = result["total"]
    rows.append(
        [
            "total",
            None,
            t["spent"],
            t["min_per_window"],
            t["min_global"],
            _x(t["vs_min_per_window"]),
            _x(t["vs_min_global"]),
            result["refresh"]["total"],
        ]
    )
    size = result["size"]
    title = (
        f"API calls: {size['days']}-day initial backfill of every family, 1 account, {size['orders_per_day']} orders/day "
        f"({size['partitions']} partitions in {size['runs']} runs; token grants: {result['token_calls']})"
    )
    return table(
        title,
        [
            "family",
            "records",
            "spent",
            "min/run window",
            "min global",
            "spent/min",
            "spent/global",
            "unchanged refresh",
        ],
        rows,
    )


def _x(value: float | None) -> str | None:
    return None if value is None else f"{value:.2f}x"
