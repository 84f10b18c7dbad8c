"""Churn: rules that change the seller's data between the pages of a paged call.

eBay answers each page from the result set as it is when the page is asked for (design §8): an
order modified during a ``lastmodifieddate`` search leaves it, a listing ending during a
``GetMyeBaySelling`` walk leaves the ActiveList, and every record behind them moves up one place.
A :class:`ChurnRule` fires after each page the simulator serves of one call and changes the world:

- ``modify`` (getOrders): the earliest-served orders not yet changed get ``lastModifiedDate`` = now;
- ``end`` (GetMyeBaySelling): the earliest-served listings not yet changed end;
- ``delete`` (getInventoryItems): the earliest-served SKUs not yet changed are deleted;
- ``create`` (getInventoryItems): ``count`` new SKUs are created (after every SKU there is);
- ``leave`` (getTransactions, getPaymentDisputeSummaries, searchInquiries, searchCases,
  searchReturns, GetMyMessages headers): the earliest-served records not yet changed get their
  date-filter field moved to now, so they leave every search whose window ends before now.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .rules import RuleList

if TYPE_CHECKING:
    from .queries import World

NS = "{urn:ebay:apis:eBLBaseComponents}"

#: Per call: how to read the served keys from an answer body, and the actions it supports.
_REST_KEYS: dict[str, tuple[str, str]] = {
    "getOrders": ("orders", "orderId"),
    "getTransactions": ("transactions", "transactionId"),
    "getPaymentDisputeSummaries": ("paymentDisputeSummaries", "paymentDisputeId"),
    "getInventoryItems": ("inventoryItems", "sku"),
    "searchInquiries": ("members", "inquiryId"),
    "searchCases": ("members", "caseId"),
    "searchReturns": ("members", "returnId"),
}
_TRADING_KEYS: dict[str, str] = {
    "GetMyeBaySelling": f"{NS}ActiveList/{NS}ItemArray/{NS}Item/{NS}ItemID",
    "GetMyMessages": f"{NS}Messages/{NS}Message/{NS}MessageID",
}
ACTIONS: dict[str, frozenset[str]] = {
    "getOrders": frozenset({"modify"}),
    "GetMyeBaySelling": frozenset({"end"}),
    "getInventoryItems": frozenset({"delete", "create"}),
    **{
        call: frozenset({"leave"})
        for call in (
            "getTransactions",
            "getPaymentDisputeSummaries",
            "searchInquiries",
            "searchCases",
            "searchReturns",
            "GetMyMessages",
        )
    },
}


@dataclass
class ChurnRule:
    """After each served page of ``endpoint`` (for ``account``, if given), change ``count`` records.

    With ``times`` the rule fires after that many pages and is then spent.
    """

    endpoint: str
    action: str
    count: int = 1
    account: str | None = None
    times: int | None = None
    fired: int = field(default=0, compare=False)
    served: list[str] = field(default_factory=list, compare=False)
    changed: list[str] = field(default_factory=list, compare=False)

    def __post_init__(self) -> None:
        allowed = ACTIONS.get(self.endpoint)
        if allowed is None:
            raise ValueError(f"no churn for {self.endpoint!r}; expected one of {sorted(ACTIONS)}")
        if self.action not in allowed:
            raise ValueError(f"{self.endpoint} churns by {sorted(allowed)}, not {self.action!r}")
        if self.count < 0 or (self.times is not None and self.times < 0):
            raise ValueError("count and times must be >= 0")

    @property
    def spent(self) -> bool:
        """True once a ``times`` rule has fired that many times."""
        return self.times is not None and self.fired >= self.times

    @classmethod
    def from_dict(cls, data: dict) -> ChurnRule:
        """Build a rule from a JSON object (the control endpoint's body)."""
        allowed = {"endpoint", "action", "count", "account", "times"}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown churn fields: {sorted(unknown)}")
        return cls(**data)


class ChurnInjector(RuleList[ChurnRule]):
    """Thread-safe churn rules over one world; the server calls :meth:`after_page` after each list answer."""

    def __init__(self, world: World) -> None:
        super().__init__()
        self._world = world

    def after_page(self, endpoint: str, account: str, body: bytes, now: int) -> None:
        """Apply the rules of ``endpoint`` after one served page whose answer is ``body``."""
        with self._lock:
            rules = [r for r in self._rules if r.endpoint == endpoint and r.account in (None, account) and not r.spent]
            if not rules:
                return
            keys = served_keys(endpoint, body)
            for rule in rules:
                rule.fired += 1
                rule.served.extend(k for k in keys if k not in rule.served)
                if rule.action == "create":
                    self._world.create_skus(account, rule.count)
                    continue
                picked = [k for k in rule.served if k not in rule.changed][: rule.count]
                apply = _APPLY[rule.action]
                for key in picked:
                    if apply(self._world, endpoint, account, key, now):
                        rule.changed.append(key)


def served_keys(endpoint: str, body: bytes) -> list[str]:
    """The ids of the records an answer of ``endpoint`` holds, in answer order."""
    if endpoint in _REST_KEYS:
        items_key, id_field = _REST_KEYS[endpoint]
        try:
            parsed = json.loads(body or b"{}")
        except ValueError:
            return []
        items = parsed.get(items_key) if isinstance(parsed, dict) else None
        return [str(i[id_field]) for i in items or [] if isinstance(i, dict) and i.get(id_field)]
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return []
    return [e.text.strip() for e in root.findall(_TRADING_KEYS[endpoint]) if e.text and e.text.strip()]


def _modify(world: World, endpoint: str, account: str, key: str, now: int) -> bool:
    return world.touch_order(account, key, now)


def _end(world: World, endpoint: str, account: str, key: str, now: int) -> bool:
    return world.end_listing(account, key)


def _delete(world: World, endpoint: str, account: str, key: str, now: int) -> bool:
    return world.delete_sku(account, key)


def _leave(world: World, endpoint: str, account: str, key: str, now: int) -> bool:
    return world.leave(endpoint, account, key, now)


_APPLY: dict[str, Callable[[World, str, str, str, int], bool]] = {
    "modify": _modify,
    "end": _end,
    "delete": _delete,
    "leave": _leave,
}
