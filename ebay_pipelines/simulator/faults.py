"""Fault injection: rules that replace a normal answer with an error, a delay or a broken connection."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

from .rules import RuleList

FAULT_KINDS = frozenset(
    {"400", "404", "429", "500", "502", "503", "504", "slow", "drop", "malformed", "body", "expire_token", "revoke"}
)
#: Kinds answering a request error eBay documents for one record (REST calls only, see ``error_id``).
REQUEST_ERROR_KINDS = frozenset({"400", "404"})


@dataclass
class FaultRule:
    """One fault rule.

    Matches calls by optional ``endpoint`` name and ``account``. With ``times`` it fires that many
    times and is then spent; with ``probability`` it fires on each matching call with that chance
    (seeded); with both, randomly until spent; with neither, on every matching call.
    ``retry_after`` is the Retry-After seconds of "429"; ``delay`` the seconds of "slow".
    "body" answers HTTP 200 with ``body`` (bytes or text) instead of the real answer (hostile payloads).
    "revoke" applies only to the token endpoint, "expire_token" only to API endpoints.
    "400" and "404" answer a REST call with eBay's error body for ``error_id`` (None: a bare answer
    without a body, as a contract declaring only the status allows); ``query`` limits any rule to
    calls whose query string holds these values (e.g. ``{"sku": "..."}``: one SKU of getOffers).
    """

    kind: str
    endpoint: str | None = None
    account: str | None = None
    times: int | None = None
    probability: float | None = None
    retry_after: int = 1
    delay: float = 1.0
    body: bytes | str | None = None
    error_id: int | None = None
    query: dict[str, str] | None = None
    fired: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        self.kind = str(self.kind)
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {sorted(FAULT_KINDS)}")
        if self.times is not None and self.times < 0:
            raise ValueError("times must be >= 0")
        if self.probability is not None and not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be within [0, 1]")
        if self.kind == "body" and self.body is None:
            raise ValueError('a "body" fault needs the body to answer with')
        if self.error_id is not None and self.kind not in REQUEST_ERROR_KINDS:
            raise ValueError(f"error_id applies to the kinds {sorted(REQUEST_ERROR_KINDS)} only")
        if isinstance(self.body, str):
            self.body = self.body.encode("utf-8", "surrogatepass")

    @property
    def spent(self) -> bool:
        """True once a ``times`` rule has fired that many times."""
        return self.times is not None and self.fired >= self.times

    def applies_to(self, endpoint: str) -> bool:
        """Whether this kind of fault makes sense for ``endpoint``."""
        if self.kind == "revoke":
            return endpoint == "token"
        if self.kind == "expire_token":
            return endpoint != "token"
        if self.kind in REQUEST_ERROR_KINDS:
            # REST operation ids are lowerCamelCase (getOffers); Trading calls are UpperCamelCase.
            return endpoint != "token" and endpoint[:1].islower()
        return True

    def matches_query(self, query: dict[str, list[str]] | None) -> bool:
        """Whether the call's query string holds every value of ``query`` (always, without one)."""
        if self.query is None:
            return True
        if query is None:
            return False
        return all(value in query.get(name, []) for name, value in self.query.items())

    @classmethod
    def from_dict(cls, data: dict) -> FaultRule:
        """Build a rule from a JSON object (the control endpoint's body)."""
        allowed = {
            "kind",
            "endpoint",
            "account",
            "times",
            "probability",
            "retry_after",
            "delay",
            "body",
            "error_id",
            "query",
        }
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        return cls(**data)


class FaultInjector(RuleList[FaultRule]):
    """Thread-safe fault rules with a seeded RNG; counts fired faults by ``(kind, endpoint)``."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        self._rng = random.Random(seed)
        self.fired: Counter = Counter()

    def pick(self, endpoint: str, account: str | None, query: dict[str, list[str]] | None = None) -> FaultRule | None:
        """The rule that fires for this call (``query``: its query string, REST only), if any (updates counters)."""
        with self._lock:
            for rule in self._rules:
                if rule.spent or not rule.applies_to(endpoint) or not rule.matches_query(query):
                    continue
                if rule.endpoint is not None and rule.endpoint != endpoint:
                    continue
                if rule.account is not None and rule.account != account:
                    continue
                if rule.probability is not None and self._rng.random() >= rule.probability:
                    continue
                rule.fired += 1
                self.fired[(rule.kind, endpoint)] += 1
                return rule
        return None
