"""Account health probes: the token plus one cheap call per eBay API."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .errors import EbayError
from .parsing import format_timestamp
from .rest import EbayRestClient
from .trading import TradingClient, add, new_request


@dataclass(frozen=True)
class ProbeResult:
    """The outcome of one probe: which API, whether it answered, how fast, and why not."""

    api: str
    call: str
    ok: bool
    seconds: float
    error: str | None = None


def _timed(api: str, call: str, probe: Callable[[], Any]) -> ProbeResult:
    started = time.monotonic()
    try:
        probe()
    except EbayError as exc:
        return ProbeResult(api, call, False, round(time.monotonic() - started, 3), str(exc))
    return ProbeResult(api, call, True, round(time.monotonic() - started, 3))


def probe_account(rest: EbayRestClient, trading: TradingClient, now: datetime | None = None) -> list[ProbeResult]:
    """Check the account's token and make one minimal call to each API the sync uses."""
    now = now or datetime.now(UTC)
    day_ago = format_timestamp(now - timedelta(days=1))
    until = format_timestamp(now)

    def messages_summary() -> None:
        request = new_request("GetMyMessages")
        add(request, "DetailLevel", "ReturnSummary")
        trading.execute("GetMyMessages", request)

    probes: list[tuple[str, str, Callable[[], Any]]] = [
        ("oauth", "token", rest.tokens.get),
        (
            "fulfillment",
            "getOrders",
            lambda: rest.get_json(
                "fulfillment", "/order", {"filter": f"lastmodifieddate:[{day_ago}..{until}]", "limit": 1}, "getOrders"
            ),
        ),
        (
            "disputes",
            "getPaymentDisputeSummaries",
            lambda: rest.get_json(
                "disputes",
                "/payment_dispute_summary",
                {"open_date_from": day_ago, "open_date_to": until, "limit": 1},
                "getPaymentDisputeSummaries",
            ),
        ),
        (
            "finances",
            "getTransactions",
            lambda: rest.get_json(
                "finances",
                "/transaction",
                {"filter": f"transactionDate:[{day_ago}..{until}]", "limit": 1},
                "getTransactions",
            ),
        ),
        (
            "inventory",
            "getInventoryItems",
            lambda: rest.get_json("inventory", "/inventory_item", {"limit": 1}, "getInventoryItems"),
        ),
        (
            "post-order",
            "searchInquiries",
            lambda: rest.get_json(
                "post-order",
                "/inquiry/search",
                {
                    "inquiry_creation_date_range_from": day_ago,
                    "inquiry_creation_date_range_to": until,
                    "limit": 1,
                    "offset": 1,
                },
                "searchInquiries",
            ),
        ),
        ("trading", "GetMyMessages", messages_summary),
    ]
    results = [_timed(api, call, probe) for api, call, probe in probes[:1]]
    if not results[0].ok:
        return results + [
            ProbeResult(api, call, False, 0.0, "skipped: no valid access token") for api, call, _ in probes[1:]
        ]
    return results + [_timed(api, call, probe) for api, call, probe in probes[1:]]
