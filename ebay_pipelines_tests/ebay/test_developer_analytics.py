"""Developer Analytics getRateLimits / getUserRateLimits through the client, against the simulated quotas."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from ebay_pipelines.ebay import postorder
from ebay_pipelines.ebay.analytics import (
    application_client,
    get_rate_limits,
    get_user_rate_limits,
    parse_rate_limits,
)
from ebay_pipelines.ebay.errors import PayloadError, RateLimited, RetriesExhausted
from ebay_pipelines.ebay.paging import pages
from ebay_pipelines.ebay.quotas import PACIFIC, next_reset, quota_of_record

from .conftest import FAST, NOW, make_sim, wire


def _inquiries(w) -> None:
    for _ in pages(postorder.INQUIRIES, rest=w.rest, since=NOW - timedelta(days=20), until=NOW, now=NOW):
        pass


@pytest.mark.parametrize("naming", ["resource", "method"])
def test_rate_limits_fall_with_the_calls_served(naming: str) -> None:
    """getRateLimits answers limit, remaining, count, reset and timeWindow per resource, and remaining falls
    by each call served (eBay pages ``developer/analytics/resources/rate_limit/methods/getRateLimits`` and
    ``types/api:Rate``; the README Wire facts "Default daily limits": 5,000 per Post-Order resource, reset at
    midnight Pacific). Both readings of the resource names (one per quota, one per method as the
    ``types/api:RateLimit`` examples word them) map to the same quota."""
    with make_sim(quota_naming=naming, quota_limits={"postorder.inquiry": 40}) as sim:
        w = wire(sim, "seller_one")
        app = application_client(w.oauth)
        before = [r for r in get_rate_limits(app) if r.quota == "postorder.inquiry"]
        assert before and all(r.limit == 40 and r.remaining == 40 and r.count == 0 for r in before)
        assert all(r.time_window == 86_400 for r in before)
        assert all(r.reset == next_reset(sim.now) for r in before)
        assert all(r.reset.astimezone(PACIFIC).hour == 0 for r in before if r.reset)
        _inquiries(w)
        served = sim.calls[("seller_one", "searchInquiries")] + sim.calls[("seller_one", "getInquiry")]
        assert served > 0
        every = get_rate_limits(app)
        after = [r for r in every if r.quota == "postorder.inquiry"]
        assert after and all(r.remaining == 40 - served and r.count == served for r in after)
        fulfillment = [r for r in every if r.api_name == "fulfillment"]
        assert {r.quota for r in fulfillment} == {"sell.fulfillment.order", "sell.fulfillment.payment_dispute"}
        assert app.calls[("", "getRateLimits")] == 2


def test_user_rate_limits_are_per_account() -> None:
    """getUserRateLimits takes the seller's token and reports the quotas eBay counts per user (eBay page
    ``developer/analytics/resources/user_rate_limit/methods/getUserRateLimits``); with none configured
    the simulated eBay answers 204 No Content, as the method's contract allows."""
    with make_sim(user_quota_limits={"postorder.inquiry": 30}) as sim:
        one, two = wire(sim, "seller_one"), wire(sim, "seller_two")
        _inquiries(one)
        spent = sim.calls[("seller_one", "searchInquiries")]
        mine = [r for r in get_user_rate_limits(one.rest) if r.quota == "postorder.inquiry"]
        theirs = [r for r in get_user_rate_limits(two.rest) if r.quota == "postorder.inquiry"]
        assert [(r.limit, r.remaining) for r in mine] == [(30, 30 - spent)]
        assert [(r.limit, r.remaining) for r in theirs] == [(30, 30)]
    with make_sim() as sim:
        assert get_user_rate_limits(wire(sim).rest) == []


def test_a_spent_quota_answers_429_until_the_pacific_reset() -> None:
    """Once a resource's quota is spent every call answers 429 with eBay's error body (README "Rate limits":
    REST 429 with errors[]) until midnight Pacific time, when the count starts again (README Wire facts
    "Default daily limits")."""
    with make_sim(quota_limits={"postorder.inquiry": 1}, now=datetime(2026, 11, 30, 7, 30, tzinfo=PACIFIC)) as sim:
        w = wire(sim, "seller_one")
        _inquiries(w)
        with pytest.raises(RetriesExhausted) as info:
            _inquiries(w)
        assert isinstance(info.value.last_error, RateLimited)
        assert sim.quotas.refused[("seller_one", "searchInquiries")] == FAST.max_attempts
        sim.set_now(datetime(2026, 12, 1, 0, 0, 1, tzinfo=PACIFIC))
        _inquiries(w)


def test_record_names_map_to_quotas_under_every_reading() -> None:
    """eBay's pages give the resource names only by example (``types/api:RateLimit``: ``getOrder`` for the
    Fulfillment API, ``AddItems`` for the Trading API; the limits page counts Post-Order per resource)."""
    assert quota_of_record("fulfillment", "sell.fulfillment") == "sell.fulfillment.order"
    assert quota_of_record("Fulfillment", "getOrders") == "sell.fulfillment.order"
    assert quota_of_record("fulfillment", "sell.fulfillment.payment_dispute") == "sell.fulfillment.payment_dispute"
    assert quota_of_record("postorder", "postorder.inquiry") == "postorder.inquiry"
    assert quota_of_record("post-order", "searchReturns") == "postorder.return"
    assert quota_of_record("tradingapi", "GetMyMessages") == "tradingapi.GetMyMessages"
    assert quota_of_record("browse", "buy.browse") is None


def test_a_malformed_answer_is_a_clear_error() -> None:
    """A rate whose ``limit`` is not a number is refused with the call named, nothing guessed."""
    body = {"rateLimits": [{"apiName": "finances", "resources": [{"name": "x", "rates": [{"limit": "many"}]}]}]}
    with pytest.raises(PayloadError, match="limit"):
        parse_rate_limits(body, "getRateLimits")
    assert parse_rate_limits({}, "getRateLimits") == []
