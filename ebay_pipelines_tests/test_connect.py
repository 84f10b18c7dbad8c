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
