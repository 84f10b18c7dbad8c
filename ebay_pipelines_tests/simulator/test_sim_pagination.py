"""Paging returns every record of a window exactly once, and matches ``truth``."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ebay_pipelines.simulator import EbaySimulator, SimulatorConfig

from .conftest import NOW, Api, iso, xfind, xfindall, xml_root

WINDOW_FROM = NOW - timedelta(days=30)


def _lmd_filter(start, end) -> str:
    return f"lastmodifieddate:[{iso(start)}..{iso(end)}]"


def test_get_orders_pages_match_truth(api: Api, sim) -> None:
    params = {"filter": _lmd_filter(WINDOW_FROM, NOW), "limit": 37}
    seen: list[str] = []
    resp = api.get("/sell/fulfillment/v1/order", params)
    pages = 0
    while True:
        body = resp.json()
        pages += 1
        assert body["limit"] == 37 and body["offset"] == (pages - 1) * 37
        seen += [o["orderId"] for o in body["orders"]]
        more = body["offset"] + body["limit"] < body["total"]
        assert ("next" in body) == more
        assert ("prev" in body) == (body["offset"] > 0)
        if not more:
            break
        assert body["next"].startswith(sim.base_url)
        resp = api.get(body["next"])
    truth = sim.truth.orders("acct-1", WINDOW_FROM, NOW)
    assert len(seen) == len(set(seen)) == body["total"] == len(truth) > 300
    assert seen == [o["orderId"] for o in truth]
    full = api.get_all("/sell/fulfillment/v1/order", {"filter": _lmd_filter(WINDOW_FROM, NOW), "limit": 200}, "orders")
    assert full == truth
    lmds = [o["lastModifiedDate"] for o in truth]
    assert lmds == sorted(lmds)
    assert all(iso(WINDOW_FROM) <= d <= iso(NOW) for d in lmds)


def test_get_orders_next_absent_on_exact_last_page(api: Api) -> None:
    params = {"filter": _lmd_filter(NOW - timedelta(days=2), NOW)}
    total = api.get("/sell/fulfillment/v1/order", {**params, "limit": 1}).json()["total"]
    assert total > 1
    body = api.get("/sell/fulfillment/v1/order", {**params, "limit": total}).json()
    assert "next" not in body and len(body["orders"]) == total
    last = api.get("/sell/fulfillment/v1/order", {**params, "limit": 1, "offset": total - 1}).json()
    assert "next" not in last and "prev" in last
    empty = api.get("/sell/fulfillment/v1/order", {**params, "limit": 10, "offset": total + 5}).json()
    assert empty["orders"] == [] and "next" not in empty


def test_get_orders_limits_and_filters(api: Api) -> None:
    for limit in (201, 0, "x"):
        resp = api.get("/sell/fulfillment/v1/order", {"limit": limit})
        assert resp.status_code == 400
        assert resp.json()["errors"][0]["errorId"] == 31100
    assert api.get("/sell/fulfillment/v1/order", {"offset": -1}).json()["errors"][0]["errorId"] == 31000
    bad = {
        "foo:[2026-10-01T00:00:00.000Z..]": 30700,
        "lastmodifieddate:[yesterday..]": 30810,
        "lastmodifieddate:[..2026-10-01T00:00:00.000Z]": 30820,
        "lastmodifieddate:[2026-10-02T00:00:00.000Z..2026-10-01T00:00:00.000Z]": 30840,
    }
    for expr, error_id in bad.items():
        resp = api.get("/sell/fulfillment/v1/order", {"filter": expr})
        assert resp.status_code == 400 and resp.json()["errors"][0]["errorId"] == error_id, expr
    future = api.get(
        "/sell/fulfillment/v1/order", {"filter": _lmd_filter(NOW - timedelta(days=1), NOW + timedelta(days=5))}
    )
    assert future.status_code == 200
    assert all(o["lastModifiedDate"] <= iso(NOW) for o in future.json()["orders"])
    created = api.get_all(
        "/sell/fulfillment/v1/order",
        {
            "filter": f"creationdate:[{iso(NOW - timedelta(days=3))}..{iso(NOW)}],orderfulfillmentstatus:{{NOT_STARTED|IN_PROGRESS}}",
            "limit": 200,
        },
        "orders",
    )
    assert created and all(o["orderFulfillmentStatus"] in ("NOT_STARTED", "IN_PROGRESS") for o in created)
    ids = [o["orderId"] for o in created[:3]]
    by_id = api.get("/sell/fulfillment/v1/order", {"orderIds": ",".join(ids)}).json()
    assert [o["orderId"] for o in by_id["orders"]] == ids
    too_many = api.get("/sell/fulfillment/v1/order", {"orderIds": ",".join(["1-2-3"] * 51)})
    assert too_many.json()["errors"][0]["errorId"] == 30900


def test_finances_pages_match_truth(api: Api, sim) -> None:
    start, end = NOW - timedelta(days=20), NOW
    base = [("filter", f"transactionDate:[{iso(start)}..{iso(end)}]")]
    collected = api.get_all("/sell/finances/v1/transaction", base + [("limit", 25)], "transactions")
    assert collected == sim.truth.finance_transactions("acct-1", start, end)
    keys = [(t["transactionDate"], t["transactionId"]) for t in collected]
    assert keys == sorted(keys)
    refunds = api.get_all(
        "/sell/finances/v1/transaction",
        base + [("filter", "transactionType:{REFUND}"), ("limit", 1000)],
        "transactions",
    )
    assert refunds and {t["transactionType"] for t in refunds} == {"REFUND"}
    assert refunds == sim.truth.finance_transactions("acct-1", start, end, transaction_type="REFUND")
    assert api.get("/sell/finances/v1/transaction", {"limit": 1001}).json()["errors"][0]["errorId"] == 135003
    assert (
        api.get("/sell/finances/v1/transaction", {"filter": "transactionType:{BOGUS}"}).json()["errors"][0]["errorId"]
        == 135006
    )
    ancient = api.get(
        "/sell/finances/v1/transaction",
        {"filter": "transactionDate:[2020-01-01T00:00:00.000Z..2020-01-02T00:00:00.000Z]"},
    )
    assert ancient.status_code == 204 and ancient.content == b""


def test_disputes_and_inventory_pages(api: Api, sim) -> None:
    params = {"open_date_from": iso(NOW - timedelta(days=89)), "open_date_to": iso(NOW), "limit": 3}
    summaries = api.get_all("/sell/fulfillment/v1/payment_dispute_summary", params, "paymentDisputeSummaries")
    truth = sim.truth.dispute_summaries("acct-1", NOW - timedelta(days=89), NOW)
    assert summaries == truth and len(truth) > 3
    assert api.get("/sell/fulfillment/v1/payment_dispute_summary", {"limit": 201}).status_code == 400
    items = api.get_all("/sell/inventory/v1/inventory_item", {"limit": 7}, "inventoryItems")
    assert items == sim.truth.inventory_items("acct-1")
    assert len({i["sku"] for i in items}) == 40
    assert api.get("/sell/inventory/v1/inventory_item", {"limit": 201}).json()["errors"][0]["errorId"] == 25706
    offers = []
    for item in items:
        offers += api.get_all("/sell/inventory/v1/offer", {"sku": item["sku"], "limit": 1}, "offers")
    assert offers == sim.truth.offers("acct-1")
    assert api.get("/sell/inventory/v1/offer").json()["errors"][0]["errorId"] == 25709


#: Path, window prefix, id field, truth, extra parameters (closed returns: ReturnCountFilterEnum CLOSED).
POSTORDER_SEARCHES = [
    ("/post-order/v2/inquiry/search", "inquiry_creation_date_range", "inquiryId", "inquiries", {}),
    ("/post-order/v2/casemanagement/search", "case_creation_date_range", "caseId", "cases", {}),
    ("/post-order/v2/return/search", "creation_date_range", "returnId", "returns", {"return_state": "CLOSED"}),
]


@pytest.mark.parametrize("reading", ["entries", "pages"])
def test_postorder_pages_match_truth_under_either_offset_reading(reading: str) -> None:
    """eBay's PaginationOutput type page (developer.ebay.com/devzone/post-order/types/PaginationOutput.html)
    says ``offset`` is the number of entries skipped, default 0; clients report a 1-based page number
    (README Wire facts: "Post-Order offset"). The simulator plays the reading it is configured with;
    without ``offset`` both answer the first page."""
    start, end = NOW - timedelta(days=100), NOW
    with EbaySimulator(SimulatorConfig(seed=7, now=NOW, postorder_offset=reading)) as sim:
        api = Api(sim)
        for path, prefix, id_key, records, extra in POSTORDER_SEARCHES:
            window = {f"{prefix}_from": iso(start), f"{prefix}_to": iso(end), "limit": 4, **extra}
            # the whole set in one page (no offset) is what the pages must add up to
            expected = api.get(path, {**window, "limit": 200}, scheme="IAF").json()["members"]
            assert len(expected) > 8
            if not extra:
                assert expected == getattr(sim.truth, records)("acct-1", start, end)
            first = api.get(path, window, scheme="IAF").json()
            assert first["members"] == expected[:4]
            assert first["paginationOutput"]["offset"] == (1 if reading == "pages" else 0)
            collected, page = list(first["members"]), 2
            while page <= first["paginationOutput"]["totalPages"]:
                offset = page if reading == "pages" else (page - 1) * 4
                body = api.get(path, {**window, "offset": offset}, scheme="IAF").json()
                out = body["paginationOutput"]
                assert out["offset"] == offset and out["limit"] == 4
                collected += body["members"]
                page += 1
            assert collected == expected
            assert out["totalEntries"] == len(expected) and out["totalPages"] == -(-len(expected) // 4)
            assert len({m[id_key] for m in collected}) == len(collected)
            # offset=1: the first page again as a page number, the set from its second record as entries skipped
            one = api.get(path, {**window, "offset": 1}, scheme="IAF").json()["members"]
            assert one == (expected[:4] if reading == "pages" else expected[1:5])
            beyond = offset + (1 if reading == "pages" else 4)
            assert api.get(path, {**window, "offset": beyond}, scheme="IAF").json()["members"] == []
            refused = api.get(path, {**window, "offset": -1}, scheme="IAF")
            assert refused.status_code == 400 and refused.json()["errorMessage"]["error"][0]["errorId"] == 1104


def test_simulator_refuses_an_unknown_offset_reading() -> None:
    with pytest.raises(ValueError, match="postorder_offset must be one of entries, pages"):
        SimulatorConfig(postorder_offset="cursor")


def test_trading_pages_match_truth(api: Api, sim) -> None:
    item_ids, page = [], 1
    while True:
        root = xml_root(
            api.trading(
                "GetMyeBaySelling",
                "<ActiveList><Include>true</Include><Pagination>"
                f"<EntriesPerPage>7</EntriesPerPage><PageNumber>{page}</PageNumber></Pagination></ActiveList>",
            )
        )
        item_ids += [e.text for e in xfindall(root, "ActiveList/ItemArray/Item/ItemID")]
        pages = int(xfind(root, "ActiveList/PaginationResult/TotalNumberOfPages").text)
        assert int(xfind(root, "ActiveList/PaginationResult/TotalNumberOfEntries").text) == 40
        if page >= pages:
            break
        page += 1
    assert pages == 6
    assert item_ids == [d["ItemID"] for d in sim.truth.active_listings("acct-1")]

    start, end = NOW - timedelta(days=20), NOW
    message_ids, page = [], 1
    while True:
        root = xml_root(
            api.trading(
                "GetMyMessages",
                f"<DetailLevel>ReturnHeaders</DetailLevel><StartTime>{iso(start)}"
                f"</StartTime><EndTime>{iso(end)}</EndTime><Pagination><EntriesPerPage>9"
                f"</EntriesPerPage><PageNumber>{page}</PageNumber></Pagination>",
            )
        )
        batch = [e.text for e in xfindall(root, "Messages/Message/MessageID")]
        message_ids += batch
        if len(batch) < 9:
            break
        page += 1
    truth = sim.truth.messages("acct-1", start, end)
    assert message_ids == [m["MessageID"] for m in truth] and len(truth) > 20
    ids = "".join(f"<MessageID>{i}</MessageID>" for i in message_ids[:10])
    root = xml_root(
        api.trading("GetMyMessages", f"<DetailLevel>ReturnMessages</DetailLevel><MessageIDs>{ids}</MessageIDs>")
    )
    texts = {xfind(m, "MessageID").text: xfind(m, "Text").text for m in xfindall(root, "Messages/Message")}
    assert texts == {m["MessageID"]: m["Text"] for m in truth[:10]}

    purchases, page = [], 1
    while True:
        root = xml_root(
            api.trading(
                "GetMyeBayBuying",
                "<WonList><Include>true</Include><DurationInDays>60</DurationInDays>"
                f"<Pagination><EntriesPerPage>4</EntriesPerPage><PageNumber>{page}</PageNumber>"
                "</Pagination></WonList>",
            )
        )
        purchases += [
            e.text for e in xfindall(root, "WonList/OrderTransactionArray/OrderTransaction/Transaction/OrderLineItemID")
        ]
        if page >= int(xfind(root, "WonList/PaginationResult/TotalNumberOfPages").text):
            break
        page += 1
    assert purchases == [p["OrderLineItemID"] for p in sim.truth.purchases("acct-1")] and purchases


def test_concurrent_clients_are_served_and_counted(sim) -> None:
    from concurrent.futures import ThreadPoolExecutor

    sim.reset_calls()
    clients = [Api(sim, f"acct-{i % 3}") for i in range(8)]
    expected = sim.truth.orders("acct-0", WINDOW_FROM, NOW)

    def work(client: Api) -> list[int]:
        statuses = []
        for _ in range(5):
            resp = client.get("/sell/fulfillment/v1/order", {"filter": _lmd_filter(WINDOW_FROM, NOW), "limit": 50})
            statuses.append(resp.status_code)
            if client.account == "acct-0":
                assert resp.json()["orders"] == expected[:50]
        return statuses

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, clients))
    assert all(s == [200] * 5 for s in results)
    counted = sim.calls
    assert sum(n for (acct, ep), n in counted.items() if ep == "getOrders") == 40
    assert counted[("acct-0", "getOrders")] == 15 and counted[("acct-0", "token")] == 3
