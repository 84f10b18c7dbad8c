"""eBay's daily quotas end to end: the quota asset stores what eBay reports, runs count their calls, a
family whose quota is spent waits for eBay's reset, and a spent quota never draws a storm of 429s.

eBay's sources: README Wire facts "Default daily limits" (``develop/api/sell/api_call_limits``:
Post-Order 5,000 calls per resource and application a day, reset at midnight Pacific time);
README "Rate limits" (REST: HTTP 429 with an ``errors[]`` body; quotas reset daily, Pacific time);
the Developer Analytics pages ``developer/analytics/resources/rate_limit/methods/getRateLimits``
(application token, client-credentials grant) and ``.../user_rate_limit/methods/getUserRateLimits``
(user token), type ``types/api:Rate`` (count, limit, remaining, reset, timeWindow).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from tests_support import fast_definitions, register_account

from ebay_pipelines.ebay.quotas import PACIFIC, ebay_day, next_reset
from ebay_pipelines.ebay.retry import RetryPolicy
from ebay_pipelines.simulator import EbaySimulator, SimulatorConfig
from ebay_pipelines.simulator.util import to_ms
from ebay_pipelines.sync import partition_sync, quota_guard
from ebay_pipelines.sync.families import FAMILIES_BY_NAME

ONE, TWO = "acct-1", "acct-2"
#: 04:00 Pacific (PST) on 2026-11-01: eBay's next reset is 2026-11-02 00:00 PST = 08:00 UTC.
NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
AFTER_RESET = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
FAST = RetryPolicy(max_attempts=3, initial_delay=0.01, max_delay=0.02, jitter=0.0, max_retry_after=0.05, timeout=5.0)
INQUIRIES = FAMILIES_BY_NAME["inquiries"]


def _sim(**quota: object) -> EbaySimulator:
    return EbaySimulator(SimulatorConfig(seed=11, now=NOW, **quota))  # type: ignore[arg-type]


@pytest.fixture
def sim() -> Iterator[EbaySimulator]:
    """Post-Order inquiry limited to 12 calls a day for the application, and to 9 per user."""
    with _sim(quota_limits={"postorder.inquiry": 12}, user_quota_limits={"postorder.inquiry": 9}) as simulator:
        yield simulator


def _sync(engine: sa.Engine, account: str, now: datetime) -> partition_sync.PartitionSync | partition_sync.Skipped:
    began = partition_sync.begin(
        engine,
        INQUIRIES,
        account,
        now.date(),
        partition_key=f"{account}|{now.date().isoformat()}",
        now=now,
        clients_factory=lambda: partition_sync.build_clients(engine, account, retry=FAST),
    )
    if isinstance(began, partition_sync.PartitionSync):
        began.write(engine)
    return began


def _served(sim: EbaySimulator, account: str | None = None) -> int:
    """Post-Order inquiry calls the simulated eBay served (429s apart)."""
    return sum(n for (a, call), n in sim.calls.items() if call == "searchInquiries" and account in (None, a)) - sum(
        n for (a, call), n in sim.quotas.refused.items() if call == "searchInquiries" and account in (None, a)
    )


def test_the_quota_asset_stores_what_ebay_reports_and_runs_count_their_calls(
    ebay_env: str, sim: EbaySimulator, engine: sa.Engine, dagster_instance
) -> None:
    """The stored figures of the application (getRateLimits) and of each account (getUserRateLimits) equal the
    simulated eBay's; the project's own daily counts equal the calls eBay served."""
    register_account(engine, sim, ONE)
    register_account(engine, sim, TWO)
    assert isinstance(_sync(engine, ONE, NOW), partition_sync.PartitionSync)
    result = (
        fast_definitions(ebay_env)
        .resolve_job_def("ebay_api_quota_job")
        .execute_in_process(instance=dagster_instance, raise_on_error=False)
    )
    assert result.success
    now_ms = to_ms(sim.now)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select scope, ebay_account_id, api_name, resource, quota, call_limit, remaining, call_count, "
                "reset_at, time_window_seconds from ebay_api_quota"
            )
        ).all()
        daily = conn.execute(
            sa.text("select ebay_account_id, family, call_name, quota, calls, ebay_day from ebay_api_calls_daily")
        ).all()

    def reported(account: str | None) -> dict[tuple[str, str], tuple]:
        body = sim.quotas.report(now_ms, account, None, None)
        return {
            (api["apiName"], res["name"]): (
                rate["limit"],
                rate["remaining"],
                rate["count"],
                datetime.fromisoformat(rate["reset"].replace("Z", "+00:00")),
                rate["timeWindow"],
            )
            for api in body["rateLimits"]
            for res in api["resources"]
            for rate in res["rates"]
        }

    def stored(scope: str, account: str) -> dict[tuple[str, str], tuple]:
        return {
            (r.api_name, r.resource): (r.call_limit, r.remaining, r.call_count, r.reset_at, r.time_window_seconds)
            for r in rows
            if r.scope == scope and r.ebay_account_id == account
        }

    app, eba = stored("app", ""), reported(None)
    analytics = ("analytics", "developer.analytics")
    # The two getUserRateLimits calls came after getRateLimits answered: eBay's figure has moved on by two.
    assert eba.pop(analytics)[1] == app.pop(analytics)[1] - 2
    assert app == eba
    assert app[("postorder", "postorder.inquiry")][:3] == (12, 12 - _served(sim), _served(sim))
    assert app[("postorder", "postorder.inquiry")][3] == next_reset(NOW)
    assert stored("account", ONE) == reported(ONE) and stored("account", TWO) == reported(TWO)
    assert stored("account", ONE)[("postorder", "postorder.inquiry")][1] == 9 - _served(sim, ONE)
    assert {r.quota for r in rows if r.resource == "postorder.inquiry"} == {"postorder.inquiry"}
    # The project's own counts: the inquiries run and the quota reading, as eBay served them.
    searches = [d for d in daily if d.call_name == "searchInquiries"]
    assert [(d.ebay_account_id, d.family, d.quota, d.calls) for d in searches] == [
        (ONE, "inquiries", "postorder.inquiry", _served(sim, ONE))
    ]
    assert searches[0].ebay_day == ebay_day(NOW) == datetime(2026, 11, 1, 4, tzinfo=PACIFIC).date()
    analytics_calls = Counter({(d.ebay_account_id, d.call_name): d.calls for d in daily if d.family == "quotas"})
    assert analytics_calls[("", "getRateLimits")] == sim.calls[(None, "getRateLimits")] == 1
    assert analytics_calls[(ONE, "getUserRateLimits")] == sim.calls[(ONE, "getUserRateLimits")] == 1


def test_a_family_whose_quota_is_spent_waits_for_ebays_reset(
    ebay_env: str, sim: EbaySimulator, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With eBay's figure read once, the project subtracts its own calls: below the reserve the family is skipped
    with the reason and the reset time, before eBay refuses anything; after midnight Pacific it syncs again."""
    monkeypatch.setenv("EBAY_PIPELINES_QUOTA_RESERVE", "0.25")
    register_account(engine, sim, ONE)
    quota_guard.fetch_quotas(engine, now=NOW)
    outcomes = [_sync(engine, ONE, NOW) for _ in range(12)]
    synced = [o for o in outcomes if isinstance(o, partition_sync.PartitionSync)]
    skipped = [o for o in outcomes if isinstance(o, partition_sync.Skipped)]
    assert synced and skipped and outcomes[: len(synced)] == synced, "syncs first, then skips"
    # 25% kept in reserve: the user's 9 stop the runs at 2 left (below 2.25), before the application's 12 (at 3).
    assert _served(sim, ONE) == 7
    assert not sim.quotas.refused, "no 429: the runs stopped before eBay refused"
    reason = skipped[0].reason
    assert "Post-Order inquiry quota is spent: 2 of 9 calls left of account acct-1's quota" in reason
    assert next_reset(NOW).isoformat() in reason and "midnight Pacific" in reason
    with engine.connect() as conn:
        runs = conn.execute(
            sa.text(
                "select status, summary_json from ebay_worker_run where api_family = 'inquiries' order by started_at"
            )
        ).all()
    assert [r.status for r in runs][-len(skipped) :] == ["skipped"] * len(skipped)
    assert runs[-1].summary_json["skipped"] == reason
    # After eBay's reset the figure belongs to a past eBay day: the family syncs again.
    sim.set_now(AFTER_RESET)
    assert isinstance(_sync(engine, ONE, AFTER_RESET), partition_sync.PartitionSync)


def test_a_spent_quota_draws_one_runs_429s_not_a_storm(
    ebay_env: str, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without any figure stored, the first 429 marks the quota spent until the reset (README "Rate limits"):
    the run that met it fails after its bounded retries, every later run is skipped without a call."""
    with _sim(quota_limits={"postorder.inquiry": 3}) as sim:
        monkeypatch.setenv("EBAY_API_BASE_URL", sim.base_url)
        register_account(engine, sim, ONE)
        outcomes: list[object] = []
        for _ in range(10):
            try:
                outcomes.append(_sync(engine, ONE, NOW))
            except Exception as exc:  # the run that met the 429
                outcomes.append(exc)
        refused = sum(sim.quotas.refused.values())
        assert refused == FAST.max_attempts, "one run's bounded retries, then no call at all"
        failures = [o for o in outcomes if isinstance(o, Exception)]
        assert len(failures) == 1
        assert all(isinstance(o, partition_sync.Skipped) for o in outcomes[outcomes.index(failures[0]) + 1 :])
        with engine.connect() as conn:
            marked = conn.execute(
                sa.text("select quota, remaining, reset_at, source from ebay_api_quota where source = '429'")
            ).one()
        assert tuple(marked) == ("postorder.inquiry", 0, next_reset(NOW), "429")
        sim.set_now(AFTER_RESET)
        assert isinstance(_sync(engine, ONE, AFTER_RESET), partition_sync.PartitionSync)
        assert sum(sim.quotas.refused.values()) == refused


def test_the_reserve_is_a_share(monkeypatch: pytest.MonkeyPatch) -> None:
    """``EBAY_PIPELINES_QUOTA_RESERVE`` is a share of each limit; anything else is refused in one line."""
    from ebay_pipelines.settings import Settings, SettingsError

    assert Settings.from_env({}).quota_reserve == 0.05
    assert Settings.from_env({"EBAY_PIPELINES_QUOTA_RESERVE": "0.2"}).quota_reserve == 0.2
    for bad in ("5%", "1.5", "-0.1"):
        with pytest.raises(SettingsError, match="EBAY_PIPELINES_QUOTA_RESERVE must be a share"):
            Settings.from_env({"EBAY_PIPELINES_QUOTA_RESERVE": bad})
    assert timedelta(0) < next_reset(NOW) - NOW <= timedelta(days=1)
