"""The simulator refuses searches starting more than 18 months back, with eBay's error.

Sources: the Search Inquiries and Search Cases pages (developer.ebay.com/devzone/post-order/
post-order_v2_inquiry_search__get.html, post-order_v2_casemanagement_search__get.html):
the creation-date ``_from`` "cannot be set back more than 18 months in the past"; the same rule
for return search (README, Post-Order ``GET /return/search``); the Fulfillment contract for
getPaymentDisputeSummaries: ``open_date_from`` "can be set as far back as 18 months from the present
time", its one declared 400 being 33001 "Invalid input request"; README Wire facts: "18 months"
(400 otherwise). eBay's Post-Order search pages list no error ids: the test asserts the status and
the documented sentence, not an id.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from .conftest import NOW, Api, iso

#: 18 calendar months before the simulator's now (2026-11-01 12:00).
REACH = datetime(2025, 5, 1, 12, tzinfo=UTC)

SEARCHES = [
    ("/post-order/v2/inquiry/search", "inquiry_creation_date_range"),
    ("/post-order/v2/casemanagement/search", "case_creation_date_range"),
    ("/post-order/v2/return/search", "creation_date_range"),
]


def test_post_order_searches_refuse_a_start_older_than_18_months(api: Api) -> None:
    for path, prefix in SEARCHES:
        too_old = {f"{prefix}_from": iso(REACH - timedelta(seconds=1)), f"{prefix}_to": iso(REACH + timedelta(days=30))}
        refused = api.get(path, too_old, scheme="IAF")
        assert refused.status_code == 400, path
        (error,) = refused.json()["errorMessage"]["error"]
        assert error["httpStatusCode"] == 400 and error["category"] == "REQUEST"
        assert "cannot be set back more than 18 months in the past" in error["message"]
        assert f"{prefix}_from" in error["message"]
        inside = {f"{prefix}_from": iso(REACH), f"{prefix}_to": iso(REACH + timedelta(days=30))}
        assert api.get(path, inside, scheme="IAF").status_code == 200, path


def test_dispute_summaries_refuse_an_open_date_older_than_18_months(api: Api) -> None:
    path = "/sell/fulfillment/v1/payment_dispute_summary"
    too_old = {"open_date_from": iso(REACH - timedelta(seconds=1)), "open_date_to": iso(REACH + timedelta(days=30))}
    refused = api.get(path, too_old)
    assert refused.status_code == 400
    (error,) = refused.json()["errors"]
    assert (error["errorId"], error["domain"], error["message"]) == (33001, "API_FULFILLMENT", "Invalid input request")
    inside = {"open_date_from": iso(REACH), "open_date_to": iso(REACH + timedelta(days=30))}
    assert api.get(path, inside).status_code == 200
    assert api.get(path, {"open_date_from": iso(NOW - timedelta(days=10))}).status_code == 200
