"""Configuration of the simulated eBay: seed, clock, data volumes and problem rates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

#: The readings of a Post-Order search's ``offset`` the simulator can play.
POSTORDER_OFFSETS = ("entries", "pages")


@dataclass(frozen=True)
class SimulatorConfig:
    """Knobs of one simulated eBay.

    Data is a pure function of ``seed`` and the account name; volumes scale without holding
    everything in memory (records are computed from their index or creation day).
    ``now=None`` follows the wall clock; a fixed aware datetime pins the simulated clock.
    ``inventory_skus=0`` plays a seller whose active listings were all made on the website or through
    Trading: none is in the Inventory API until ``bulkMigrateListing`` (README Wire facts).
    """

    seed: int = 7
    now: datetime | None = None
    orders_per_day: int = 12
    inventory_skus: int = 40
    active_listings: int = 40
    messages_per_day: int = 5
    purchases: int = 15
    history_days: int = 120
    dispute_rate: float = 0.03
    inquiry_rate: float = 0.05
    case_rate: float = 0.02
    return_rate: float = 0.04
    access_token_ttl: int = 7200
    client_id: str | None = None
    client_secret: str | None = None
    host: str = "127.0.0.1"
    port: int = 0
    currency: str = "USD"
    #: The return/search ``return_state`` value answering closed returns: ``CLOSED`` per eBay's
    #: ReturnCountFilterEnum, ``ALL_CLOSED`` per another reading (the other spelling answers 400).
    closed_return_state: str = "CLOSED"
    marketplace_id: str = "EBAY_US"
    #: What a Post-Order search's ``offset`` counts: ``entries`` skipped (eBay's PaginationOutput type
    #: page; default 0) or a 1-based page number (``pages``, as clients report; default 1).
    postorder_offset: str = "entries"
    plan_cache_orders: int = 300_000
    #: Daily limits per application by simulated quota key (``simulator.quotas.QUOTAS``), replacing eBay's
    #: defaults, e.g. ``{"postorder.inquiry": 40}``.
    quota_limits: dict[str, int] = field(default_factory=dict)
    #: Daily limits per user (account) by quota key; getUserRateLimits reports these (none by default).
    user_quota_limits: dict[str, int] = field(default_factory=dict)
    #: How Developer Analytics names resources: ``resource`` (one per quota) or ``method`` (one per call).
    quota_naming: str = "resource"
    #: Whether a 429 for a spent quota carries ``Retry-After`` (the seconds to the reset).
    quota_retry_after: bool = False

    def __post_init__(self) -> None:
        if self.orders_per_day < 0 or self.orders_per_day > 90_000:
            raise ValueError("orders_per_day must be between 0 and 90000")
        if self.inventory_skus < 0 or self.inventory_skus > 999_999:
            raise ValueError("inventory_skus must be between 0 and 999999")
        if self.active_listings < 0 or self.active_listings > 9_999_999:
            raise ValueError("active_listings must be between 0 and 9999999")
        if self.history_days < 1:
            raise ValueError("history_days must be positive")
        if self.closed_return_state not in ("CLOSED", "ALL_CLOSED"):
            raise ValueError("closed_return_state must be CLOSED or ALL_CLOSED")
        if self.postorder_offset not in POSTORDER_OFFSETS:
            raise ValueError(f"postorder_offset must be one of {', '.join(POSTORDER_OFFSETS)}")
        if self.now is not None and self.now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
