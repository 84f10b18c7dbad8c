"""Dagster's own storage lives in PostgreSQL, the code location validates, and `dev` serves the UI."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import sqlalchemy as sa
from dagster import DagsterInstance
from dev_processes import DevProcess, assert_clean_stop, dev_env

from ebay_pipelines.cli import install_instance_config
from ebay_pipelines.store.database import make_engine

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _table_names(url: str) -> set[str]:
    engine = make_engine(url, poolclass=sa.pool.NullPool)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _dagster_env(home: Path, dagster_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DAGSTER_HOME"] = str(home)
    env["EBAY_PIPELINES_DAGSTER_PG_URL"] = dagster_url
    return env


def test_instance_storage_is_postgres(tmp_path: Path, database_url: str, pg_server_url: str, monkeypatch) -> None:
    from tests_support import create_dagster_database

    dagster_url = create_dagster_database(pg_server_url, database_url)
    home = tmp_path / "home"
    install_instance_config(home)
    monkeypatch.setenv("EBAY_PIPELINES_DAGSTER_PG_URL", dagster_url)
    instance = DagsterInstance.from_config(str(home))
    try:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert instance.get_runs() == []
    finally:
        instance.dispose()
    dagster_tables = _table_names(dagster_url)
    assert {"runs", "event_logs", "alembic_version"} <= dagster_tables
    ebay_tables = _table_names(database_url)
    assert "runs" not in ebay_tables and "alembic_version" not in ebay_tables


def test_definitions_validate(tmp_path: Path, database_url: str, pg_server_url: str) -> None:
    from tests_support import create_dagster_database

    dagster_url = create_dagster_database(pg_server_url, database_url)
    home = tmp_path / "home"
    install_instance_config(home)
    env = _dagster_env(home, dagster_url)
    env["EBAY_PIPELINES_DATABASE_URL"] = database_url
    out = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", str(PROJECT_ROOT / "workspace.yaml")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "All code locations passed validation" in out.stderr + out.stdout


def test_dev_serves_the_ui_with_postgres_storage(tmp_path: Path) -> None:
    """`ebay-pipelines dev` on a fresh home: embedded database, webserver + daemon, GraphQL answers, clean stop."""
    port = _free_port()
    home = tmp_path / "h"
    dev = DevProcess(
        ["--port", str(port)],
        dev_env(home, drop_prefixes=("EBAY_PIPELINES_",)),
        tmp_path / "dev.log",
        background_job=False,
    )
    try:
        answer = dev.wait_until_serving(port)
        assert dev.poll() is None, dev.log_tail(3000)
        assert answer is not None and answer["version"], dev.log_tail(3000)
        assert answer["workspaceOrError"]["locationEntries"][0]["name"] == "ebay_pipelines"
        assert answer["workspaceOrError"]["locationEntries"][0]["loadStatus"] == "LOADED"
        # The UI listens on the loopback interface only.
        listeners = {c.laddr.ip for c in psutil.net_connections("tcp") if c.status == "LISTEN" and c.laddr.port == port}
        assert listeners == {"127.0.0.1"}
        assert (home / "dagster.yaml").exists()
        pgdata = home / "embedded-postgres" / "pgdata"
        from ebay_pipelines.store import embedded

        server = embedded.EmbeddedServer(pgdata, None, _admin_url(pgdata))
        assert "runs" in _table_names(server.url_for("dagster"))
        assert "ebay_orders" in _table_names(server.url_for("ebay_pipelines"))

        # SIGTERM stops dev, everything it started and the embedded server, in order, with exit code 0.
        assert_clean_stop(dev.stop(signal.SIGTERM), dev)
    finally:
        dev.kill()
    assert not (home / "embedded-postgres" / "pgdata" / "postmaster.pid").exists(), "embedded server left running"


def _admin_url(pgdata: Path) -> str:
    lines = (pgdata / "postmaster.pid").read_text().splitlines()
    socket_dir = lines[4].strip()
    return f"postgresql+psycopg2://postgres:@/postgres?host={socket_dir}"
