"""Post-Order paging lands every record whichever meaning eBay gives ``offset``.

eBay's PaginationOutput type page (developer.ebay.com/devzone/post-order/types/PaginationOutput.html)
says ``offset`` is the number of entries skipped (default 0); several clients report it behaving as
a 1-based page number (README Wire facts: "Post-Order offset"). The simulator plays either reading
(``SimulatorConfig.postorder_offset``); the client asks for page 1 without ``offset``, learns the unit
with one probe when the set has more pages, and remembers it (``ebay_pipelines.ebay.offsets``).
Records leave the set while it is paged through the simulator's churn rules (design §8).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import timedelta

import pytest

from ebay_pipelines.ebay import paging, postorder
from ebay_pipelines.ebay.endpoints import EndpointSpec
from ebay_pipelines.ebay.errors import PayloadError, is_transient
from ebay_pipelines.ebay.offsets import OffsetUnit
from ebay_pipelines.ebay.walk import WalkReport
from ebay_pipelines.simulator import ChurnRule, EbaySimulator

from .conftest import ACCOUNT, NOW, Wired, make_sim, wire

READINGS = {"entries": OffsetUnit.ENTRIES, "pages": OffsetUnit.PAGES}
SINCE = NOW - timedelta(days=100)
#: Windows end an hour before the simulator's now: a record whose date moves to now leaves them.
UNTIL = NOW - timedelta(hours=1)


@pytest.fixture(params=sorted(READINGS))
def reading(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def sim(reading: str) -> Iterator[EbaySimulator]:
    """A fresh simulator playing ``reading`` (churn changes its world for good)."""
    with make_sim(postorder_offset=reading) as simulator:
        yield simulator


@pytest.fixture
def wired(sim: EbaySimulator) -> Iterator[Wired]:
    w = wire(sim)
    yield w
    w.rest.close()


ID = {postorder.INQUIRIES.call: "inquiryId", postorder.CASES.call: "caseId", postorder.RETURNS.call: "returnId"}


def _ids(endpoint: EndpointSpec, pages: list[list[dict]]) -> list[str]:
    return [str(record[ID[endpoint.call]]) for page in pages for record in page]


def _walk(endpoint: EndpointSpec, w: Wired, size: int, report: WalkReport | None = None) -> list[list[dict]]:
    return list(
        paging.pages(endpoint, rest=w.rest, since=SINCE, until=UNTIL, page_size=size, details=False, report=report)
    )


def _truth(w: Wired, endpoint: EndpointSpec) -> list[str]:
    """What eBay holds for the window: every inquiry, case or return (open and closed) created in it."""
    records = {
        postorder.INQUIRIES.call: w.sim.truth.inquiries,
        postorder.CASES.call: w.sim.truth.cases,
        postorder.RETURNS.call: w.sim.truth.returns,
    }[endpoint.call](ACCOUNT, SINCE, UNTIL)
    return [str(r[ID[endpoint.call]]) for r in records]


@pytest.mark.parametrize("size", [1, 2, 5])
def test_every_inquiry_case_and_return_lands_exactly_once_under_either_reading(
    wired: Wired, reading: str, size: int
) -> None:
    """Multi-page sets under both readings of PaginationOutput's ``offset``: one probe per client, then none."""
    probes = 0
    for endpoint in (postorder.INQUIRIES, postorder.CASES, postorder.RETURNS):
        truth = _truth(wired, endpoint)
        assert len(truth) > 2 * size, "three pages or more"
        wired.sim.reset_calls()
        report = WalkReport()
        got = _ids(endpoint, _walk(endpoint, wired, size, report))
        assert sorted(got) == sorted(truth) and len(got) == len(set(got)), endpoint.call
        assert report.complete, report.reason
        assert wired.rest.post_order_offset is READINGS[reading]
        first = wired.sim.calls[(ACCOUNT, endpoint.call)]

        wired.sim.reset_calls()
        again = _ids(endpoint, _walk(endpoint, wired, size))
        assert sorted(again) == sorted(truth)
        walked = wired.sim.calls[(ACCOUNT, endpoint.call)]
        probes += first - walked
        if endpoint is not postorder.RETURNS:  # returns are two searches (open, closed): their pages add up
            assert walked == math.ceil(len(truth) / size), "a learned unit costs the pages only"
    assert probes == 1, "one probe for the client's first set of several pages, none after"


def test_a_set_of_one_page_needs_no_probe(wired: Wired, reading: str) -> None:
    truth = _truth(wired, postorder.INQUIRIES)
    got = _ids(postorder.INQUIRIES, _walk(postorder.INQUIRIES, wired, 200))
    assert sorted(got) == sorted(truth) and len(truth) < 200
    assert wired.sim.calls[(ACCOUNT, postorder.INQUIRIES.call)] == 1
    assert wired.rest.post_order_offset is None, "nothing learned, nothing guessed"


@pytest.mark.parametrize("endpoint", [postorder.INQUIRIES, postorder.CASES], ids=lambda e: e.call)
def test_records_leaving_while_the_unit_is_learned_and_paged_lose_no_remaining_record(
    wired: Wired, reading: str, endpoint: EndpointSpec
) -> None:
    """A record leaves the set after every page served, the probe included: the probe at offset=2 still
    tells the readings apart, and the backward walk lands every record that stays."""
    before = _truth(wired, endpoint)
    rule = wired.sim.churn.add(ChurnRule(endpoint=endpoint.call, action="leave", count=1))
    report = WalkReport()
    got = set(_ids(endpoint, _walk(endpoint, wired, 5, report)))
    assert wired.rest.post_order_offset is READINGS[reading]
    assert rule.changed and [i for i in before if i not in set(rule.changed) and i not in got] == []
    assert got <= set(before) and not report.complete
    # page 1, the probe, the last page back to page 2, page 1 again (the set changed)
    assert wired.sim.calls[(ACCOUNT, endpoint.call)] <= math.ceil(len(before) / 5) + 2


def test_small_pages_probe_again_after_a_change_and_give_up_rather_than_guess(wired: Wired, reading: str) -> None:
    """Pages of two records are probed at offset=1, which only an unchanged total decides: one change
    costs a second probe; a set changing under every probe fails transiently, nothing walked."""
    endpoint = postorder.INQUIRIES
    before = _truth(wired, endpoint)
    once = wired.sim.churn.add(ChurnRule(endpoint=endpoint.call, action="leave", count=1, times=1))
    got = set(_ids(endpoint, _walk(endpoint, wired, 2)))
    assert wired.rest.post_order_offset is READINGS[reading]
    assert [i for i in before if i not in set(once.changed) and i not in got] == []
    # page 1, a blurred probe, page 1 again, a clear probe, then the walk
    assert wired.sim.calls[(ACCOUNT, endpoint.call)] <= math.ceil(len(before) / 2) + 4

    wired.sim.churn.clear()
    fresh = wire(wired.sim)
    wired.sim.reset_calls()
    wired.sim.churn.add(ChurnRule(endpoint=endpoint.call, action="leave", count=1))
    with pytest.raises(PayloadError, match="could not tell what offset counts") as failed:
        _walk(endpoint, fresh, 2)
    assert is_transient(failed.value) and fresh.rest.post_order_offset is None
    assert wired.sim.calls[(ACCOUNT, endpoint.call)] == 6, "three probes, each after page 1"
    fresh.rest.close()
