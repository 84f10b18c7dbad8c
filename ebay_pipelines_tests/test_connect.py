"""Connecting a real seller: `accounts connect` against the simulator's consent page, then syncs.

Sources: eBay's ``oauth-consent-request.html`` (consent URL, ``prompt=login``, the redirect with
``state``, ``code``, ``expires_in=299``), ``oauth-auth-code-grant-request.html`` (code grant with the
RuName, code URL-encoded in the redirect), ``oauth-refresh-token-request.html`` and README Wire
facts "OAuth scopes" (``invalid_scope`` beyond the grant, none asked = the granted ones), the Identity
API's getUser (``commerce/identity/v1/user/``: ``userId``, ``username``), and eBay's REST 403
errorId 1100 "Access denied" / "Insufficient permissions to fulfill the request." for a token
lacking a method's scope.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import sqlalchemy as sa
from click.testing import CliRunner
from tests_support import fast_definitions, run_family

from ebay_pipelines.cli import main
from ebay_pipelines.ebay.scopes import BASE_SCOPE, scope
from ebay_pipelines.sync.families import FAMILIES_BY_NAME

ACCOUNT = "demo-1"
DAY = "2026-10-30"


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


@pytest.fixture
def consent_env(ebay_env: str, sim, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("EBAY_RU_NAME", sim.consent.ru_name)
    return ebay_env


def consent_url_of(output: str) -> str:
    return next(line for line in output.splitlines() if "/oauth2/authorize?" in line)


def follow(url: str) -> str:
    """Stand in for the browser: open the consent page and return where eBay redirects it."""
    answer = requests.get(url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def connect_via_redirect(sim, *families: str, scopes=None, account: str = ACCOUNT):
    """`accounts connect` as a person does it: print the URL, open it, then pass the redirect with --redirect-url."""
    sim.consent.approve(account, scopes)
    first = run("accounts", "connect", account, *(["--families", *families] if families else []), input="")
    assert first.exit_code == 0, first.output
    return run("accounts", "connect", account, "--redirect-url", follow(consent_url_of(first.output)))


def stored(engine: sa.Engine, account: str = ACCOUNT):
    with engine.connect() as conn:
        return conn.execute(
            sa.text(
                "select a.ebay_user_id, a.ebay_immutable_user_id, t.scopes, t.refresh_token_expires_at, "
                "t.refresh_token_encrypted from ebay_accounts a join ebay_tokens t using (ebay_account_id) "
                "where a.ebay_account_id = :a"
            ),
            {"a": account},
        ).first()


def test_consent_url_carries_what_ebay_documents(consent_env: str, sim, engine: sa.Engine) -> None:
    """oauth-consent-request.html: client_id, redirect_uri = RuName, response_type=code, scope, state, prompt=login."""
    result = run("accounts", "connect", ACCOUNT, "--families", "orders", "finances", input="")
    url = urlsplit(consent_url_of(result.output))
    assert url.path == "/oauth2/authorize" and url.netloc == urlsplit(sim.base_url).netloc
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["client_id"] == sim.client_id and query["redirect_uri"] == sim.consent.ru_name
    assert query["response_type"] == "code" and query["prompt"] == "login" and len(query["state"]) >= 24
    assert set(query["scope"].split()) == {
        BASE_SCOPE,
        scope("commerce.identity.readonly"),
        scope("sell.fulfillment.readonly"),
        scope("sell.finances"),
    }
    # A redirect that does not carry this state (an old or foreign one): one clear line, nothing stored.
    foreign = run("accounts", "connect", ACCOUNT, "--redirect-url", "https://x.invalid/a?state=other&code=abc")
    assert foreign.exit_code == 1 and "state does not match" in foreign.output
    assert len(foreign.output.strip().splitlines()) == 1
    assert stored(engine) is None and sim.calls[(None, "token")] == 0


def test_connect_with_redirect_url_then_every_family_syncs(
    consent_env: str, sim, engine: sa.Engine, dagster_instance
) -> None:
    """Consent approved, code exchanged (auth-code grant, RuName), getUser read; then every family syncs."""
    result = connect_via_redirect(sim)
    assert result.exit_code == 0, result.output
    assert f"account {ACCOUNT} connected" in result.output
    row = stored(engine)
    assert row.ebay_user_id == sim.services.world.gen.seller_id(ACCOUNT)
    assert row.ebay_immutable_user_id == sim.user_id(ACCOUNT)
    assert set(row.scopes.split()) >= {BASE_SCOPE, scope("sell.finances"), scope("sell.payment.dispute")}
    # refresh_token_expires_in 47304000 s (about 18 months) from the simulated grant.
    assert row.refresh_token_expires_at > datetime.now(UTC) + timedelta(days=500)
    assert b"v^1.1" not in bytes(row.refresh_token_encrypted)

    listing = run("accounts", "list")
    line = next(line for line in listing.output.splitlines() if line.startswith(ACCOUNT))
    assert "sell.finances" in line and "EBAY_US" in line and row.refresh_token_expires_at.strftime("%Y-%m-%d") in line

    dagster_instance.add_dynamic_partitions("ebay_accounts", [ACCOUNT])
    defs = fast_definitions(consent_env)
    for name, spec in FAMILIES_BY_NAME.items():
        outcome = run_family(
            defs, dagster_instance, name, ACCOUNT, datetime.fromisoformat(DAY).date() if spec.windowed else None
        )
        assert outcome.success, (name, outcome.all_events[-3:])
    with engine.connect() as conn:
        statuses = dict(
            conn.execute(
                sa.text("select api_family, status from ebay_worker_run where ebay_account_id = :a"), {"a": ACCOUNT}
            ).all()
        )
    assert set(statuses.values()) == {"completed"}, statuses
    assert sim.calls[(ACCOUNT, "getUser")] == 1


def test_connect_with_listen_receives_the_redirect(consent_env: str, sim, engine: sa.Engine) -> None:
    """--listen: the RuName's accept URL points at the local callback; a test thread plays the browser."""
    port = _free_port()
    sim.consent.set_redirects(f"http://127.0.0.1:{port}/ebay/accepted")
    sim.consent.approve(ACCOUNT)
    seen: dict[str, str] = {}

    def browser() -> None:
        # The pending consent file holds the URL the CLI printed; wait for it, then follow it.
        pending = Path(consent_env_home()) / "consents" / f"{ACCOUNT}.json"
        deadline = time.monotonic() + 20
        while not pending.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        location = follow(json.loads(pending.read_text())["url"])
        for _ in range(200):  # the callback may not listen yet
            try:
                seen["page"] = requests.get(location, timeout=5).text
                return
            except requests.ConnectionError:
                time.sleep(0.05)

    thread = threading.Thread(target=browser, daemon=True)
    thread.start()
    result = run("accounts", "connect", ACCOUNT, "--listen", f"127.0.0.1:{port}", "--timeout", "30")
    thread.join(10)
    assert result.exit_code == 0, result.output
    assert "you may close this page" in seen["page"]
    assert stored(engine).ebay_immutable_user_id == sim.user_id(ACCOUNT)


def consent_env_home() -> str:
    import os

    return os.environ["DAGSTER_HOME"]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_denied_consent_and_missing_ru_name_store_nothing(
    consent_env: str, sim, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A seller who declines: eBay redirects with error=access_denied (oauth-consent-request.html)."""
    sim.consent.deny()
    result = connect_via_redirect_denied(sim)
    assert result.exit_code == 1 and "declined the consent" in result.output
    assert len([line for line in result.output.splitlines() if line.startswith("Error")]) == 1
    assert stored(engine) is None
    monkeypatch.delenv("EBAY_RU_NAME")
    missing = run("accounts", "connect", ACCOUNT, input="")
    assert missing.exit_code == 1 and "EBAY_RU_NAME is not set" in missing.output


def connect_via_redirect_denied(sim):
    first = run("accounts", "connect", ACCOUNT, input="")
    location = follow(consent_url_of(first.output))
    assert parse_qs(urlsplit(location).query)["error"] == ["access_denied"]
    return run("accounts", "connect", ACCOUNT, "--redirect-url", location)


def test_a_used_code_is_refused_in_one_line(consent_env: str, sim, engine: sa.Engine) -> None:
    """oauth-auth-code-grant-request.html: a code is used once; eBay answers invalid_grant after."""
    assert connect_via_redirect(sim).exit_code == 0
    sim.consent.approve(ACCOUNT)
    from ebay_pipelines.ebay.config import EbaySettings

    settings = EbaySettings(client_id=sim.client_id, client_secret=sim.client_secret, base_url=sim.base_url)
    from ebay_pipelines.ebay.consent import consent_url

    location = follow(consent_url(settings, sim.consent.ru_name, [BASE_SCOPE], "s1"))
    code = parse_qs(urlsplit(location).query)["code"][0]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": sim.consent.ru_name}
    auth = (sim.client_id, sim.client_secret)
    first = requests.post(f"{sim.base_url}/identity/v1/oauth2/token", data=form, auth=auth, timeout=10)
    again = requests.post(f"{sim.base_url}/identity/v1/oauth2/token", data=form, auth=auth, timeout=10)
    assert first.status_code == 200 and first.json()["refresh_token_expires_in"] == 47304000
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


WITHOUT_SCOPE = ("finances", "transactions", "refunds", "payouts", "disputes")
BASE_ONLY = ("orders", "messages", "active_inventory")


def _runs(engine: sa.Engine) -> dict[str, tuple[str, str | None, dict]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select api_family, status, error_message, summary_json from ebay_worker_run "
                "where ebay_account_id = :a order by started_at"
            ),
            {"a": ACCOUNT},
        ).all()
    return {r.api_family: (r.status, r.error_message, r.summary_json) for r in rows}


def _last_errors(engine: sa.Engine) -> dict[str, str | None]:
    with engine.connect() as conn:
        return dict(
            conn.execute(
                sa.text("select api_family, last_error from ebay_sync_state where ebay_account_id = :a"), {"a": ACCOUNT}
            ).all()
        )


def _sync(defs, instance, name: str):
    spec = FAMILIES_BY_NAME[name]
    return run_family(defs, instance, name, ACCOUNT, datetime.fromisoformat(DAY).date() if spec.windowed else None)


def test_a_seller_without_finance_scopes_syncs_the_rest_and_reconnecting_adds_them(
    consent_env: str, sim, engine: sa.Engine, dagster_instance
) -> None:
    """Granted fulfillment and the base scope only: Fulfillment, Trading sync; Finances and disputes skip.

    README Wire facts "OAuth scopes": refreshes ask for the granted scopes only, so eBay never answers
    invalid_scope; a family whose scope is missing makes no call (the simulator counts none).
    """
    granted = {BASE_SCOPE, scope("commerce.identity.readonly"), scope("sell.fulfillment.readonly")}
    assert connect_via_redirect(sim, *BASE_ONLY, scopes=granted).exit_code == 0
    dagster_instance.add_dynamic_partitions("ebay_accounts", [ACCOUNT])
    defs = fast_definitions(consent_env)
    for name in (*BASE_ONLY, *WITHOUT_SCOPE):
        assert _sync(defs, dagster_instance, name).success, name
    runs, errors = _runs(engine), _last_errors(engine)
    for name in BASE_ONLY:
        assert runs[name][0] == "completed", runs[name]
    for name in WITHOUT_SCOPE:
        status, _, summary = runs[name]
        assert status == "skipped", runs[name]
        assert f"run `ebay-pipelines accounts connect {ACCOUNT} --families {name}`" in summary["skipped"]
        assert errors[name] == summary["skipped"] and "needs scope sell." in errors[name]
    assert "needs scope sell.finances" in errors["finances"]
    assert "needs scope sell.payment.dispute" in errors["disputes"]
    for call in ("getTransactions", "getPayouts", "getPaymentDisputeSummaries", "searchReturns"):
        assert sim.calls[(ACCOUNT, call)] == 0, call
    assert not [r for r in runs.values() if "invalid_scope" in str(r)]

    # The schedules do not even request them, saying why.
    from ebay_pipelines.defs.resources import PostgresResource
    from ebay_pipelines.defs.schedules import family_schedule_requests

    postgres = PostgresResource(database_url=consent_env)
    tick = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    skipped = family_schedule_requests(FAMILIES_BY_NAME["finances"], postgres, {ACCOUNT}, tick, tick.date())
    assert "needs scope sell.finances" in skipped.skip_message
    assert len(family_schedule_requests(FAMILIES_BY_NAME["orders"], postgres, {ACCOUNT}, tick, tick.date())) == 1

    # Re-consenting for the finance families keeps the granted scopes and adds theirs.
    assert connect_via_redirect(sim, *WITHOUT_SCOPE).exit_code == 0
    assert _last_errors(engine)["finances"] is None
    for name in (*WITHOUT_SCOPE, "orders"):
        assert _sync(defs, dagster_instance, name).success, name
    runs = _runs(engine)
    assert all(runs[name][0] == "completed" for name in (*WITHOUT_SCOPE, "orders")), runs
    assert sim.calls[(ACCOUNT, "getTransactions")] >= 1


def test_an_unknown_grant_learns_a_refused_scope_once(
    consent_env: str, sim, engine: sa.Engine, dagster_instance
) -> None:
    """A token added with --refresh-token: the refresh asks for no scope (README Wire facts "OAuth scopes");
    eBay's 403 errorId 1100 for a missing scope is remembered, so the family then skips without calls."""
    from ebay_pipelines.store.accounts import add_account
    from ebay_pipelines.store.secrets import load_cipher

    sim.tokens.grant(ACCOUNT, frozenset({BASE_SCOPE, scope("sell.fulfillment")}))
    add_account(engine, load_cipher(), ACCOUNT, sim.refresh_token_for(ACCOUNT))
    dagster_instance.add_dynamic_partitions("ebay_accounts", [ACCOUNT])
    defs = fast_definitions(consent_env)
    assert _sync(defs, dagster_instance, "orders").success
    assert not _sync(defs, dagster_instance, "finances").success
    status, message, _ = _runs(engine)["finances"]
    assert status == "error" and "needs scope sell.finances" in message and "Access denied" in message
    calls = sim.calls[(ACCOUNT, "getTransactions")]
    assert calls == 1
    assert _sync(defs, dagster_instance, "finances").success
    assert _runs(engine)["finances"][0] == "skipped" and sim.calls[(ACCOUNT, "getTransactions")] == calls


def _health(defs, instance):
    result = defs.resolve_job_def("ebay_health_job").execute_in_process(instance=instance, partition_key=ACCOUNT)
    assert result.success
    [mat] = result.get_asset_materialization_events()
    [check] = result.get_asset_check_evaluations()
    return {k: v.value for k, v in mat.step_materialization_data.materialization.metadata.items()}, check


def _expires_in(engine: sa.Engine, delta: timedelta) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text("update ebay_tokens set refresh_token_expires_at = now() + :d where ebay_account_id = :a"),
            {"d": delta, "a": ACCOUNT},
        )


def test_refresh_token_lifetime_warns_then_stops_the_account_without_calls(
    consent_env: str, sim, engine: sa.Engine, dagster_instance
) -> None:
    """refresh_token_expires_in (about 18 months, oauth-auth-code-grant-request.html): 30 days before
    the expiry the health check warns; once expired it fails, and nothing calls eBay for the account."""
    import dagster as dg

    from ebay_pipelines.defs import sensors
    from ebay_pipelines.defs.jobs import build_family_jobs
    from ebay_pipelines.defs.resources import PostgresResource
    from ebay_pipelines.defs.schedules import family_schedule_requests
    from ebay_pipelines.settings import Settings

    assert connect_via_redirect(sim).exit_code == 0
    dagster_instance.add_dynamic_partitions("ebay_accounts", [ACCOUNT])
    defs = fast_definitions(consent_env)

    _expires_in(engine, timedelta(days=10))
    metadata, check = _health(defs, dagster_instance)
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert "expires on" in metadata["refresh_token_warning"]

    _expires_in(engine, timedelta(seconds=-1))
    sim.reset_calls()
    metadata, check = _health(defs, dagster_instance)
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert metadata["healthy"] is False and "must re-authorize" in metadata["oauth.token"]
    assert _sync(defs, dagster_instance, "orders").success
    status, _, summary = _runs(engine)["orders"]
    assert status == "skipped" and f"accounts connect {ACCOUNT}" in summary["skipped"]
    assert "refresh token expired" in _last_errors(engine)["orders"]

    postgres = PostgresResource(database_url=consent_env)
    tick = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    left_out = family_schedule_requests(FAMILIES_BY_NAME["orders"], postgres, {ACCOUNT}, tick, tick.date())
    assert "must re-authorize" in left_out.skip_message
    context = dg.build_sensor_context(instance=dagster_instance, cursor=None, resources={"postgres": postgres})
    queue = sensors.BackfillQueue()
    queue.enqueue(ACCOUNT, tick.date())
    context.update_cursor(queue.dump())
    result = sensors.build_accounts_sensor(list(build_family_jobs(Settings.from_env()).values()))(context)
    assert not result.run_requests
    assert sum(n for (account, _), n in sim.calls.items() if account == ACCOUNT) == 0

    # Consenting again clears it.
    assert connect_via_redirect(sim).exit_code == 0
    assert _last_errors(engine)["orders"] is None
    assert _sync(defs, dagster_instance, "orders").success and _runs(engine)["orders"][0] == "completed"


def test_invalid_scope_on_refresh_is_one_clear_line_then_heals(
    consent_env: str, sim, engine: sa.Engine, dagster_instance
) -> None:
    """README Wire facts "OAuth scopes": a refresh asking beyond the grant answers invalid_scope. The stored
    grant is then forgotten, the next refresh asks for none, and a refused scope (403 errorId 1100) skips."""
    assert connect_via_redirect(sim).exit_code == 0
    sim.tokens.grant(ACCOUNT, frozenset({BASE_SCOPE, scope("sell.fulfillment.readonly")}))  # the seller took some back
    dagster_instance.add_dynamic_partitions("ebay_accounts", [ACCOUNT])
    defs = fast_definitions(consent_env)
    assert not _sync(defs, dagster_instance, "finances").success
    status, message, _ = _runs(engine)["finances"]
    assert status == "error" and "eBay answered invalid_scope" in message and "--families finances" in message
    assert _sync(defs, dagster_instance, "orders").success and _runs(engine)["orders"][0] == "completed"
    assert not _sync(defs, dagster_instance, "finances").success  # 403 1100: remembered
    assert _sync(defs, dagster_instance, "finances").success and _runs(engine)["finances"][0] == "skipped"
    assert sim.calls[(ACCOUNT, "getTransactions")] == 1
