"""A seller whose listings were made on the website or through Trading has no Inventory API items: the
offers, inventory and health assets say why, with the count of active listings from GetMyeBaySelling.

eBay's ``bulkMigrateListing`` docs: the Inventory API lists only listings created through it; listings
made on the website or through Trading appear there only after migration (README Wire facts:
Inventory API coverage). Simulator over HTTP -> Dagster materializations -> PostgreSQL -> metadata.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
import sqlalchemy as sa
from conftest import SIM_NOW
from tests_support import fast_definitions, materialization_metadata, register_account, run_family

from ebay_pipelines.simulator import EbaySimulator, SimulatorConfig

ACCOUNT = "acct-1"
LISTINGS = 37


@pytest.fixture
def sim() -> Iterator[EbaySimulator]:
    """A seller with Trading listings only: no Inventory API item (``inventory_skus=0``)."""
    simulator = EbaySimulator(
        SimulatorConfig(seed=11, now=datetime.fromisoformat(SIM_NOW), inventory_skus=0, active_listings=LISTINGS)
    )
    simulator.start()
    yield simulator
    simulator.stop()


def _health(defs, instance) -> dict:
    result = defs.resolve_job_def("ebay_health_job").execute_in_process(
        instance=instance, partition_key=ACCOUNT, raise_on_error=False
    )
    return materialization_metadata(result)["ebay_account_health"]


def test_no_inventory_api_items_beside_active_listings_is_said(
    ebay_env: str, sim: EbaySimulator, dagster_instance, engine: sa.Engine
) -> None:
    """bulkMigrateListing: Trading and website listings are not in the Inventory API until migrated."""
    register_account(engine, sim, ACCOUNT, dagster_instance)
    defs = fast_definitions(ebay_env)
    note = (
        f"0 Inventory API items while {LISTINGS} active listings exist: listings created on the website "
        "or through Trading appear in the Inventory API only after bulkMigrateListing"
    )
    # Before the active listings are known there is nothing to say.
    first = materialization_metadata(run_family(defs, dagster_instance, "inventory", ACCOUNT))
    assert "inventory_api_coverage" not in first["ebay_inventory"]
    assert "inventory_api_coverage" not in _health(defs, dagster_instance)

    assert run_family(defs, dagster_instance, "active_inventory", ACCOUNT).success
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from ebay_active_inventory")).scalar() == LISTINGS

    for family, table in (("inventory", "ebay_inventory"), ("offers", "ebay_offers")):
        result = run_family(defs, dagster_instance, family, ACCOUNT)
        assert result.success, result.all_events
        md = materialization_metadata(result)[table]
        assert md["rows_fetched"] == 0 and md["inventory_api_coverage"] == note
    assert _health(defs, dagster_instance)["inventory_api_coverage"] == note
    with engine.connect() as conn:
        summary = conn.execute(
            sa.text("select summary_json from ebay_worker_run where api_family = 'offers' order by started_at desc")
        ).scalar()
    assert summary["inventory_api_coverage"] == note
