"""OAuth refresh, token caching and expiry handling against the simulator's token endpoint."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ebay_pipelines.ebay import fulfillment, messages
from ebay_pipelines.ebay.auth import (
    DEFAULT_SCOPES,
    AccessToken,
    AccessTokenProvider,
    InMemoryTokenStore,
    OAuthClient,
    TokenStore,
)
from ebay_pipelines.ebay.config import EbaySettings
from ebay_pipelines.ebay.errors import EbayApiError, ReauthorizationRequired, is_transient

from .conftest import ACCOUNT, FAST, Wired, in_ebay_order, window, wire


class Clock:
    """A settable clock for the token provider."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def test_token_is_cached_until_shortly_before_expiry(sim) -> None:
    clock = Clock()
    w = wire(sim, clock=clock)
    first = w.tokens.get()
    assert w.tokens.get() == first
    clock.now += timedelta(seconds=7200 - 301)  # still more than 5 minutes left
    assert w.tokens.get() == first
    clock.now += timedelta(seconds=2)  # now within the 5-minute margin
    second = w.tokens.get()
    assert second != first
    assert sim.calls[(ACCOUNT, "token")] == 2 and w.tokens.refresh_count == 2
    saved, expires_at = w.store.load_access_token(ACCOUNT)
    assert saved == second and expires_at.tzinfo is not None


def test_margin_is_configurable(sim) -> None:
    clock = Clock()
    w = wire(sim, clock=clock, refresh_margin=timedelta(minutes=30))
    first = w.tokens.get()
    clock.now += timedelta(minutes=89)
    assert w.tokens.get() == first
    clock.now += timedelta(minutes=2)
    assert w.tokens.get() != first


def test_token_from_store_is_reused_without_a_call(sim) -> None:
    w = wire(sim)
    token = w.tokens.get()
    other = AccessTokenProvider(ACCOUNT, w.oauth, w.store)
    assert other.get() == token
    assert sim.calls[(ACCOUNT, "token")] == 1


def test_token_expiring_mid_pagination_is_refreshed_once(wired: Wired) -> None:
    since, until = window(30)
    truth = wired.sim.truth.orders(ACCOUNT, since, until)
    walked = []
    for n, page in enumerate(fulfillment.iter_orders(wired.rest, since, until, page_size=50)):
        walked.append(page)
        if n == 1:
            wired.sim.expire_access_tokens(ACCOUNT)
    orders = [o for page in in_ebay_order(walked) for o in page]
    assert [o["orderId"] for o in orders] == [o["orderId"] for o in truth]
    pages = -(-len(truth) // 50)
    assert wired.rest.calls[(ACCOUNT, "getOrders")] == pages + 1 == wired.sim.calls[(ACCOUNT, "getOrders")]
    assert wired.tokens.refresh_count == 2
    assert wired.sim.calls[(ACCOUNT, "token")] == 2


def test_token_expiring_mid_trading_pagination_is_refreshed_once(wired: Wired) -> None:
    since, until = window(10)
    truth = wired.sim.truth.messages(ACCOUNT, since, until)
    got = []
    for n, page in enumerate(messages.iter_messages(wired.trading, since, until, entries_per_page=20)):
        got.extend(page)
        if n == 0:
            wired.sim.expire_access_tokens(ACCOUNT)
    assert [m["MessageID"] for m in got] == [m["MessageID"] for m in truth]
    assert wired.tokens.refresh_count == 2
    assert wired.sim.calls[(ACCOUNT, "token")] == 2


def test_simulated_clock_expiry_is_handled_by_refresh(wired: Wired) -> None:
    wired.tokens.get()
    wired.sim.advance(timedelta(hours=3))  # the simulator's tokens expire on its own clock
    since, until = wired.sim.now - timedelta(days=2), wired.sim.now
    assert list(fulfillment.iter_orders(wired.rest, since, until))
    assert wired.tokens.refresh_count == 2


def test_revoked_refresh_token_requires_reauthorization(wired: Wired) -> None:
    wired.sim.revoke(ACCOUNT)
    with pytest.raises(ReauthorizationRequired) as info:
        wired.tokens.get()
    err = info.value
    assert str(err).startswith(f"eBay account {ACCOUNT} must re-authorize: ")
    assert "invalid" in str(err)
    assert err.account_id == ACCOUNT and not is_transient(err)
    assert wired.sim.calls[(ACCOUNT, "token")] == 1
    assert wired.store.refresh_errors[ACCOUNT].startswith(f"eBay account {ACCOUNT} must re-authorize")


def test_revocation_mid_sync_stops_the_sync(wired: Wired) -> None:
    since, until = window(30)
    pages = fulfillment.iter_orders(wired.rest, since, until, page_size=50)
    assert next(pages)
    wired.sim.revoke(ACCOUNT)
    wired.sim.expire_access_tokens(ACCOUNT)
    with pytest.raises(ReauthorizationRequired, match=f"eBay account {ACCOUNT} must re-authorize"):
        next(pages)
    assert wired.sim.calls[(ACCOUNT, "token")] == 2
    assert wired.sim.calls[(ACCOUNT, "getOrders")] == 2


def test_missing_refresh_token_requires_reauthorization(sim) -> None:
    settings = EbaySettings(client_id=sim.client_id, client_secret=sim.client_secret, base_url=sim.base_url)
    provider = AccessTokenProvider("acct-unknown", OAuthClient(settings, retry=FAST), InMemoryTokenStore())
    with pytest.raises(ReauthorizationRequired, match="eBay account acct-unknown must re-authorize"):
        provider.get()
    assert sim.calls[("acct-unknown", "token")] == 0


def test_bad_client_credentials(sim) -> None:
    settings = EbaySettings(client_id=sim.client_id, client_secret="wrong-secret-value", base_url=sim.base_url)
    store = InMemoryTokenStore({ACCOUNT: sim.refresh_token_for(ACCOUNT)})
    provider = AccessTokenProvider(ACCOUNT, OAuthClient(settings, retry=FAST), store)
    with pytest.raises(EbayApiError) as info:
        provider.get()
    assert info.value.status == 401 and "invalid_client" in str(info.value)
    assert "wrong-secret-value" not in str(info.value) and not is_transient(info.value)
    assert sim.calls[(ACCOUNT, "token")] == 1


def test_scopes_and_protocol() -> None:
    assert "https://api.ebay.com/oauth/api_scope" in DEFAULT_SCOPES
    for scope in ("sell.fulfillment", "sell.finances", "sell.inventory", "sell.payment.dispute"):
        assert f"https://api.ebay.com/oauth/api_scope/{scope}" in DEFAULT_SCOPES
    assert isinstance(InMemoryTokenStore(), TokenStore)


def test_reprs_never_show_tokens(wired: Wired) -> None:
    token = wired.tokens.get()
    refresh = wired.sim.refresh_token_for(ACCOUNT)
    for obj in (
        wired.tokens,
        wired.store,
        wired.oauth,
        wired.rest,
        wired.trading,
        wired.settings,
        AccessToken(token, datetime.now(UTC)),
    ):
        text = repr(obj)
        assert token not in text and refresh not in text and wired.settings.client_secret not in text
