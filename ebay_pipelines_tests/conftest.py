"""Shared fixtures: one real PostgreSQL server per test session and a fresh database per test.

The server is ``$EBAY_PIPELINES_TEST_DATABASE_URL`` (an admin URL of any PostgreSQL) when set,
otherwise an embedded server started in a temporary folder. Migrations run once into a template
database; each test gets its own copy (``CREATE DATABASE ... TEMPLATE``), so tests never share rows.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from ebay_pipelines.store import embedded, migrate
from ebay_pipelines.store.database import make_engine
from ebay_pipelines.store.urls import normalize_url, with_database

TEMPLATE_DB = "ebay_pipelines_test_template"

# Each session gets its own root for pytest's temporary folders. pytest resets the shared
# /tmp/pytest-of-<user> to mode 0700 when a session starts, and the embedded server's own user
# (initdb runs as it, on absolute paths) then loses its way into folders another session is
# initializing: a second suite run on the same machine would fail the first one's initdb.
if "PYTEST_DEBUG_TEMPROOT" not in os.environ:
    os.environ["PYTEST_DEBUG_TEMPROOT"] = tempfile.mkdtemp(prefix="ebay-pipelines-tests-")


def _admin(url: str) -> sa.Engine:
    return make_engine(with_database(url, "postgres"), poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")


def create_database(server_url: str, name: str, template: str | None = None) -> str:
    """Create database ``name`` on the server (optionally from a template) and return its URL."""
    engine = _admin(server_url)
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        suffix = f' TEMPLATE "{template}"' if template else ""
        conn.execute(sa.text(f'CREATE DATABASE "{name}"{suffix}'))
    engine.dispose()
    return with_database(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    """Drop database ``name``, closing any connection still open to it."""
    engine = _admin(server_url)
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(scope="session")
def pg_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Admin URL of the session's PostgreSQL server."""
    configured = os.environ.get("EBAY_PIPELINES_TEST_DATABASE_URL")
    if configured:
        yield normalize_url(configured)
        return
    data_dir = Path(tmp_path_factory.mktemp("pg")) / "pgdata"
    server = embedded.start(data_dir)
    yield normalize_url(server.admin_url)
    embedded.stop(data_dir)


@pytest.fixture(scope="session")
def template_database(pg_server_url: str) -> str:
    """Name of a database migrated to head, copied for each test."""
    url = create_database(pg_server_url, TEMPLATE_DB)
    migrate.upgrade(url)
    return TEMPLATE_DB


@pytest.fixture
def database_url(pg_server_url: str, template_database: str) -> Iterator[str]:
    """URL of a fresh, migrated database private to one test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = create_database(pg_server_url, name, template=template_database)
    yield url
    drop_database(pg_server_url, name)
    drop_database(pg_server_url, f"{name}_dagster")


@pytest.fixture
def empty_database_url(pg_server_url: str) -> Iterator[str]:
    """URL of a fresh database with no tables at all."""
    name = f"e_{uuid.uuid4().hex[:12]}"
    url = create_database(pg_server_url, name)
    yield url
    drop_database(pg_server_url, name)


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    """An engine on the test's private database."""
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def project_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> Path:
    """Point the project at the test's database and a private Dagster home; return that home."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("EBAY_PIPELINES_DATABASE_URL", database_url)
    monkeypatch.delenv("EBAY_PIPELINES_DAGSTER_DATABASE_URL", raising=False)
    monkeypatch.setenv("EBAY_PIPELINES_SECRET_KEY", "test-secret-key-for-ebay-pipelines")
    return home


# ------------------------------------------------------------------------------------------
# eBay simulator and Dagster fixtures for end-to-end tests
# ------------------------------------------------------------------------------------------

SIM_NOW = "2026-11-01T12:00:00+00:00"
TEST_SECRET = "test-secret-key-for-ebay-pipelines"
os.environ.setdefault("EBAY_PIPELINES_STEP_RETRIES", "0")
# A test session creates hundreds of Dagster instances and Dagster never closes a pooled storage's
# connections: pooling is tested on its own (test_fleet_runs.py) and off elsewhere.
os.environ.setdefault("EBAY_PIPELINES_DAGSTER_STORAGE_POOL", "off")


@pytest.fixture
def sim():
    """A running eBay simulator with a fixed clock (2026-11-01 12:00 UTC)."""
    from datetime import datetime

    from ebay_pipelines.simulator import EbaySimulator, SimulatorConfig

    simulator = EbaySimulator(SimulatorConfig(seed=11, now=datetime.fromisoformat(SIM_NOW)))
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def ebay_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str, sim) -> str:
    """Point the project at the test database and the simulator; return the database URL."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir(exist_ok=True)
    monkeypatch.setenv("EBAY_PIPELINES_DATABASE_URL", database_url)
    monkeypatch.setenv("EBAY_PIPELINES_SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("EBAY_API_BASE_URL", sim.base_url)
    monkeypatch.setenv("EBAY_CLIENT_ID", sim.client_id)
    monkeypatch.setenv("EBAY_CLIENT_SECRET", sim.client_secret)
    monkeypatch.delenv("EBAY_ENVIRONMENT", raising=False)
    return database_url


@pytest.fixture(scope="session")
def dagster_storage_url(pg_server_url: str) -> str:
    """A PostgreSQL database for Dagster's own storage, shared by the session's test instances."""
    return create_database(pg_server_url, "dagster_test_storage")


@pytest.fixture
def dagster_instance(dagster_storage_url: str, monkeypatch: pytest.MonkeyPatch):
    """A Dagster instance whose runs, events and schedules live in PostgreSQL."""
    import dagster as dg

    dagster_home = os.environ.get("DAGSTER_HOME")
    with dg.instance_for_test(overrides={"storage": {"postgres": {"postgres_url": dagster_storage_url}}}) as instance:
        if dagster_home:
            monkeypatch.setenv("DAGSTER_HOME", dagster_home)
        yield instance
