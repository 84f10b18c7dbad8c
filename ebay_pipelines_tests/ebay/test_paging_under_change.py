"""Paging while eBay changes underneath: every record that stays in the result set is landed.

eBay answers each page from the set as it is when the page is asked for, so a record leaving it
moves every record behind it up one place (design §8, "Reading eBay while it changes"). The
simulator's churn rules (``ebay_pipelines.simulator.churn``) change records between page requests:
orders modified (their ``lastModifiedDate`` moves to now, out of a ``lastmodifieddate:[from..to]``
window), listings ended, SKUs deleted or created, Post-Order records and messages moved out of
their date window. Paging follows eBay's documented fields (the shared eBay API notes, ``shared/ebay-api/README.md``):
REST ``limit``/``offset``/``total`` and ``next`` links ("REST: shared facts", paged envelope),
Post-Order ``limit``/``offset`` (entries skipped or page number, learned: PaginationOutput type page)
and ``paginationOutput {totalEntries, totalPages}``,
Trading ``Pagination{EntriesPerPage, PageNumber}`` and ``PaginationResult{TotalNumberOfPages,
TotalNumberOfEntries}``, and GetMyMessages, whose answers carry no ``PaginationResult``.

Each churn test also walks forward (the old order) under the same churn and shows it loses records,
so the test proves the backward walk is what lands them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
import requests
import sqlalchemy as sa
from tests_support import register_account

from ebay_pipelines.ebay import fulfillment, inventory, messages, paging, postorder, selling
from ebay_pipelines.ebay.endpoints import EndpointSpec
from ebay_pipelines.ebay.walk import Walk, WalkReport
from ebay_pipelines.simulator import ChurnRule, EbaySimulator
from ebay_pipelines.sync import partition_sync
from ebay_pipelines.sync.families import FAMILIES_BY_NAME

from .conftest import ACCOUNT, NOW, Wired, make_sim, wire

#: Windows end an hour before the simulator's now: a record whose date moves to now leaves them.
UNTIL = NOW - timedelta(hours=1)


@pytest.fixture
def sim() -> Iterator[EbaySimulator]:
    """A fresh simulator per test: churn changes its world for good."""
    with make_sim(active_listings=450, inventory_skus=120, messages_per_day=12) as simulator:
        yield simulator


@pytest.fixture
def wired(sim: EbaySimulator) -> Iterator[Wired]:
    w = wire(sim)
    yield w
    w.rest.close()
    w.trading.close()


def _ids(pages: list[list[dict]], key: str) -> list[str]:
    return [str(record[key]) for page in pages for record in page]


def _walk(endpoint: EndpointSpec, w: Wired, walk: Walk, report: WalkReport, **kwargs) -> list[list[dict]]:
    spec = replace(endpoint, walk=walk)
    return list(paging.pages(spec, rest=w.rest, trading=w.trading, report=report, **kwargs))


# ------------------------------------------------------------------------------------------------
# REST getOrders: orders modified while paged leave the lastmodifieddate window
# ------------------------------------------------------------------------------------------------


def test_orders_modified_while_paged_lose_no_unchanged_order(wired: Wired) -> None:
    since = UNTIL - timedelta(days=30)
    before = [o["orderId"] for o in wired.sim.truth.orders(ACCOUNT, since, UNTIL)]
    assert len(before) > 300
    rule = wired.sim.churn.add(ChurnRule(endpoint="getOrders", action="modify", count=3))
    report = WalkReport()
    pages = _walk(fulfillment.ORDERS, wired, Walk.BACKWARD, report, since=since, until=UNTIL, page_size=50)
    got = set(_ids(pages, "orderId"))
    stayed = [i for i in before if i not in set(rule.changed)]
    assert len(rule.changed) == 3 * rule.fired > 0
    assert [i for i in stayed if i not in got] == []
    assert got <= set(before)
    assert len(_ids(pages[-1:], "orderId")) == len(set(_ids(pages[-1:], "orderId"))), "no record twice in a page"
    assert not report.complete and "changed while it was paged" in (report.reason or "")
    # page 1, the last page back to page 2, then page 1 again because the set changed
    assert wired.sim.calls[(ACCOUNT, "getOrders")] == -(-len(before) // 50) + 1
    left = set(rule.changed)
    assert not left & {o["orderId"] for o in wired.sim.truth.orders(ACCOUNT, since, UNTIL)}


def test_orders_walked_forward_under_the_same_churn_skip_unchanged_orders(wired: Wired) -> None:
    since = UNTIL - timedelta(days=30)
    before = [o["orderId"] for o in wired.sim.truth.orders(ACCOUNT, since, UNTIL)]
    rule = wired.sim.churn.add(ChurnRule(endpoint="getOrders", action="modify", count=3))
    report = WalkReport()
    pages = _walk(fulfillment.ORDERS, wired, Walk.FORWARD, report, since=since, until=UNTIL, page_size=50)
    got = set(_ids(pages, "orderId"))
    lost = [i for i in before if i not in set(rule.changed) and i not in got]
    assert lost, "a forward walk skips one unchanged order per change at every boundary it passed"
    assert not report.complete


def test_an_unchanging_set_costs_its_pages_and_is_proven_complete(wired: Wired) -> None:
    since = UNTIL - timedelta(days=30)
    truth = wired.sim.truth.orders(ACCOUNT, since, UNTIL)
    report = WalkReport()
    pages = _walk(fulfillment.ORDERS, wired, Walk.BACKWARD, report, since=since, until=UNTIL, page_size=50)
    assert sorted(_ids(pages, "orderId")) == sorted(o["orderId"] for o in truth)
    assert report.complete and report.walks == 1 and report.reason is None
    assert wired.sim.calls[(ACCOUNT, "getOrders")] == len(pages) == -(-len(truth) // 50)


# ------------------------------------------------------------------------------------------------
# REST getInventoryItems: SKUs deleted or created during a snapshot
# ------------------------------------------------------------------------------------------------


def test_inventory_items_deleted_while_paged_lose_no_remaining_item(wired: Wired) -> None:
    before = [i["sku"] for i in wired.sim.truth.inventory_items(ACCOUNT)]
    rule = wired.sim.churn.add(ChurnRule(endpoint="getInventoryItems", action="delete", count=2))
    report = WalkReport()
    pages = _walk(inventory.INVENTORY_ITEMS, wired, Walk.BACKWARD, report, page_size=25)
    got = set(_ids(pages, "sku"))
    assert rule.changed and [s for s in before if s not in set(rule.changed) and s not in got] == []
    assert {i["sku"] for i in wired.sim.truth.inventory_items(ACCOUNT)} <= got
    assert not report.complete

    forward = WalkReport()
    rule.served.clear()
    lost_forward = _walk(inventory.INVENTORY_ITEMS, wired, Walk.FORWARD, forward, page_size=25)
    remaining = {i["sku"] for i in wired.sim.truth.inventory_items(ACCOUNT)}
    assert remaining - set(_ids(lost_forward, "sku")), "walked forward, the same churn skips remaining items"


def test_inventory_items_created_while_paged_make_the_walk_unproven(wired: Wired) -> None:
    wired.sim.churn.add(ChurnRule(endpoint="getInventoryItems", action="create", count=1, times=1))
    report = WalkReport()
    pages = _walk(inventory.INVENTORY_ITEMS, wired, Walk.BACKWARD, report, page_size=25)
    assert len(_ids(pages, "sku")) >= 120
    assert not report.complete and "page 1: 120 records" in (report.reason or "")


# ------------------------------------------------------------------------------------------------
# Post-Order search: inquiries leaving the creation-date window
# ------------------------------------------------------------------------------------------------


def test_inquiries_leaving_while_paged_lose_no_remaining_inquiry(wired: Wired) -> None:
    since = UNTIL - timedelta(days=90)
    before = [i["inquiryId"] for i in wired.sim.truth.inquiries(ACCOUNT, since, UNTIL)]
    assert len(before) > 20
    rule = wired.sim.churn.add(ChurnRule(endpoint="searchInquiries", action="leave", count=1))
    report = WalkReport()
    pages = _walk(postorder.INQUIRIES, wired, Walk.BACKWARD, report, since=since, until=UNTIL, page_size=5)
    got = _ids(pages, "inquiryId")
    assert rule.changed and [i for i in before if i not in set(rule.changed) and i not in set(got)] == []
    assert not report.complete
    # InquirySummaryType holds every column: no detail call, also for page 1 read again
    assert wired.sim.calls[(ACCOUNT, "getInquiry")] == 0

    rule.served.clear()
    forward = _walk(postorder.INQUIRIES, wired, Walk.FORWARD, WalkReport(), since=since, until=UNTIL, page_size=5)
    remaining = {i["inquiryId"] for i in wired.sim.truth.inquiries(ACCOUNT, since, UNTIL)}
    assert remaining - set(_ids(forward, "inquiryId")), "walked forward, the same churn skips remaining inquiries"


# ------------------------------------------------------------------------------------------------
# Trading GetMyeBaySelling: listings ending during a snapshot
# ------------------------------------------------------------------------------------------------


def test_listings_ending_while_paged_lose_no_active_listing(wired: Wired) -> None:
    before = [i["ItemID"] for i in wired.sim.truth.active_listings(ACCOUNT)]
    rule = wired.sim.churn.add(ChurnRule(endpoint="GetMyeBaySelling", action="end", count=3))
    report = WalkReport()
    pages = _walk(selling.ACTIVE_LISTINGS, wired, Walk.BACKWARD, report, page_size=40)
    got = set(_ids(pages, "ItemID"))
    assert len(rule.changed) == 3 * rule.fired > 0
    assert {i["ItemID"] for i in wired.sim.truth.active_listings(ACCOUNT)} <= got
    assert [i for i in before if i not in set(rule.changed) and i not in got] == []
    assert not report.complete

    rule.served.clear()
    forward = _walk(selling.ACTIVE_LISTINGS, wired, Walk.FORWARD, WalkReport(), page_size=40)
    active = {i["ItemID"] for i in wired.sim.truth.active_listings(ACCOUNT)}
    assert active - set(_ids(forward, "ItemID")), "walked forward, the same churn skips active listings"


# ------------------------------------------------------------------------------------------------
# Trading GetMyMessages: no PaginationResult, so no backward walk and no proof
# ------------------------------------------------------------------------------------------------


def test_message_headers_without_a_total_are_walked_forward_and_never_claimed_complete(wired: Wired) -> None:
    since = UNTIL - timedelta(days=5)
    truth = [m["MessageID"] for m in wired.sim.truth.messages(ACCOUNT, since, UNTIL)]
    assert len(truth) > 40
    report = WalkReport()
    pages = _walk(messages.MESSAGES, wired, Walk.BACKWARD, report, since=since, until=UNTIL, page_size=20)
    assert _ids(pages, "MessageID") == truth, "without a total the walk goes forward, in eBay's order"
    assert not report.complete and "no total" in (report.reason or "")

    one_page = WalkReport()
    _walk(messages.MESSAGES, wired, messages.MESSAGES.walk, one_page, since=UNTIL - timedelta(hours=6), until=UNTIL)
    assert one_page.complete, "one page holding the whole window is read at once"


def test_messages_leaving_their_window_are_reported_and_the_rest_land_when_they_fit_one_page(wired: Wired) -> None:
    since = UNTIL - timedelta(days=5)
    truth = [m["MessageID"] for m in wired.sim.truth.messages(ACCOUNT, since, UNTIL)]
    rule = wired.sim.churn.add(ChurnRule(endpoint="GetMyMessages", action="leave", count=2))
    report = WalkReport()
    pages = _walk(messages.MESSAGES, wired, messages.MESSAGES.walk, report, since=since, until=UNTIL)
    assert _ids(pages, "MessageID") == truth and report.complete
    assert len(rule.changed) == 2
    assert set(rule.changed).isdisjoint(m["MessageID"] for m in wired.sim.truth.messages(ACCOUNT, since, UNTIL))


# ------------------------------------------------------------------------------------------------
# Snapshots through the real sync path: prune only after a walk proven complete
# ------------------------------------------------------------------------------------------------


def _sync_active_inventory(engine: sa.Engine, now: datetime = NOW) -> dict:
    spec = FAMILIES_BY_NAME["active_inventory"]
    began = partition_sync.begin(engine, spec, ACCOUNT, None, partition_key=ACCOUNT, now=now)
    assert isinstance(began, partition_sync.PartitionSync)
    return began.write(engine).summary


def _stored(engine: sa.Engine) -> dict[str, datetime]:
    """Stored listings: item id -> when the sync that last fetched it ran."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text("select item_id, source_updated_at from ebay_active_inventory")).all()
    return {item_id: at for item_id, at in rows}


def _last_summary(engine: sa.Engine) -> dict:
    with engine.connect() as conn:
        return conn.execute(
            sa.text(
                "select summary_json from ebay_worker_run where status = 'completed' order by finished_at desc limit 1"
            )
        ).scalar_one()


def test_a_snapshot_whose_walk_changed_keeps_its_rows_and_says_so(
    ebay_env: str, sim: EbaySimulator, engine: sa.Engine
) -> None:
    register_account(engine, sim, ACCOUNT)
    earlier = NOW - timedelta(hours=6)
    sim.set_now(earlier)  # listings then show another TimeLeft: the next sync rewrites every row it lands
    first = _sync_active_inventory(engine, earlier)
    sim.set_now(NOW)
    assert "prune_skipped" not in first and len(_stored(engine)) == 450

    rule = sim.churn.add(ChurnRule(endpoint="GetMyeBaySelling", action="end", count=5))
    second = _sync_active_inventory(engine)
    active = {i["ItemID"] for i in sim.truth.active_listings(ACCOUNT)}
    stored = _stored(engine)
    assert rule.changed and len(active) == 450 - len(rule.changed)
    assert {item for item in active if stored.get(item) != NOW} == set(), "every listing still active was landed"
    assert len(stored) == 450, "the walk changed: the rows it did not see are kept, nothing is pruned"
    assert second["deleted"] == {}
    assert "walk not proven complete" in second["prune_skipped"]
    assert _last_summary(engine)["prune_skipped"] == second["prune_skipped"]

    sim.churn.clear()
    third = _sync_active_inventory(engine)
    assert "prune_skipped" not in third
    assert set(_stored(engine)) == active, "a walk proven complete prunes the ended listings, and only them"
    assert third["deleted"] == {"ebay_active_inventory": 450 - len(active)}


def test_churn_rules_are_set_and_cleared_through_the_control_endpoint(sim: EbaySimulator) -> None:
    url = f"{sim.base_url}/__sim__/churn"
    added = requests.post(url, json={"endpoint": "getOrders", "action": "modify", "count": 2}, timeout=5)
    assert added.status_code == 200 and added.json() == {"added": 1, "rules": 1}
    assert sim.churn.rules == [ChurnRule(endpoint="getOrders", action="modify", count=2)]
    refused = requests.post(url, json={"endpoint": "getOrders", "action": "end"}, timeout=5)
    assert refused.status_code == 400 and "modify" in refused.json()["error"]
    assert requests.delete(url, timeout=5).json() == {"rules": 0} and sim.churn.rules == []
