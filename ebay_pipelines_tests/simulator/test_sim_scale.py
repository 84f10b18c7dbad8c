"""Volumes scale: ~100,000 orders over 30 days and 200,000 SKUs/listings, served page by page."""

from __future__ import annotations

import time
from datetime import timedelta

from ebay_pipelines.simulator import EbaySimulator, SimulatorConfig

from .conftest import NOW, Api, iso, xfind, xfindall, xml_root


def test_large_volumes_page_quickly() -> None:
    cfg = SimulatorConfig(
        seed=3, now=NOW, orders_per_day=3400, inventory_skus=200_000, active_listings=200_000, history_days=30
    )
    with EbaySimulator(cfg) as sim:
        gen = sim.services.world.gen
        total = sum(gen.order_count("acct-1", d) for d in range(gen.hist_day, gen.hist_day + 31))
        assert 95_000 <= total <= 115_000
        api = Api(sim)
        params = {
            "filter": f"lastmodifieddate:[{iso(NOW - timedelta(days=3))}..{iso(NOW - timedelta(days=2))}]",
            "limit": 200,
        }
        first = api.get("/sell/fulfillment/v1/order", params).json()
        assert first["total"] > 2500 and len(first["orders"]) == 200
        timings = []
        for page in range(1, 6):
            started = time.perf_counter()
            resp = api.get("/sell/fulfillment/v1/order", {**params, "offset": page * 200})
            timings.append(time.perf_counter() - started)
            assert resp.status_code == 200 and len(resp.json()["orders"]) == 200
        assert sorted(timings)[2] < 0.25, timings  # median page, client decode included; ~30 ms server-side

        inv = api.get("/sell/inventory/v1/inventory_item", {"limit": 200, "offset": 199_900}).json()
        assert inv["total"] == 200_000 and len(inv["inventoryItems"]) == 100 and "next" not in inv
        assert inv["inventoryItems"][-1]["sku"].endswith("-199999")
        root = xml_root(
            api.trading(
                "GetMyeBaySelling",
                "<ActiveList><Include>true</Include><Pagination>"
                "<EntriesPerPage>200</EntriesPerPage><PageNumber>1000</PageNumber></Pagination></ActiveList>",
            )
        )
        assert xfind(root, "ActiveList/PaginationResult/TotalNumberOfPages").text == "1000"
        assert len(xfindall(root, "ActiveList/ItemArray/Item")) == 200
