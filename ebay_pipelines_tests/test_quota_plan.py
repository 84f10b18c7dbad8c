"""The fleet planner for 1, 100 and 1,000 accounts against eBay's default daily limits per application
(README Wire facts "Default daily limits", ``develop/api/sell/api_call_limits``: Post-Order 5,000 per
resource, Finances 15,000, Fulfillment orders 100,000, payment disputes 250,000, Developer Analytics
5,000), and its one-account figures against the measured simulated day (``bench/daily_calls.py``)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from click.testing import CliRunner

from ebay_pipelines.cli import main
from ebay_pipelines.settings import Settings
from ebay_pipelines.sync import quota_plan

BENCH = Path(__file__).resolve().parents[1] / "bench" / "results" / "daily_calls.json"
DEFAULTS = Settings()


def _by_call(settings: Settings) -> dict[str, int]:
    total: dict[str, float] = {}
    for calls in quota_plan.account_calls(settings).values():
        for call, n in calls.items():
            total[call] = total.get(call, 0) + n
    return {call: round(n) for call, n in total.items() if round(n)}


def test_the_planner_takes_its_measurements_from_the_benchmark() -> None:
    """The planner's measured figures are the ``after`` scenario of the recorded benchmark, unchanged."""
    after = json.loads(BENCH.read_text())["scenarios"]["after"]["families"]
    assert {f: v["runs"] for f, v in after.items()} == quota_plan.MEASURED_RUNS
    assert {f: v["by_call"] for f, v in after.items()} == quota_plan.MEASURED_CALLS


def test_one_account_matches_the_measured_day_where_the_families_are_unchanged() -> None:
    """At 30 and at 60 minutes (scenarios ``after`` and ``after_60``), the planned calls of one account equal
    the measured ones, except where the family table changed since the measurement: returns gained their
    closed search (two searches a tick), inquiries lost their detail calls, and the payouts family arrived."""
    scenarios = json.loads(BENCH.read_text())["scenarios"]
    for minutes, name in ((30, "after"), (60, "after_60")):
        planned = _by_call(replace(DEFAULTS, open_refresh_minutes=minutes))
        measured = scenarios[name]["by_call"]
        differ = {call for call in planned.keys() | measured.keys() if planned.get(call) != measured.get(call)}
        assert differ == {"searchReturns", "getInquiry", "getPayouts"}, name
        assert planned["searchReturns"] == 2 * measured["searchReturns"]
        assert "getInquiry" not in planned and planned["getPayouts"] == 24


def test_the_fleet_against_ebays_limits() -> None:
    """1 account fits every limit; at 100 the Post-Order case and return quotas are passed at the default
    cadence (not at 60 minutes); at 1,000 Finances and Fulfillment orders are passed too, payment disputes
    and Developer Analytics still fit."""
    for accounts, over_30, over_60 in (
        (1, set(), set()),
        (100, {"postorder.case", "postorder.return"}, set()),
        (
            1000,
            {"postorder.inquiry", "postorder.case", "postorder.return", "sell.finances", "sell.fulfillment.order"},
            {"postorder.inquiry", "postorder.case", "postorder.return", "sell.finances", "sell.fulfillment.order"},
        ),
    ):
        for minutes, over in ((30, over_30), (60, over_60)):
            settings = replace(DEFAULTS, open_refresh_minutes=minutes)
            lines = {line.quota: line for line in quota_plan.plan(accounts, settings)}
            assert {q for q, line in lines.items() if line.over} == over, (accounts, minutes)
            for line in lines.values():
                assert line.calls == accounts * line.per_account + line.fixed
            assert lines["developer.analytics"].calls == 2 * (accounts + 1)
    default = {line.quota: line for line in quota_plan.plan(1, DEFAULTS)}
    # The binding quota at the defaults: Post-Order return, 96 calls an account, 5,000 less 5% reserve.
    assert default["postorder.return"].per_account == 96
    assert min(line.max_accounts for line in default.values() if line.max_accounts is not None) == 4750 // 96


def test_the_command_prints_the_plan() -> None:
    """``ebay-pipelines quota plan --accounts N [--open-refresh-minutes M]``."""
    result = CliRunner().invoke(main, ["quota", "plan", "--accounts", "100", "--open-refresh-minutes", "60"])
    assert result.exit_code == 0, result.output
    assert "100 accounts, open problems every 60 minutes" in result.output
    assert "Post-Order return" in result.output and "4,800" in result.output
    bad = CliRunner().invoke(main, ["quota", "plan", "--accounts", "-3"])
    assert bad.exit_code != 0 and "accounts" in bad.output.lower()
