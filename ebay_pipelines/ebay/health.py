"""Account health probes: the token plus one cheap call per eBay API."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from . import finances, fulfillment, inventory, messages, postorder
from .endpoints import EndpointSpec, Pagination
from .errors import EbayError
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


#: One cheap REST call per API the sync uses: the first record of each endpoint (Trading is probed apart).
PROBED: tuple[EndpointSpec, ...] = (
    fulfillment.ORDERS,
    fulfillment.DISPUTES,
    finances.TRANSACTIONS,
    inventory.INVENTORY_ITEMS,
    postorder.INQUIRIES,
)


def _not_granted(scope: str) -> Callable[[], Any]:
    return lambda: f"not called: the account did not grant {scope}"


def _first_record(rest: EbayRestClient, endpoint: EndpointSpec, since: datetime, until: datetime) -> Any:
    """One request for the first record of ``endpoint`` (in ``[since, until]`` when it takes a window)."""
    assert endpoint.path is not None
    query: list[tuple[str, Any]] = [*(endpoint.window.params(since, until) if endpoint.window else []), ("limit", 1)]
    if endpoint.pagination is Pagination.POST_ORDER:
        query.append(("offset", 1))
    return rest.get_json(endpoint.api, endpoint.path, query, endpoint.call)


def probe_account(
    rest: EbayRestClient,
    trading: TradingClient,
    now: datetime | None = None,
    not_granted: Mapping[str, str] | None = None,
) -> list[ProbeResult]:
    """Check the account's token and make one minimal call to each API the sync uses.

    APIs in ``not_granted`` (api -> the scope the account lacks) are not called: their result
    says so and counts as answered, since the sync skips them too.
    """
    skipped = dict(not_granted or {})
    now = now or datetime.now(UTC)
    day_ago = now - timedelta(days=1)

    def messages_summary() -> None:
        request = new_request(messages.CALL)
        add(request, "DetailLevel", "ReturnSummary")
        trading.execute(messages.CALL, request)

    probes: list[tuple[str, str, Callable[[], Any]]] = [
        ("oauth", "token", rest.tokens.get),
        *(
            (endpoint.api, endpoint.call, functools.partial(_first_record, rest, endpoint, day_ago, now))
            for endpoint in PROBED
        ),
        ("trading", messages.CALL, messages_summary),
    ]
    probes = [(api, call, probe if api not in skipped else _not_granted(skipped[api])) for api, call, probe in probes]
    results = [_timed(api, call, probe) for api, call, probe in probes[:1]]
    if not results[0].ok:
        return results + [
            ProbeResult(api, call, False, 0.0, "skipped: no valid access token") for api, call, _ in probes[1:]
        ]
    return results + [_timed(api, call, probe) for api, call, probe in probes[1:]]
