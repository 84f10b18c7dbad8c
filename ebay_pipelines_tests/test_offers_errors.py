"""getOffers per SKU: a SKU without offers is skipped, a SKU eBay refuses is recorded and keeps its rows.

Inventory API contract (``sell_inventory_v1_oas3.json``, getOffers ``GET /offer?sku=``): 400 with
errorIds 25706 ("You have provided invalid pagination values") and 25709 ("Invalid value for
{fieldName}"), and a bare 404; errorId 25713 is declared on ``/offer/{offerId}`` only (README Wire
facts: getOffers without offers). Every case goes simulator over HTTP -> Dagster -> PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa
from tests_support import fast_definitions, materialization_metadata, register_account, run_family

from ebay_pipelines.simulator import FaultRule

ACCOUNT = "acct-1"


def _offers_by_sku(sim) -> dict[str, set[str]]:
    by_sku: dict[str, set[str]] = {}
    for offer in sim.truth.offers(ACCOUNT):
        by_sku.setdefault(offer["sku"], set()).add(offer["offerId"])
    return by_sku


def _stored(engine: sa.Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(sa.text("select offer_id, sku from ebay_offers")).all())


def _run(sim, ebay_env: str, dagster_instance):
    result = run_family(fast_definitions(ebay_env), dagster_instance, "offers", ACCOUNT)
    assert result.success, result.all_events
    return materialization_metadata(result)["ebay_offers"]


def test_skus_answering_404_bare_or_25713_have_no_offers(ebay_env: str, sim, dagster_instance, engine) -> None:
    """Contract getOffers: a bare 404 for a SKU; 25713 ("This Offer is not available.") read the same."""
    register_account(engine, sim, ACCOUNT, dagster_instance)
    by_sku = _offers_by_sku(sim)
    bare, coded = sorted(by_sku)[:2]
    sim.faults.add(FaultRule(kind="404", endpoint="getOffers", query={"sku": bare}))
    sim.faults.add(FaultRule(kind="404", endpoint="getOffers", error_id=25713, query={"sku": coded}))

    md = _run(sim, ebay_env, dagster_instance)

    want = {o: s for s, offers in by_sku.items() if s not in (bare, coded) for o in offers}
    assert _stored(engine) == want and want
    assert sim.faults.fired[("404", "getOffers")] == 2
    assert "unreadable" not in md and "prune_skipped" not in md


def test_a_sku_answering_400_25709_is_recorded_and_keeps_its_offers(
    ebay_env: str, sim, dagster_instance, engine
) -> None:
    """Contract getOffers: 400 errorId 25709 "Invalid value for {fieldName}" for one SKU: the others
    land, the SKU is named in the run's metadata and summary, and no stored offer is pruned."""
    register_account(engine, sim, ACCOUNT, dagster_instance)
    by_sku = _offers_by_sku(sim)
    _run(sim, ebay_env, dagster_instance)
    everything = _stored(engine)
    assert set(everything) == {o for offers in by_sku.values() for o in offers}

    refused = sorted(by_sku)[3]
    with engine.connect() as conn:  # a stored offer the refused SKU no longer lists would be pruned too
        conn.execute(
            sa.text("insert into ebay_offers (ebay_account_id, offer_id, sku, raw) values (:a, 'gone', :s, '{}')"),
            {"a": ACCOUNT, "s": refused},
        )
        conn.commit()
    sim.faults.add(FaultRule(kind="400", endpoint="getOffers", error_id=25709, query={"sku": refused}))

    md = _run(sim, ebay_env, dagster_instance)

    assert _stored(engine) == {**everything, "gone": refused}
    assert [(u["account"], u["sku"], u["error_ids"], u["status"]) for u in md["unreadable"]] == [
        (ACCOUNT, refused, ["25709"], 400)
    ]
    assert "25709" in md["prune_skipped"] and md["rows_deleted"] == 0
    with engine.connect() as conn:
        summary = conn.execute(
            sa.text("select summary_json from ebay_worker_run where api_family = 'offers' order by started_at desc")
        ).first()
    assert summary is not None and summary[0]["unreadable"][0]["sku"] == refused


def test_a_400_25706_fails_the_snapshot(ebay_env: str, sim, dagster_instance, engine) -> None:
    """Contract getOffers: 400 25706 "You have provided invalid pagination values" is the request's
    own fault, the same for every SKU: the run fails and writes nothing."""
    register_account(engine, sim, ACCOUNT, dagster_instance)
    sim.faults.add(FaultRule(kind="400", endpoint="getOffers", error_id=25706))
    result = run_family(fast_definitions(ebay_env), dagster_instance, "offers", ACCOUNT)
    assert not result.success
    assert _stored(engine) == {}
