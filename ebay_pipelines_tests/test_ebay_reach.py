"""Windows older than eBay keeps are not asked for: skipped with the reason, clipped where they straddle.

eBay's sources: Post-Order searches accept a creation-date start at most 18 months back (the
Search Inquiries / Search Cases pages: "cannot be set back more than 18 months in the past"), as
does getPaymentDisputeSummaries' ``open_date_from`` (the Fulfillment contract: "can be set as far
back as 18 months from the present time"), and both answer 400 otherwise (README Wire facts:
"18 months"); Finances ``transactionDate`` reaches five years back (the Finances contract's filter
text). The simulator enforces the 18 months; the syncs below go through the real fetch and write
path (Dagster where the skip shows in a run, ``partition_sync`` where the simulated clock matters).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from tests_support import fast_definitions, materialization_metadata, register_account, run_family

from ebay_pipelines.ebay import postorder
from ebay_pipelines.simulator import EbaySimulator, SimulatorConfig
from ebay_pipelines.sync import partition_sync
from ebay_pipelines.sync.families import FAMILIES_BY_NAME

ACCOUNT = "acct-1"
NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
#: Older than 18 months before the simulated now and before the wall clock: out of Post-Order's reach.
OLD_DAY = date(2025, 3, 1)


@pytest.fixture
def sim() -> Iterator[EbaySimulator]:
    """A simulated eBay with 20 months of history, so records exist on both sides of the 18 months."""
    with EbaySimulator(SimulatorConfig(seed=11, now=NOW, history_days=610, orders_per_day=8)) as simulator:
        yield simulator


@pytest.fixture
def setup(ebay_env: str, sim: EbaySimulator, dagster_instance, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("EBAY_PIPELINES_START_DATE", "2025-01-01")
    register_account(engine, sim, ACCOUNT, dagster_instance)
    sim.reset_calls()
    return fast_definitions(ebay_env), dagster_instance


def _runs(engine: sa.Engine) -> list[sa.Row]:
    with engine.connect() as conn:
        return conn.execute(
            sa.text("select api_family, status, summary_json, partition_key from ebay_worker_run order by started_at")
        ).all()


def _state(engine: sa.Engine, family: str) -> sa.Row:
    with engine.connect() as conn:
        return conn.execute(
            sa.text("select cursor_value, last_error from ebay_sync_state where api_family = :f"), {"f": family}
        ).one()


def test_a_partition_older_than_ebay_keeps_is_skipped_with_the_reason_and_no_call(
    setup, sim: EbaySimulator, engine: sa.Engine
) -> None:
    defs, instance = setup
    for family, reason in [
        ("inquiries", "eBay keeps 18 months of inquiries"),
        ("cases", "eBay keeps 18 months of cases"),
        ("disputes", "eBay keeps 18 months of payment disputes"),
    ]:
        for _ in range(2):  # re-running an old partition never fails
            result = run_family(defs, instance, family, ACCOUNT, OLD_DAY)
            assert result.success and materialization_metadata(result) == {}
        runs = [r for r in _runs(engine) if r.api_family == family]
        assert [r.status for r in runs] == ["skipped", "skipped"]
        assert {r.summary_json["skipped"] for r in runs} == {reason}
        assert all(r.partition_key.endswith(OLD_DAY.isoformat()) for r in runs)
        state = _state(engine, family)
        assert state.cursor_value is None and state.last_error is None, "skipped, not failed"
    assert sum(sim.calls.values()) == 0, "not even a token grant"


def test_a_family_with_one_source_in_reach_syncs_it_and_says_what_it_left_out(
    setup, sim: EbaySimulator, engine: sa.Engine
) -> None:
    """refunds: finance REFUND transactions reach five years, returns 18 months."""
    defs, instance = setup
    result = run_family(defs, instance, "refunds", ACCOUNT, OLD_DAY)
    assert result.success
    (run,) = [r for r in _runs(engine) if r.api_family == "refunds"]
    assert run.status == "completed"
    assert run.summary_json["left_out"] == ["searchReturns: not searched: eBay keeps 18 months of returns"]
    assert materialization_metadata(result)["ebay_refunds"]["left_out"] == (
        "searchReturns: not searched: eBay keeps 18 months of returns"
    )
    calls = {name for (_, name), n in sim.calls.items() if n}
    assert "getTransactions" in calls and "searchReturns" not in calls


def _sync(
    engine: sa.Engine, family: str, first: date, last: date
) -> partition_sync.PartitionSync | partition_sync.Skipped:
    return partition_sync.begin(
        engine,
        FAMILIES_BY_NAME[family],
        ACCOUNT,
        first,
        last_day=last,
        partition_key=f"{ACCOUNT}|{first.isoformat()}..{last.isoformat()}",
        now=NOW,
    )


def test_a_window_straddling_the_limit_is_clipped_and_lands_what_ebay_keeps(
    ebay_env: str, sim: EbaySimulator, engine: sa.Engine
) -> None:
    register_account(engine, sim, ACCOUNT)
    first, last = date(2025, 4, 1), date(2025, 6, 15)
    began = _sync(engine, "inquiries", first, last)
    assert isinstance(began, partition_sync.PartitionSync)
    assert began.window is not None
    oldest = postorder.INQUIRIES.window.oldest_start.oldest(NOW)  # type: ignore[union-attr]
    assert began.window.start < oldest < began.window.end
    assert sim.truth.inquiries(ACCOUNT, began.window.start, oldest - timedelta(milliseconds=1)), "some out of reach"
    kept = {i["inquiryId"] for i in sim.truth.inquiries(ACCOUNT, oldest, began.window.end - timedelta(milliseconds=1))}
    assert len(kept) > 5
    result = began.write(engine)
    with engine.connect() as conn:
        stored = {row[0] for row in conn.execute(sa.text("select inquiry_id from ebay_inquiries"))}
    assert stored == kept
    assert result.summary["left_out"] == [
        f"searchInquiries: searched from {oldest.strftime('%Y-%m-%dT%H:%M:%S.000Z')} instead of "
        f"{began.window.start.strftime('%Y-%m-%dT%H:%M:%S.000Z')}: eBay keeps 18 months of inquiries"
    ]
    assert sim.calls[(ACCOUNT, "searchInquiries")] > 0

    # The same range wholly before the reach: skipped, without a call.
    sim.reset_calls()
    skipped = _sync(engine, "inquiries", date(2025, 1, 1), date(2025, 3, 31))
    assert isinstance(skipped, partition_sync.Skipped) and skipped.reason == "eBay keeps 18 months of inquiries"
    assert sum(sim.calls.values()) == 0


def test_the_dagster_run_of_an_old_partition_is_a_success_without_materialization(setup, sim, engine) -> None:
    """The Dagster step logs the skip and yields nothing: the run succeeds and nothing materializes."""
    defs, instance = setup
    result = run_family(defs, instance, "inquiries", ACCOUNT, OLD_DAY)
    assert result.success and materialization_metadata(result) == {}
    records = instance.get_records_for_run(result.run_id).records
    assert any("eBay keeps 18 months of inquiries" in (r.event_log_entry.user_message or "") for r in records)
