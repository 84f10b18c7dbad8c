"""No log line (at DEBUG, every logger) and no exception text contains a token or the client secret."""

from __future__ import annotations

import logging
import traceback

import pytest

from ebay_pipelines.ebay import buying, finances, fulfillment, inventory, messages, postorder, selling
from ebay_pipelines.ebay.errors import EbayError
from ebay_pipelines.simulator import FaultRule

from .conftest import ACCOUNT, Wired, window


def _all_tokens(w: Wired, issued: list[str]) -> list[str]:
    return [w.settings.client_secret, w.sim.refresh_token_for(ACCOUNT), *issued]


def test_no_secret_in_logs_or_errors(wired: Wired, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("urllib3").setLevel(logging.DEBUG)
    issued: list[str] = []
    errors: list[BaseException] = []
    since, until = window(5)

    def attempt(fn) -> None:
        try:
            fn()
        except EbayError as exc:
            errors.append(exc)
        stored = wired.store.load_access_token(ACCOUNT)
        if stored:
            issued.append(stored[0])

    sim = wired.sim
    sim.faults.add(FaultRule(kind="429", endpoint="getOrders", times=1, retry_after=0))
    sim.faults.add(FaultRule(kind="expire_token", endpoint="getOrders", times=1))
    sim.faults.add(FaultRule(kind="expire_token", endpoint="GetMyMessages", times=1))
    sim.faults.add(FaultRule(kind="malformed", endpoint="getTransactions", times=1))
    attempt(lambda: list(fulfillment.iter_orders(wired.rest, since, until)))
    attempt(lambda: list(finances.iter_transactions(wired.rest, since, until)))
    attempt(lambda: list(inventory.iter_inventory_items(wired.rest)))
    attempt(lambda: list(postorder.iter_returns(wired.rest, since, until)))
    attempt(lambda: list(messages.iter_messages(wired.trading, since, until)))
    attempt(lambda: list(selling.iter_active_listings(wired.trading)))
    attempt(lambda: list(buying.iter_purchases(wired.trading)))
    sim.faults.add(FaultRule(kind="expire_token", endpoint="getOrders"))
    attempt(lambda: list(fulfillment.iter_orders(wired.rest, since, until)))
    sim.faults.clear()
    sim.revoke(ACCOUNT)
    sim.expire_access_tokens(ACCOUNT)
    attempt(lambda: list(fulfillment.iter_orders(wired.rest, since, until)))

    assert len(errors) == 3, errors  # malformed, token rejected twice, revoked
    secrets = _all_tokens(wired, issued)
    assert len(set(issued)) >= 3
    assert caplog.records, "the client logs at DEBUG"
    assert any("account=acct-1" in r.getMessage() and "status=" in r.getMessage() for r in caplog.records)
    log_text = "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    error_text = "\n".join(
        str(e) + repr(e) + "".join(traceback.format_exception(e)) + repr(getattr(e, "last_error", "")) for e in errors
    )
    for secret in secrets:
        assert secret not in log_text
        assert secret not in error_text
