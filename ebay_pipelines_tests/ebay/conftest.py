"""Fixtures for client tests: a simulated eBay over real HTTP and clients wired to it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from ebay_pipelines.ebay.auth import AccessTokenProvider, InMemoryTokenStore, OAuthClient
from ebay_pipelines.ebay.config import EbaySettings
from ebay_pipelines.ebay.rest import EbayRestClient, RetryPolicy
from ebay_pipelines.ebay.trading import TradingClient
from ebay_pipelines.simulator import EbaySimulator, SimulatorConfig

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
ACCOUNT = "acct-1"

#: Small delays so fault tests stay fast; bounded at 4 attempts.
FAST = RetryPolicy(
    max_attempts=4,
    initial_delay=0.01,
    multiplier=2.0,
    max_delay=0.05,
    jitter=0.01,
    max_total_seconds=10.0,
    max_retry_after=0.05,
    timeout=5.0,
)


def in_ebay_order(pages: Iterable[list]) -> list[list]:
    """The pages of one backward walk (page 1, then the last back to page 2) in eBay's page order."""
    walked = list(pages)
    return walked[:1] + walked[:0:-1]


@dataclass
class Wired:
    """Everything needed to call the simulator as one account."""

    sim: EbaySimulator
    account: str
    settings: EbaySettings
    store: InMemoryTokenStore
    oauth: OAuthClient
    tokens: AccessTokenProvider
    rest: EbayRestClient
    trading: TradingClient
    extra: list = field(default_factory=list)

    def secrets(self) -> list[str]:
        """Every secret value that must never show up in logs or errors."""
        values = [self.settings.client_secret, self.sim.refresh_token_for(self.account)]
        stored = self.store.load_access_token(self.account)
        if stored:
            values.append(stored[0])
        return values


def wire(sim: EbaySimulator, account: str = ACCOUNT, retry: RetryPolicy = FAST, **provider_kwargs) -> Wired:
    """Build settings, token store, OAuth client, token provider and both API clients for ``account``."""
    settings = EbaySettings(client_id=sim.client_id, client_secret=sim.client_secret, base_url=sim.base_url)
    store = InMemoryTokenStore({account: sim.refresh_token_for(account)})
    oauth = OAuthClient(settings, retry=retry)
    tokens = AccessTokenProvider(account, oauth, store, **provider_kwargs)
    rest = EbayRestClient(account, settings, tokens, retry=retry)
    trading = TradingClient(account, settings, tokens, retry=retry)
    return Wired(sim, account, settings, store, oauth, tokens, rest, trading)


def make_sim(**overrides) -> EbaySimulator:
    """A simulator with the suite's defaults (fixed clock, seed 7)."""
    params = {"seed": 7, "orders_per_day": 12, "history_days": 120, "now": NOW}
    params.update(overrides)
    return EbaySimulator(SimulatorConfig(**params))


@pytest.fixture(scope="module")
def shared_sim() -> Iterator[EbaySimulator]:
    """One simulator per test module (faults and call counts are reset per test)."""
    with make_sim() as sim:
        yield sim


@pytest.fixture
def sim(shared_sim: EbaySimulator) -> Iterator[EbaySimulator]:
    """The module's simulator with no faults, fresh call counts and the clock at NOW."""
    shared_sim.faults.clear()
    shared_sim.set_now(NOW)
    shared_sim.reset_calls()
    yield shared_sim
    shared_sim.faults.clear()


@pytest.fixture
def wired(sim: EbaySimulator) -> Iterator[Wired]:
    """Clients for ACCOUNT against the simulator."""
    w = wire(sim)
    yield w
    w.rest.close()
    w.trading.close()


def window(days: int = 30) -> tuple[datetime, datetime]:
    """A ``[since, until]`` window ending at NOW."""
    return NOW - timedelta(days=days), NOW
