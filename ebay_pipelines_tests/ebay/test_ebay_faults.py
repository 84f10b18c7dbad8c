"""Every fault kind of the simulator leads to the documented outcome, with exact call counts.

Documented outcomes (client side):
- 429 (Retry-After honoured, capped), 500/502/503/504, dropped connections and timeouts of slow
  answers are retried with backoff: recovered when the fault stops, RetriesExhausted (transient)
  after ``max_attempts`` attempts otherwise;
- malformed bodies raise PayloadError at once (not retried in the client; flagged transient);
- expire_token triggers exactly one token refresh and one retry;
- revoke on the token endpoint raises ReauthorizationRequired at once (never retried).
"""

from __future__ import annotations

import math
import time
from dataclasses import replace

import pytest

from ebay_pipelines.ebay import finances, fulfillment, inventory, postorder, selling
from ebay_pipelines.ebay.errors import (
    EbayApiError,
    PayloadError,
    RateLimited,
    ReauthorizationRequired,
    RetriesExhausted,
    ServerError,
    TradingError,
    TransportError,
    is_transient,
)
from ebay_pipelines.simulator import FaultRule

from .conftest import ACCOUNT, FAST, Wired, in_ebay_order, window, wire

CALL = "getOrders"


def _orders(w: Wired, page_size: int = 200) -> list[dict]:
    since, until = window(3)
    return [o for page in fulfillment.iter_orders(w.rest, since, until, page_size=page_size) for o in page]


def _counts(w: Wired, call: str) -> tuple[int, int]:
    client = w.trading.calls if call[0].isupper() else w.rest.calls
    return client[(ACCOUNT, call)], w.sim.calls[(ACCOUNT, call)]


@pytest.mark.parametrize("kind", ["429", "500", "502", "503", "504", "drop"])
def test_transient_faults_recover(wired: Wired, kind: str) -> None:
    expected = _orders(wired)
    wired.sim.reset_calls()
    wired.rest.calls.clear()
    wired.sim.faults.add(FaultRule(kind=kind, endpoint=CALL, account=ACCOUNT, times=2, retry_after=1))
    assert _orders(wired) == expected
    assert _counts(wired, CALL) == (3, 3)


@pytest.mark.parametrize(("kind", "error"), [("429", RateLimited), ("503", ServerError), ("drop", TransportError)])
def test_persistent_faults_exhaust_bounded_retries(wired: Wired, kind: str, error: type) -> None:
    wired.tokens.get()
    wired.sim.faults.add(FaultRule(kind=kind, endpoint=CALL, retry_after=30))
    started = time.monotonic()
    with pytest.raises(RetriesExhausted) as info:
        _orders(wired)
    assert time.monotonic() - started < 3, "Retry-After is capped by the policy"
    err = info.value
    assert isinstance(err.last_error, error)
    assert err.attempts == FAST.max_attempts
    assert err.call_name == CALL and err.account_id == ACCOUNT
    assert is_transient(err)
    assert _counts(wired, CALL) == (FAST.max_attempts, FAST.max_attempts)


def test_retry_after_is_honoured(sim) -> None:
    w = wire(sim, retry=replace(FAST, max_retry_after=5.0))
    w.tokens.get()
    sim.faults.add(FaultRule(kind="429", endpoint=CALL, times=1, retry_after=1))
    started = time.monotonic()
    _orders(w)
    assert time.monotonic() - started >= 1.0
    assert _counts(w, CALL) == (2, 2)


def test_total_time_bound_stops_retrying_before_attempts_run_out(sim) -> None:
    policy = replace(FAST, max_attempts=50, initial_delay=0.2, max_delay=0.2, jitter=0.0, max_total_seconds=0.5)
    w = wire(sim, retry=policy)
    w.tokens.get()
    sim.faults.add(FaultRule(kind="500", endpoint=CALL))
    started = time.monotonic()
    with pytest.raises(RetriesExhausted) as info:
        _orders(w)
    elapsed = time.monotonic() - started
    assert 2 <= info.value.attempts <= 4
    assert elapsed < 1.5
    assert _counts(w, CALL) == (info.value.attempts, info.value.attempts)


def test_slow_answer_beyond_timeout_is_retried(sim) -> None:
    w = wire(sim, retry=replace(FAST, timeout=0.3))
    expected = _orders(w)
    sim.reset_calls()
    w.rest.calls.clear()
    sim.faults.add(FaultRule(kind="slow", endpoint=CALL, times=1, delay=1.0))
    assert _orders(w) == expected
    assert _counts(w, CALL) == (2, 2)


def test_slow_answer_within_timeout_is_just_slow(wired: Wired) -> None:
    wired.sim.faults.add(FaultRule(kind="slow", endpoint=CALL, times=1, delay=0.3))
    started = time.monotonic()
    assert _orders(wired)
    assert time.monotonic() - started >= 0.3
    assert _counts(wired, CALL) == (1, 1)


def test_malformed_json_is_a_payload_error_naming_call_and_account(wired: Wired) -> None:
    wired.sim.faults.add(FaultRule(kind="malformed", endpoint=CALL, times=1))
    with pytest.raises(PayloadError) as info:
        _orders(wired)
    err = info.value
    assert err.call_name == CALL and err.account_id == ACCOUNT
    assert CALL in str(err) and ACCOUNT in str(err)
    assert _counts(wired, CALL) == (1, 1)


def test_expire_token_refreshes_once_and_retries(wired: Wired) -> None:
    wired.tokens.get()
    wired.sim.faults.add(FaultRule(kind="expire_token", endpoint=CALL, times=1))
    assert _orders(wired)
    assert _counts(wired, CALL) == (2, 2)
    assert wired.tokens.refresh_count == 2
    assert wired.sim.calls[(ACCOUNT, "token")] == 2


def test_token_rejected_after_refresh_is_an_error_not_a_loop(wired: Wired) -> None:
    wired.tokens.get()
    wired.sim.faults.add(FaultRule(kind="expire_token", endpoint=CALL))
    with pytest.raises(EbayApiError) as info:
        _orders(wired)
    assert info.value.status == 401 and 1001 in info.value.error_ids
    assert not is_transient(info.value)
    assert _counts(wired, CALL) == (2, 2)
    assert wired.tokens.refresh_count == 2


def test_revoke_fault_is_reauthorization_without_retry(wired: Wired) -> None:
    wired.sim.faults.add(FaultRule(kind="revoke", endpoint="token"))
    with pytest.raises(ReauthorizationRequired) as info:
        _orders(wired)
    assert str(info.value).startswith(f"eBay account {ACCOUNT} must re-authorize: ")
    assert wired.sim.calls[(ACCOUNT, "token")] == 1
    assert wired.oauth.calls[(ACCOUNT, "token")] == 1
    assert wired.sim.calls[(ACCOUNT, CALL)] == 0
    assert ACCOUNT in wired.store.refresh_errors[ACCOUNT]


@pytest.mark.parametrize("kind", ["429", "503", "drop"])
def test_token_endpoint_transient_faults_recover(wired: Wired, kind: str) -> None:
    wired.sim.faults.add(FaultRule(kind=kind, endpoint="token", times=2, retry_after=1))
    assert wired.tokens.get()
    assert wired.sim.calls[(ACCOUNT, "token")] == 3 == wired.oauth.calls[(ACCOUNT, "token")]


def test_token_endpoint_malformed(wired: Wired) -> None:
    wired.sim.faults.add(FaultRule(kind="malformed", endpoint="token", times=1))
    with pytest.raises(PayloadError) as info:
        wired.tokens.get()
    assert info.value.call_name == "token" and info.value.account_id == ACCOUNT


@pytest.mark.parametrize("kind", ["429", "500", "drop", "expire_token"])
def test_post_order_faults_recover(wired: Wired, kind: str) -> None:
    since, until = window(60)
    expected = [i for p in postorder.iter_inquiries(wired.rest, since, until, details=False) for i in p]
    wired.sim.reset_calls()
    wired.rest.calls.clear()
    wired.sim.faults.add(FaultRule(kind=kind, endpoint="searchInquiries", times=1, retry_after=1))
    got = [i for p in postorder.iter_inquiries(wired.rest, since, until, details=False) for i in p]
    assert got == expected
    assert _counts(wired, "searchInquiries") == (2, 2)


def test_post_order_error_body_is_typed(wired: Wired) -> None:
    with pytest.raises(EbayApiError) as info:
        wired.rest.get_json("post-order", "/inquiry/5999999999999", None, "getInquiry")
    assert info.value.status == 404 and info.value.error_ids and not is_transient(info.value)


def test_rest_request_error_is_not_retried(wired: Wired) -> None:
    since, until = window(1)
    with pytest.raises(EbayApiError) as info:
        list(fulfillment.iter_orders(wired.rest, since, until, page_size=500))
    assert info.value.status == 400 and 31100 in info.value.error_ids
    assert not is_transient(info.value)
    assert _counts(wired, CALL) == (1, 1)


def test_page_size_limits_are_request_errors(wired: Wired) -> None:
    since, until = window(1)
    with pytest.raises(EbayApiError) as info:
        list(finances.iter_transactions(wired.rest, since, until, page_size=1001))
    assert info.value.status == 400 and 135003 in info.value.error_ids
    with pytest.raises(EbayApiError) as info:
        list(inventory.iter_inventory_items(wired.rest, page_size=201))
    assert info.value.status == 400 and 25706 in info.value.error_ids
    assert _counts(wired, "getTransactions") == (1, 1) and _counts(wired, "getInventoryItems") == (1, 1)


# ---------------------------------------------------------------------------- Trading

TRADING = "GetMyeBaySelling"


def _listings(w: Wired) -> list[dict]:
    return [i for page in selling.iter_active_listings(w.trading) for i in page]


@pytest.mark.parametrize("kind", ["429", "500", "503", "drop"])
def test_trading_transient_faults_recover(wired: Wired, kind: str) -> None:
    expected = _listings(wired)
    wired.sim.reset_calls()
    wired.trading.calls.clear()
    wired.sim.faults.add(FaultRule(kind=kind, endpoint=TRADING, times=2))
    assert _listings(wired) == expected
    assert _counts(wired, TRADING) == (3, 3)


def test_trading_518_persisting_exhausts_retries(wired: Wired) -> None:
    wired.tokens.get()
    wired.sim.faults.add(FaultRule(kind="429", endpoint=TRADING))
    with pytest.raises(RetriesExhausted) as info:
        _listings(wired)
    assert isinstance(info.value.last_error, TradingError)
    assert info.value.last_error.error_codes == ("518",)
    assert is_transient(info.value)
    assert _counts(wired, TRADING) == (FAST.max_attempts, FAST.max_attempts)


def test_trading_expired_token_refreshes_once(wired: Wired) -> None:
    wired.tokens.get()
    wired.sim.faults.add(FaultRule(kind="expire_token", endpoint=TRADING, times=1))
    assert _listings(wired)
    assert _counts(wired, TRADING) == (2, 2)
    assert wired.tokens.refresh_count == 2


def test_trading_token_rejected_twice_is_trading_error(wired: Wired) -> None:
    wired.tokens.get()
    wired.sim.faults.add(FaultRule(kind="expire_token", endpoint=TRADING))
    with pytest.raises(TradingError) as info:
        _listings(wired)
    assert "21916984" in info.value.error_codes
    assert _counts(wired, TRADING) == (2, 2)


def test_trading_malformed_xml_is_payload_error(wired: Wired) -> None:
    wired.sim.faults.add(FaultRule(kind="malformed", endpoint=TRADING, times=1))
    with pytest.raises(PayloadError) as info:
        _listings(wired)
    assert info.value.call_name == TRADING and info.value.account_id == ACCOUNT
    assert TRADING in str(info.value) and ACCOUNT in str(info.value)
    assert _counts(wired, TRADING) == (1, 1)


def test_random_faults_during_a_long_sync_lose_nothing(sim) -> None:
    w = wire(sim, retry=replace(FAST, max_attempts=8))
    since, until = window(30)
    truth = sim.truth.orders(ACCOUNT, since, until)
    fired_before = sim.faults.fired[("503", CALL)] + sim.faults.fired[("drop", CALL)]
    sim.faults.add(FaultRule(kind="503", endpoint=CALL, probability=0.3))
    sim.faults.add(FaultRule(kind="drop", endpoint=CALL, probability=0.1))
    orders = [o for page in in_ebay_order(fulfillment.iter_orders(w.rest, since, until, page_size=20)) for o in page]
    assert [o["orderId"] for o in orders] == [o["orderId"] for o in truth]
    pages = math.ceil(len(truth) / 20)
    client, server = _counts(w, CALL)
    fired = sim.faults.fired[("503", CALL)] + sim.faults.fired[("drop", CALL)] - fired_before
    assert fired > 0
    assert client == server == pages + fired
