"""No token or secret in any log stream, tokens encrypted at rest, a wrong key refused clearly.

After a demo sync of every family with eBay misbehaving (rate limits, 5xx, dropped connections,
rejected and expired access tokens, truncated answers, one revoked account), every place a person
or a tool could read is scanned for the client secret, every refresh token and every access token
the simulator issued, the Basic-auth header value and the project's secret key: Python logging at
DEBUG (every logger), Dagster's event log and run records (with run metadata and failure texts and
causes), captured compute logs, stdout/stderr, and every table of the eBay database.
"""

from __future__ import annotations

import base64
import logging
import traceback
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import TEST_SECRET
from dagster._serdes import serialize_value
from tests_support import register_account, run_family

from ebay_pipelines.cli import main as cli
from ebay_pipelines.demo import DEMO_ACCOUNTS
from ebay_pipelines.simulator import FaultRule
from ebay_pipelines.store.secrets import SecretKeyError, key_from_secret, load_cipher
from ebay_pipelines.store.tables import metadata
from ebay_pipelines.sync import partition_sync
from ebay_pipelines.sync.families import FAMILIES, FAMILIES_BY_NAME

from .support import failure_text, retrying_definitions, step_retries

DAY = date(2026, 10, 30)
REVOKED = "demo-revoked"


def _secrets(sim) -> list[str]:
    """Every credential value that must never be readable anywhere."""
    accounts = [*DEMO_ACCOUNTS, REVOKED]
    issued = list(sim.tokens._access)  # every access token the simulator handed out
    basic = base64.b64encode(f"{sim.client_id}:{sim.client_secret}".encode()).decode()
    refresh = [sim.refresh_token_for(a) for a in accounts]
    return [sim.client_secret, basic, TEST_SECRET, key_from_secret(TEST_SECRET).decode(), *refresh, *issued]


def _fragments(secret: str, size: int = 12) -> list[str]:
    """The secret and overlapping pieces of its random part, so a truncated leak is caught too."""
    tail = secret.rsplit("#", 1)[-1].rsplit("^", 1)[-1]
    if len(tail) < 2 * size:
        return [secret]
    return [secret, *(tail[i : i + size] for i in range(0, len(tail) - size + 1, size // 2))]


def _database_text(engine: sa.Engine) -> str:
    with engine.connect() as conn:
        return "\n".join(
            str(row[0])
            for table in metadata.sorted_tables
            for row in conn.execute(sa.text(f'select t::text from "{table.name}" t'))
        )


def test_no_secret_in_any_log_stream_after_a_faulty_demo_sync(
    ebay_env: str,
    sim,
    dagster_instance,
    engine: sa.Engine,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # every statement with its parameters
    for name in ("urllib3", "ebay_pipelines", "dagster"):
        caplog.set_level(logging.DEBUG, logger=name)
    caplog.set_level(logging.DEBUG)  # last: the capturing handler takes the level of the last call
    old_refresh = {}
    for account in (*DEMO_ACCOUNTS, REVOKED):
        register_account(engine, sim, account, dagster_instance)
        old_refresh[account] = sim.refresh_token_for(account)
    sim.revoke(REVOKED)
    defs = retrying_definitions(ebay_env, max_retries=2, delay=0.01, retry_max_attempts=2)
    for kind in ("429", "500", "503", "drop", "expire_token", "malformed"):
        sim.faults.add(FaultRule(kind=kind, probability=0.03, retry_after=0))

    run_ids, failures = [], []
    partitions = [(spec, DEMO_ACCOUNTS[0]) for spec in FAMILIES]  # every family of one demo account,
    partitions += [(FAMILIES_BY_NAME[f], DEMO_ACCOUNTS[1]) for f in ("orders", "messages", "inquiries", "offers")]
    for i, (spec, account) in enumerate(partitions):
        if i % 4 == 0:
            sim.expire_access_tokens(account)
        result = run_family(defs, dagster_instance, spec.name, account, DAY if spec.windowed else None)
        run_ids.append(result.run_id)
        failures.append(failure_text(result))
    revoked = run_family(defs, dagster_instance, "orders", REVOKED, DAY)
    run_ids.append(revoked.run_id)
    failures.append(failure_text(revoked))
    assert not revoked.success and "must re-authorize" in failures[-1]
    sim.faults.clear()

    # An exception raised straight from the sync layer, with its traceback.
    began = partition_sync.begin(
        engine, FAMILIES_BY_NAME["messages"], DEMO_ACCOUNTS[0], DAY, partition_key=f"{DEMO_ACCOUNTS[0]}|{DAY}"
    )
    sim.faults.add(FaultRule(kind="expire_token"))
    with pytest.raises(Exception) as raised:
        began.write(engine)
    sim.faults.clear()
    exception_text = str(raised.value) + repr(raised.value) + "".join(traceback.format_exception(raised.value))
    assert "GetMyMessages" in exception_text

    python_logs = caplog.text + "\n".join(r.getMessage() + (r.exc_text or "") + str(r.args) for r in caplog.records)
    dagster_logs = "\n".join(
        serialize_value(entry) for run_id in run_ids for entry in dagster_instance.all_logs(run_id)
    )
    dagster_runs = "\n".join(serialize_value(dagster_instance.get_run_by_id(run_id)) for run_id in run_ids)
    compute_logs = "\n".join(
        p.read_text(errors="replace")
        for p in Path(dagster_instance.root_directory).rglob("*")
        if p.is_file() and p.stat().st_size < 5_000_000
    )
    out, err = capfd.readouterr()
    streams = {
        "python logging": python_logs,
        "dagster event log": dagster_logs,
        "dagster runs": dagster_runs,
        "compute logs": compute_logs,
        "stdout/stderr": out + err,
        "failures": "\n".join(failures),
        "exception": exception_text,
        "ebay database": _database_text(engine),
    }
    # The streams really hold what was done (so an empty scan cannot pass).
    assert "account=demo-1" in python_logs and "getOrders" in python_logs
    assert "rows_upserted" in dagster_logs and "total_fetched" in streams["ebay database"]
    assert "must re-authorize" in streams["ebay database"]
    secrets = _secrets(sim) + list(old_refresh.values())
    assert len(sim.tokens._access) >= 3, "the sync should have rotated access tokens"
    pieces = {piece for secret in secrets for piece in _fragments(secret)}
    leaks = [(name, piece[:6] + "…") for name, text in streams.items() for piece in pieces if piece in text]
    assert leaks == []


def test_tokens_are_encrypted_and_a_wrong_key_is_refused_clearly(
    ebay_env: str, sim, dagster_instance, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = DEMO_ACCOUNTS[0]
    register_account(engine, sim, account, dagster_instance)
    defs = retrying_definitions(ebay_env, max_retries=3, delay=0.01)
    assert run_family(defs, dagster_instance, "orders", account, DAY).success
    with engine.connect() as conn:
        row = conn.execute(sa.text("select * from ebay_tokens where ebay_account_id = :a"), {"a": account}).one()
    access = load_cipher().decrypt(row.access_token_encrypted, "the access token")
    for secret, stored in (
        (sim.refresh_token_for(account), row.refresh_token_encrypted),
        (access, row.access_token_encrypted),
    ):
        assert secret.encode() not in bytes(stored) and bytes(stored).startswith(b"gAAAA")  # Fernet
    assert access in sim.tokens._access

    monkeypatch.setenv("EBAY_PIPELINES_SECRET_KEY", "another-passphrase-of-enough-length")
    calls_before = sum(sim.calls.values())
    refused = run_family(defs, dagster_instance, "orders", account, DAY)
    assert not refused.success and step_retries(refused) == 0
    text = failure_text(refused)
    assert f"cannot decrypt the access token of account {account}: EBAY_PIPELINES_SECRET_KEY is not the key" in text
    assert sum(sim.calls.values()) == calls_before, "a token decrypted with the wrong key reached eBay"
    with engine.connect() as conn:
        last_error = conn.execute(
            sa.text("select last_error from ebay_sync_state where api_family = 'orders'")
        ).scalar()
    assert "SecretKeyError" in last_error and "EBAY_PIPELINES_SECRET_KEY" in last_error
    monkeypatch.setenv("EBAY_PIPELINES_SECRET_KEY", "short")
    with pytest.raises(SecretKeyError, match="at least 16 characters"):
        load_cipher()
    monkeypatch.setenv("EBAY_PIPELINES_SECRET_KEY", TEST_SECRET)
    assert run_family(defs, dagster_instance, "orders", account, DAY).success


def test_servers_listen_on_loopback_only(project_env: Path, sim, engine: sa.Engine) -> None:
    """Defaults bind loopback; a real `ebay-pipelines dev` launch is checked in test_dagster_instance.py."""
    dev = cli.commands["dev"]
    assert next(p for p in dev.params if p.name == "host").default == "127.0.0.1"
    host, port = sim._server.server_address
    assert host == "127.0.0.1" and sim.base_url == f"http://127.0.0.1:{port}"
    with engine.connect() as conn:
        assert conn.execute(sa.text("show listen_addresses")).scalar() == ""  # embedded PostgreSQL: Unix socket only
