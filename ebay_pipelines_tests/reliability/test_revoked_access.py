"""A revoked refresh token stops that account, once and clearly, and nothing else.

eBay answers the refresh grant with ``invalid_grant``: the run fails without any retry (neither the
HTTP client nor Dagster's step RetryPolicy, here allowed 3 retries), every family of the account
gets a ``last_error`` saying it must re-authorize, and later runs of any family are skipped
without calling eBay at all; schedules and the token-refresh job leave the account out. Other
accounts sync as usual throughout. Storing a new refresh token resumes the account.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from tests_support import materialization_metadata, register_account, run_family

from ebay_pipelines.defs.resources import PostgresResource
from ebay_pipelines.defs.schedules import family_schedule_requests
from ebay_pipelines.simulator import FaultRule
from ebay_pipelines.store.accounts import add_account
from ebay_pipelines.store.secrets import load_cipher
from ebay_pipelines.sync.families import FAMILIES, FAMILIES_BY_NAME
from ebay_pipelines.sync.maintenance import refresh_tokens

from .support import failure_text, retrying_definitions, step_retries

DAY = date(2026, 10, 30)
REVOKED, HEALTHY = "revoked-1", ("healthy-1", "healthy-2")


def _calls_of(sim, account: str) -> int:
    return sum(n for (a, _), n in sim.calls.items() if a == account)


def _token_calls_of(sim, account: str) -> int:
    return sim.calls[(account, "token")]


def test_revoked_account_stops_once_and_others_continue(
    ebay_env: str, sim, dagster_instance, engine: sa.Engine
) -> None:
    for account in (REVOKED, *HEALTHY):
        register_account(engine, sim, account, dagster_instance)
    defs = retrying_definitions(ebay_env, max_retries=3, delay=0.01)
    sim.revoke(REVOKED)

    failed = run_family(defs, dagster_instance, "orders", REVOKED, DAY)
    assert not failed.success
    assert step_retries(failed) == 0, "Dagster retried a revoked token"
    assert f"eBay account {REVOKED} must re-authorize" in failure_text(failed)
    assert _token_calls_of(sim, REVOKED) == 1, "the refresh grant was retried"
    assert _calls_of(sim, REVOKED) == 1

    with engine.connect() as conn:
        runs = conn.execute(
            sa.text("select api_family, status, error_message from ebay_worker_run where ebay_account_id = :a"),
            {"a": REVOKED},
        ).all()
        states = conn.execute(
            sa.text("select api_family, last_error, cursor_value from ebay_sync_state where ebay_account_id = :a"),
            {"a": REVOKED},
        ).all()
        token = conn.execute(sa.text("select * from ebay_tokens where ebay_account_id = :a"), {"a": REVOKED}).one()
    assert [(r.api_family, r.status) for r in runs] == [("orders", "error")]
    assert "must re-authorize" in runs[0].error_message
    assert {s.api_family for s in states} == {spec.name for spec in FAMILIES}
    assert all("must re-authorize" in s.last_error and s.cursor_value is None for s in states)
    assert token.refresh_token_expires_at is not None and token.access_token_encrypted is None

    # Every family of the account is now skipped without a single call to eBay.
    before = _calls_of(sim, REVOKED)
    for spec in FAMILIES:
        result = run_family(defs, dagster_instance, spec.name, REVOKED, DAY if spec.windowed else None)
        assert result.success and materialization_metadata(result) == {}
    assert _calls_of(sim, REVOKED) == before
    with engine.connect() as conn:
        skipped = conn.execute(
            sa.text("select summary_json from ebay_worker_run where ebay_account_id = :a and status = 'skipped'"),
            {"a": REVOKED},
        ).all()
    assert len(skipped) == len(FAMILIES)
    assert all(f"account {REVOKED} must re-authorize" in r.summary_json["skipped"] for r in skipped)

    # Schedules leave it out; the token-refresh job does not ask eBay again.
    partitions = {REVOKED, *HEALTHY}
    tick = datetime(2026, 10, 30, 12, tzinfo=UTC)
    requests = family_schedule_requests(
        FAMILIES_BY_NAME["orders"], PostgresResource(database_url=ebay_env), partitions, tick, date(2026, 10, 1)
    )
    # One run for both healthy accounts (contiguous partitions); the revoked one is left out of it.
    assert [r.tags["ebay/accounts"] for r in requests] == [f"{HEALTHY[0]}..{HEALTHY[1]}"]
    results = {r.account_id: r for r in refresh_tokens(engine)}
    assert results[REVOKED].needs_reauthorization and not results[REVOKED].ok
    assert all(results[a].ok for a in HEALTHY)
    assert _calls_of(sim, REVOKED) == before

    # The other accounts were never affected (a REST, a Trading and a snapshot family each).
    for account in HEALTHY:
        for family in ("orders", "messages", "inventory"):
            windowed = FAMILIES_BY_NAME[family].windowed
            assert run_family(defs, dagster_instance, family, account, DAY if windowed else None).success
    with engine.connect() as conn:
        errors = conn.execute(
            sa.text("select count(*) from ebay_sync_state where ebay_account_id <> :a and last_error is not null"),
            {"a": REVOKED},
        ).scalar()
    assert errors == 0

    # A new refresh token (the seller re-authorized) resumes the account.
    add_account(engine, load_cipher(), REVOKED, sim.refresh_token_for(REVOKED))
    assert run_family(defs, dagster_instance, "orders", REVOKED, DAY).success
    with engine.connect() as conn:
        state = conn.execute(
            sa.text(
                "select last_error, cursor_value from ebay_sync_state where ebay_account_id = :a "
                "and api_family = 'orders'"
            ),
            {"a": REVOKED},
        ).one()
    assert state.last_error is None and state.cursor_value is not None


def test_transient_failures_are_retried_by_the_step_policy(
    ebay_env: str, sim, dagster_instance, engine: sa.Engine
) -> None:
    register_account(engine, sim, "healthy-1", dagster_instance)
    defs = retrying_definitions(ebay_env, max_retries=2, delay=0.01, retry_max_attempts=2)
    sim.faults.add(FaultRule(kind="503", endpoint="getOrders", times=2))  # exhausts the HTTP retries once
    result = run_family(defs, dagster_instance, "orders", "healthy-1", DAY)
    assert result.success and step_retries(result) == 1
    with engine.connect() as conn:
        statuses = [r.status for r in conn.execute(sa.text("select status from ebay_worker_run order by started_at"))]
    assert statuses == ["error", "completed"]


def test_a_run_row_left_open_by_the_same_dagster_run_is_taken_over(engine: sa.Engine, sim) -> None:
    from ebay_pipelines.store import mirrors

    register_account(engine, sim, "healthy-1")
    first = mirrors.start_run(engine, "healthy-1", "orders", "dagster-run-1", "k", {})
    try:
        mirrors.start_run(engine, "healthy-1", "orders", "dagster-run-2", "k", {})
        raise AssertionError("a second running row of another Dagster run was accepted")
    except mirrors.RunAlreadyRunning as refused:
        assert refused.other_run_id == first.run_id
    try:
        mirrors.start_run(engine, "healthy-1", "orders", "dagster-run-1", "k", {})
        raise AssertionError("a first attempt took over a row of its own run")
    except mirrors.RunAlreadyRunning:
        pass
    second = mirrors.start_run(engine, "healthy-1", "orders", "dagster-run-1", "k", {}, retry_of_same_run=True)
    with engine.connect() as conn:
        rows = dict(conn.execute(sa.text("select id, status from ebay_worker_run")).all())
        reason = conn.execute(
            sa.text("select error_message from ebay_worker_run where id = :i"), {"i": first.run_id}
        ).scalar()
    assert rows == {first.run_id: "error", second.run_id: "running"}
    assert reason == "attempt superseded by a retry in Dagster run dagster-run-1"
