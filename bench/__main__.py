"""``python -m bench [benchmark ...] [--size full|small|tiny] [knobs]``: run benchmarks, print, save JSON.

Each benchmark prints its table and writes ``bench/results/<name>.json`` (or ``--results DIR``).
Without names, all six run in order; partitions_page (it drives Chromium) runs only when named.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import api_calls, dagster_overhead, daily_calls, fleet, ingestion, memory, partitions_page, report, resync

BENCHMARKS = ("ingestion", "api_calls", "dagster_overhead", "memory", "resync", "daily_calls")
#: Run only when named: they need more than the project (partitions_page: Chromium) or an hour (fleet).
NAMED_ONLY = ("partitions_page", "fleet")


def _runner(
    name: str, args: argparse.Namespace
) -> tuple[Callable[[], dict[str, Any]], Callable[[dict[str, Any]], str]]:
    size = args.size
    if name == "ingestion":
        orders = args.orders or ingestion.SIZES[size]
        return lambda: ingestion.run(orders, server=args.server), ingestion.render
    if name == "api_calls":
        per_day = args.orders_per_day or api_calls.SIZES[size]
        return lambda: api_calls.run(per_day, days=args.days or 90), api_calls.render
    if name == "dagster_overhead":
        knobs = dict(dagster_overhead.SIZES[size])
        if args.accounts:
            knobs["accounts"] = args.accounts
        return lambda: dagster_overhead.run(**knobs), dagster_overhead.render
    if name == "memory":
        knobs = dict(memory.SIZES[size])
        if args.listings:
            knobs["listings"] = args.listings
        if args.skus:
            knobs["skus"] = args.skus
        return lambda: memory.run(**knobs), memory.render
    if name == "resync":
        orders = args.orders or resync.SIZES[size]
        return lambda: resync.run(orders), resync.render
    if name == "fleet":
        knobs = dict(fleet.SIZES[size])
        if args.fleets:
            knobs["fleets"] = tuple(args.fleets)
        if args.backfill_accounts is not None:
            knobs["backfill_accounts"] = args.backfill_accounts
        if args.live_minutes is not None:
            knobs["live_minutes"] = args.live_minutes
        return lambda: fleet.run(**knobs), fleet.render
    if name == "daily_calls":
        options: dict[str, Any] = dict(daily_calls.SIZES[size])
        for knob, value in (
            ("orders_per_day", args.orders_per_day),
            ("hours", args.hours),
            ("backfill_days", args.days),
        ):
            if value:
                options[knob] = value
        return lambda: daily_calls.run(**options), daily_calls.render
    if name == "partitions_page":
        knobs = dict(partitions_page.SIZES[size])
        if args.accounts:
            knobs["accounts"] = args.accounts
        return lambda: partitions_page.run(**knobs, screenshot=args.screenshot), partitions_page.render
    raise SystemExit(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS + NAMED_ONLY)}")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "benchmarks",
        nargs="*",
        metavar="BENCHMARK",
        help=f"which to run (default: {', '.join(BENCHMARKS)}; when named: {', '.join(NAMED_ONLY)})",
    )
    parser.add_argument(
        "--size", choices=("full", "small", "tiny"), default="full", help="preset sizes (default: full)"
    )
    parser.add_argument("--orders", type=int, help="ingestion/resync: orders over 30 days")
    parser.add_argument(
        "--server",
        choices=ingestion.SERVERS,
        default="simulator",
        help="ingestion: who answers eBay's calls (fast: the simulator's pages, pre-rendered)",
    )
    parser.add_argument("--orders-per-day", type=int, help="api_calls, daily_calls: orders per day")
    parser.add_argument("--days", type=int, help="api_calls, daily_calls: backfill days (at most 90)")
    parser.add_argument("--hours", type=int, help="daily_calls: simulated hours rehearsed, ending 00:01 UTC")
    parser.add_argument("--accounts", type=int, help="dagster_overhead, partitions_page: accounts")
    parser.add_argument("--fleets", type=int, nargs="+", help="fleet: account counts, one deployment each")
    parser.add_argument("--backfill-accounts", type=int, help="fleet: accounts in the initial-backfill phase (0: none)")
    parser.add_argument("--live-minutes", type=float, help="fleet: minutes the scheduler runs on its own at the end")
    parser.add_argument("--listings", type=int, help="memory: active listings")
    parser.add_argument("--skus", type=int, help="memory: inventory SKUs")
    parser.add_argument("--screenshot", type=Path, help="partitions_page: save the first load's screenshot here")
    parser.add_argument("--results", type=Path, help="folder for the JSON results (default: bench/results)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    failed = []
    for name in args.benchmarks or BENCHMARKS:
        action, render = _runner(name, args)
        started = time.monotonic()
        print(f"== {name} ({args.size}) ...", flush=True)
        try:
            result = action()
        except Exception as exc:
            logging.exception("benchmark %s failed", name)
            failed.append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        result["wall_s"] = time.monotonic() - started
        result["size_preset"] = args.size
        path = report.write(name, result, args.results)
        print(render(result))
        if result.get("targets"):
            print("targets: " + json.dumps(result["targets"]))
        print(f"({result['wall_s']:.0f} s; {path})\n", flush=True)
    if failed:
        print("failed: " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
