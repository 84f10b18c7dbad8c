"""Run the simulator as a standalone process (``python -m ebay_pipelines.simulator``)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from datetime import datetime
from typing import Any

from .config import POSTORDER_OFFSETS, SimulatorConfig
from .simulator import EbaySimulator


def serve(
    port: int = 8765,
    seed: int = 7,
    host: str = "127.0.0.1",
    now: datetime | None = None,
    stop: threading.Event | None = None,
    **config: Any,
) -> None:
    """Serve until SIGINT/SIGTERM (or ``stop`` is set); extra keywords go to ``SimulatorConfig``."""
    cfg = SimulatorConfig(seed=seed, host=host, port=port, now=now, **config)
    done = stop or threading.Event()

    def _stop(*_: object) -> None:
        done.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
    with EbaySimulator(cfg) as sim:
        print(f"eBay simulator listening on {sim.base_url} (client_id={sim.client_id})", flush=True)
        done.wait()


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m ebay_pipelines.simulator", description="Serve a simulated eBay API on 127.0.0.1."
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--now", help="pin the simulated clock (ISO 8601, e.g. 2026-11-01T12:00:00Z)")
    parser.add_argument("--orders-per-day", type=int, default=12)
    parser.add_argument("--history-days", type=int, default=120)
    parser.add_argument("--inventory-skus", type=int, default=40)
    parser.add_argument("--active-listings", type=int, default=40)
    parser.add_argument(
        "--postorder-offset",
        choices=POSTORDER_OFFSETS,
        default="entries",
        help="what a Post-Order search's offset counts (entries skipped, as eBay documents, or page numbers)",
    )
    parser.add_argument("--client-id", help="client id the token endpoint accepts")
    parser.add_argument("--client-secret", help="client secret the token endpoint accepts")
    args = parser.parse_args(argv)
    now = datetime.fromisoformat(args.now.replace("Z", "+00:00")) if args.now else None
    serve(
        args.port,
        args.seed,
        now=now,
        orders_per_day=args.orders_per_day,
        history_days=args.history_days,
        inventory_skus=args.inventory_skus,
        active_listings=args.active_listings,
        postorder_offset=args.postorder_offset,
        client_id=args.client_id,
        client_secret=args.client_secret,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
