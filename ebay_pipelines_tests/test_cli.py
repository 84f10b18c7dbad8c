"""Every CLI command, including its error paths, against a real PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from ebay_pipelines.cli import main
from ebay_pipelines.store import migrate
from ebay_pipelines.store.database import make_engine
from ebay_pipelines.store.urls import parse_url, with_database


def run(*args: str) -> CliRunner.invoke:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_migrate_twice_is_harmless(project_env: Path) -> None:
    first = run("migrate")
    second = run("migrate")
    assert first.exit_code == 0 and second.exit_code == 0
    assert f"revision {migrate.head_revision()}" in second.output


def test_accounts_add_list_disable(project_env: Path, engine: sa.Engine) -> None:
    result = run(
        "accounts",
        "add",
        "shop-1",
        "--refresh-token",
        "v^1.1#refresh-SECRET",
        "--ebay-user-id",
        "seller_one",
        "--marketplace",
        "EBAY_GB",
    )
    assert result.exit_code == 0, result.output
    assert "SECRET" not in result.output
    listing = run("accounts", "list")
    assert listing.exit_code == 0
    line = next(line for line in listing.output.splitlines() if line.startswith("shop-1"))
    assert "seller_one" in line and "EBAY_GB" in line and "yes" in line and "stored" in line

    with engine.connect() as conn:
        stored = conn.execute(
            sa.text("select refresh_token_encrypted from ebay_tokens where ebay_account_id='shop-1'")
        ).scalar()
    assert b"refresh-SECRET" not in bytes(stored)

    disabled = run("accounts", "disable", "shop-1")
    assert disabled.exit_code == 0
    with engine.connect() as conn:
        assert (
            conn.execute(sa.text("select enabled from ebay_accounts where ebay_account_id='shop-1'")).scalar() is False
        )


def test_accounts_list_when_empty(project_env: Path) -> None:
    result = run("accounts", "list")
    assert result.exit_code == 0 and "no accounts registered" in result.output


@pytest.mark.parametrize("bad_id", ["a|b", "a,b", "with space", "x'; drop table ebay_accounts; --", "", "a" * 65])
def test_accounts_add_rejects_invalid_ids(project_env: Path, engine: sa.Engine, bad_id: str) -> None:
    result = run("accounts", "add", bad_id, "--refresh-token", "tok")
    assert result.exit_code == 1
    assert "invalid account id" in result.output
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from ebay_accounts")).scalar() == 0


def test_accounts_add_rejects_bad_marketplace(project_env: Path) -> None:
    result = run("accounts", "add", "shop-1", "--refresh-token", "tok", "--marketplace", "US")
    assert result.exit_code == 1 and "invalid marketplace" in result.output


def test_accounts_add_requires_refresh_token(project_env: Path) -> None:
    result = run("accounts", "add", "shop-1")
    assert result.exit_code == 2 and "--refresh-token" in result.output


def test_accounts_disable_unknown(project_env: Path) -> None:
    result = run("accounts", "disable", "nobody")
    assert result.exit_code == 1 and "unknown account 'nobody'" in result.output


def test_workers_switch(project_env: Path, engine: sa.Engine) -> None:
    assert "workers disabled" in run("workers", "disable").output
    with engine.connect() as conn:
        assert conn.execute(sa.text("select workers_enabled from ebay_worker_global_config")).scalar() is False
    assert "workers disabled" in run("workers", "status").output
    assert "workers enabled" in run("workers", "enable").output
    with engine.connect() as conn:
        assert conn.execute(sa.text("select workers_enabled from ebay_worker_global_config")).scalar() is True
    assert run("workers", "maybe").exit_code == 2


def test_unreachable_database_is_one_clear_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv("EBAY_PIPELINES_DATABASE_URL", "postgresql://bob:hunter2secret@127.0.0.1:1/shop")
    result = run("accounts", "list")
    assert result.exit_code == 1
    assert "cannot connect to PostgreSQL at postgresql+psycopg2://bob:***@127.0.0.1:1/shop" in result.output
    assert "hunter2secret" not in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_non_postgres_url_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv("EBAY_PIPELINES_DATABASE_URL", "sqlite:///x.db")
    result = run("migrate")
    assert result.exit_code == 1 and "not a PostgreSQL URL" in result.output


@pytest.fixture
def password_role(pg_server_url: str) -> str:
    """A role that must log in with a password (scram), on the session's server."""
    engine = make_engine(
        with_database(pg_server_url, "postgres"), poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        hba_file = Path(conn.execute(sa.text("show hba_file")).scalar())
        conn.execute(sa.text("drop role if exists pw_user"))
        conn.execute(sa.text("create role pw_user login superuser password 'right-password'"))
        rules = hba_file.read_text()
        if "pw_user" not in rules:
            hba_file.write_text(
                "local all pw_user scram-sha-256\nhost all pw_user 127.0.0.1/32 scram-sha-256\n" + rules
            )
        conn.execute(sa.text("select pg_reload_conf()"))
    engine.dispose()
    return "pw_user"


def test_wrong_password_fails_with_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, pg_server_url: str, password_role: str
) -> None:
    wrong = parse_url(pg_server_url).set(username=password_role, password="wrong-password", database="postgres")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv("EBAY_PIPELINES_DATABASE_URL", wrong.render_as_string(hide_password=False))
    result = run("migrate")
    assert result.exit_code == 1
    assert "password authentication failed" in result.output
    assert "wrong-password" not in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1

    right = wrong.set(password="right-password", database=f"pw_{os.getpid()}")
    monkeypatch.setenv("EBAY_PIPELINES_DATABASE_URL", right.render_as_string(hide_password=False))
    ok = run("migrate")
    assert ok.exit_code == 0, ok.output


def test_console_script_on_embedded_defaults(tmp_path: Path) -> None:
    """With no database URL, the installed command starts the embedded server, migrates, and stops it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EBAY_PIPELINES_")}
    env["DAGSTER_HOME"] = str(tmp_path / "h")
    exe = Path(sys.executable).with_name("ebay-pipelines")
    for _ in range(2):
        out = subprocess.run([str(exe), "migrate"], env=env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert f"revision {migrate.head_revision()}" in out.stdout and "embedded server" in out.stdout
    add = subprocess.run(
        [str(exe), "accounts", "add", "demo-1", "--refresh-token", "tok"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert add.returncode == 0, add.stderr
    listing = subprocess.run([str(exe), "accounts", "list"], env=env, capture_output=True, text=True, timeout=120)
    assert "demo-1" in listing.stdout
    assert (tmp_path / "h" / "embedded-postgres" / "pgdata" / "PG_VERSION").exists()
    assert (tmp_path / "h" / "secret.key").exists()
    # The server was stopped when the last command exited.
    assert not (tmp_path / "h" / "embedded-postgres" / "pgdata" / "postmaster.pid").exists()


def test_simulator_command_answers_curl(tmp_path: Path) -> None:
    """`ebay-pipelines simulator --port N` serves eBay's token and getOrders endpoints to curl."""
    import json
    import shutil
    import socket
    import time

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    exe = Path(sys.executable).with_name("ebay-pipelines")
    server = subprocess.Popen(
        [str(exe), "simulator", "--port", str(port), "--seed", "3", "--now", "2026-11-01T12:00:00Z"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    curl = shutil.which("curl")
    assert curl, "curl is needed for this test"
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        token_response = None
        while time.monotonic() < deadline:
            probe = subprocess.run([curl, "-s", f"{base}/__sim__/refresh_token/shop-1"], capture_output=True, text=True)
            if probe.returncode == 0 and probe.stdout:
                refresh = json.loads(probe.stdout)["refresh_token"]
                token_response = subprocess.run(
                    [
                        curl,
                        "-s",
                        "-u",
                        "SimulatorApp-ebaypipe-PRD-00000003:PRD-sim-00000003-secret",
                        "-d",
                        "grant_type=refresh_token",
                        "--data-urlencode",
                        f"refresh_token={refresh}",
                        f"{base}/identity/v1/oauth2/token",
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                break
            time.sleep(0.3)
        assert token_response is not None, "the simulator did not start"
        access = json.loads(token_response.stdout)["access_token"]
        orders = subprocess.run(
            [
                curl,
                "-s",
                "-G",
                "-H",
                f"Authorization: Bearer {access}",
                "-H",
                "X-EBAY-C-MARKETPLACE-ID: EBAY_US",
                "--data-urlencode",
                "filter=lastmodifieddate:[2026-10-30T00:00:00.000Z..2026-10-31T00:00:00.000Z]",
                "--data-urlencode",
                "limit=5",
                f"{base}/sell/fulfillment/v1/order",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        body = json.loads(orders.stdout)
        assert body["limit"] == 5 and body["total"] >= len(body["orders"]) > 0
        assert all(o["orderId"] and o["pricingSummary"]["total"]["currency"] == "USD" for o in body["orders"])
    finally:
        server.terminate()
        server.wait(timeout=30)
