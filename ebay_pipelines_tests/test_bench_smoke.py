"""A tiny run of every benchmark, so ``python -m bench`` never rots (figures are not checked, behaviour is)."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

import orjson
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import __main__ as bench_main  # noqa: E402
from bench import api_calls, dagster_overhead, daily_calls, ingestion, memory, report, resync  # noqa: E402
from ebay_pipelines.sync.families import family as family_spec  # noqa: E402


@pytest.fixture
def bench_server(monkeypatch: pytest.MonkeyPatch, pg_server_url: str) -> str:
    """Benchmarks create their databases on the test session's PostgreSQL server."""
    monkeypatch.setenv("EBAY_PIPELINES_TEST_DATABASE_URL", pg_server_url)
    return pg_server_url


def test_ingestion_lands_the_simulators_orders_for_every_contender(bench_server: str, tmp_path: Path) -> None:
    result = ingestion.run(
        40, days=2, contenders=("limit_fetch", "limit_copy", "ours_sync_layer", "ours_dagster_in_process", "dlt")
    )
    figures = result["results"]
    assert set(figures) == {"limit_fetch", "limit_copy", "ours_sync_layer", "ours_dagster_in_process", "dlt"}
    expected = result["size"]["expected_rows"]
    assert expected["ebay_orders"] > 0 and expected["order_line_items"] >= expected["ebay_orders"]
    for name in ("ours_sync_layer", "ours_dagster_in_process"):
        assert figures[name]["tables"] == expected, name
        assert figures[name]["matches_truth"] and figures[name]["vs_dlt"] > 0 and figures[name]["vs_limit"] > 0
    assert figures["dlt"]["tables"] == {
        "orders": expected["ebay_orders"],
        "orders__line_items": expected["order_line_items"],
    }
    assert figures["limit_copy"]["rows"] == result["size"]["expected_total"]
    assert figures["limit_fetch"]["rows"] == result["size"]["expected_total"]  # one window: no overlap fetched twice
    assert result["limit_rows_per_s"] == min(figures["limit_fetch"]["rows_per_s"], figures["limit_copy"]["rows_per_s"])
    path = report.write("ingestion", result, tmp_path)
    saved = json.loads(path.read_text())
    assert {"results", "limit_rows_per_s", "targets", "machine", "size"} <= set(saved)
    assert saved["machine"]["cores"] >= 1
    assert "ours_sync_layer" in ingestion.render(result)


def test_ingestion_against_the_fast_server_lands_the_simulators_orders(bench_server: str) -> None:
    contenders = ("limit_fetch", "limit_copy", "ours_cli", "ours_sync_layer", "dlt")
    result = ingestion.run(60, days=2, contenders=contenders, server="fast")
    figures = result["results"]
    assert result["server"] == "fast" and set(figures) == set(contenders)
    expected = result["size"]["expected_rows"]
    assert expected["ebay_orders"] > 0 and expected["order_line_items"] >= expected["ebay_orders"]
    for name in ("ours_cli", "ours_sync_layer"):
        assert figures[name]["tables"] == expected, name
        assert figures[name]["matches_truth"] and figures[name]["vs_dlt"] > 0 and figures[name]["vs_limit"] > 0
    assert figures["dlt"]["matches_truth"]
    assert figures["limit_fetch"]["rows"] == figures["limit_copy"]["rows"] == result["size"]["expected_total"]


def test_the_fast_server_answers_what_the_simulator_answers_byte_for_byte() -> None:
    """The pre-rendered pages are the simulator's: the same request gets the same bytes (links and token aside)."""
    import requests

    from bench import env, fastserver

    now = env.pinned_now()
    since, until = now - timedelta(days=3), now - timedelta(days=1)
    world = {"now": now, "orders_per_day": 160, "history_days": 4, "messages_per_day": 0}
    servers = [fastserver.start([env.ACCOUNT], since, until, **world), env.start_simulator(**world)]
    try:
        answers = []
        for server in servers:
            session = requests.Session()
            grant = session.post(
                f"{server.base_url}{fastserver.TOKEN_PATH}",
                data={"grant_type": "refresh_token", "refresh_token": server.refresh_token(env.ACCOUNT)},
                auth=(env.CLIENT_ID, env.CLIENT_SECRET),
                timeout=30,
            )
            token = grant.json()["access_token"]
            pages = []
            for offset in (0, 200):
                page = session.get(
                    f"{server.base_url}{fastserver.ORDERS_PATH}",
                    params={"offset": offset, "limit": 200, "filter": fastserver.orders_filter(since, until)},
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=30,
                )
                assert page.status_code == 200
                pages.append(page.content.replace(server.base_url.encode(), b"BASE"))
            answers.append((grant.content.replace(token.encode(), b"TOKEN"), pages))  # tokens are random
        assert answers[0] == answers[1]
        assert b'"next":"BASE' in answers[0][1][0] and len(orjson.loads(answers[0][1][1])["orders"]) > 0
        assert fastserver.misses(servers[0]) == []
        asked = requests.get(f"{servers[0].base_url}{fastserver.ORDERS_PATH}?offset=400&limit=200", timeout=30)
        assert asked.status_code == 401  # no token: the simulator's own 401
        elsewhere = requests.get(f"{servers[0].base_url}/sell/finances/v1/transaction", timeout=30)
        assert elsewhere.status_code == 404 and fastserver.misses(servers[0]) == ["GET /sell/finances/v1/transaction"]
    finally:
        for server in servers:
            server.stop()


def test_api_calls_meet_the_minimum_and_unchanged_refreshes_cost_one_call(bench_server: str) -> None:
    result = api_calls.run(4, days=3)
    families = result["families"]
    for name, figures in families.items():
        assert figures["spent"] >= figures["min_per_window"] >= figures["min_global"] >= 1, name
    # Three days of every window family in one range run each: one window, the global minimum.
    assert result["size"]["runs"] == len(families)
    assert result["total"]["spent"] <= 1.1 * result["total"]["min_global"]
    refresh = result["refresh"]["calls_by_family"]
    # One search call per window family (refunds reads its REFUND transactions from the finances table),
    # except the two return searches of refunds: open returns, then closed ones (CountSummaryType).
    assert refresh == {name: 2 if name == "refunds" else 1 for name in refresh}
    assert result["token_calls"] == 1
    assert "unchanged refresh" in api_calls.render(result)


def test_dagster_overhead_and_fleet_figures(bench_server: str) -> None:
    result = dagster_overhead.run(runs=1, queued_runs=0, accounts=5)
    assert result["in_process"]["sync_layer_s"] > 0 and result["in_process"]["dagster_in_process_s"] > 0
    fleet = result["fleet"]
    # One run per family and chunk of accounts (EBAY_PIPELINES_ACCOUNTS_PER_RUN, 50): six accounts, one run.
    assert fleet["accounts"] == 6 and fleet["schedule_run_requests"] == 1
    assert fleet["sensor_first_s"] > 0 and fleet["schedule_tick_s"] > 0
    assert "schedule tick" in dagster_overhead.render(result)


def test_memory_child_reports_its_own_peak(bench_server: str) -> None:
    result = memory.run(listings=50, skus=5)
    for family, figures in result["results"].items():
        assert figures["success"] and figures["rows"] == figures["expected_rows"] > 0, family
        assert figures["peak_rss_mb"] >= figures["rss_before_run_mb"] > 0
    assert "peak RSS" in memory.render(result)


def test_resync_writes_only_the_changed_orders(bench_server: str) -> None:
    result = resync.run(orders=120, fraction=0.1, days=2)
    assert result["changed_orders"] > 0
    # Changed orders, plus the line items of an order the change moved into the window (time of day decides).
    assert result["resync"]["written"] == result["changed_orders"] + result["new_line_items"]
    assert result["changed_orders"] == result["changed_orders_stored"] and result["resync"]["unchanged"] > 0
    assert result["targets"]["resync_writes_only_changed_rows"]


def test_daily_calls_books_every_call_to_a_family_and_the_fleet_follows(bench_server: str) -> None:
    # Two simulated hours to 00:01, so the day's first tick is included; inquiries often enough to stay open.
    result = daily_calls.run(20, messages_per_day=4, hours=2, backfill_days=10, profile={"inquiry_rate": 0.2})
    scenarios = result["scenarios"]
    assert list(scenarios) == ["before", "after", "after_60"]
    for name, figures in scenarios.items():
        assert figures["initial_sync"]["failed"] == 0 and not figures["failed_runs"], name
        assert figures["unattributed"] == {}, name  # every call eBay saw was made by a run
        for fam, f in figures["families"].items():
            assert set(f["by_call"]) <= set(family_spec(fam).ebay_calls), (name, fam)
            assert f["calls"] == sum(f["by_call"].values()) and f["runs"] == sum(f["reasons"].values())
        assert figures["total"] == sum(f["calls"] for f in figures["families"].values()) > 0
    before, after, at_60 = (scenarios[n]["families"]["inquiries"] for n in ("before", "after", "after_60"))
    # The definitions were built from each scenario's family table and knob.
    assert (before["cron"], after["cron"], at_60["cron"]) == ("0 * * * *", "*/30 * * * *", "0 * * * *")
    assert before["reasons"] == {"schedule": 1, "late-change refresh": 1}
    assert after["runs"] == 4 and after["reasons"]["daily refresh"] == 1
    assert at_60["runs"] == 2 and at_60["reasons"]["daily refresh"] == 1
    # Open inquiries at the start: every tick re-reads them, so more ticks spend more calls.
    assert scenarios["after"]["initial_sync"]["open_records"]["inquiries"] > 0
    assert after["calls"] > at_60["calls"] >= before["calls"] > 0
    for limit in result["fleet"]["limits"]:
        for name, figures in scenarios.items():
            calls = sum(figures["by_call"].get(c, 0) for c in limit["calls"])
            assert limit[name]["calls"] == calls, (limit["limit"], name)
            assert limit[name]["max_accounts"] == (limit["daily_limit"] // calls if calls else None)
    inquiry = next(limit for limit in result["fleet"]["limits"] if limit["limit"] == "Post-Order inquiry")
    assert inquiry["after"]["calls"] == after["calls"]
    for name, binding in result["fleet"]["binding"].items():
        assert binding["max_accounts"] == min(
            limit[name]["max_accounts"] for limit in result["fleet"]["limits"] if limit[name]["max_accounts"]
        )
    assert "fleet" in daily_calls.render(result)


def test_command_line_rejects_unknown_benchmarks() -> None:
    with pytest.raises(SystemExit, match="unknown benchmark"):
        bench_main.main(["nope"])
