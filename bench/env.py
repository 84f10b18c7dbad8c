"""The world a benchmark runs in: a simulator process, a PostgreSQL server, fresh databases.

The simulator runs in its own process (so its CPU work never shares the measured process's
interpreter lock); an in-process twin with the same config (never started) answers "what is the
truth" questions. PostgreSQL is ``$EBAY_PIPELINES_TEST_DATABASE_URL`` when set, otherwise an
embedded server in a temporary folder. Every benchmark gets a freshly migrated database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

from ebay_pipelines.simulator import EbaySimulator, SimulatorConfig
from ebay_pipelines.store import embedded, migrate
from ebay_pipelines.store.database import make_engine
from ebay_pipelines.store.urls import normalize_url, with_database

ROOT = Path(__file__).resolve().parents[1]
CLIENT_ID = "bench-client-id"
CLIENT_SECRET = "bench-client-secret"
SECRET_KEY = "bench-secret-key-for-ebay-pipelines"
ACCOUNT = "bench-acct"


def pinned_now() -> datetime:
    """The wall clock to the minute: the simulator's fixed now, so 'today' is today for both sides."""
    return datetime.now(UTC).replace(second=0, microsecond=0)


@dataclass
class Simulator:
    """A simulator serving from a child process, plus its in-process twin for the truth."""

    config: SimulatorConfig
    process: subprocess.Popen
    base_url: str
    _mutations: list[tuple[str, float, datetime | None]] = field(default_factory=list)

    @cached_property
    def twin(self) -> EbaySimulator:
        """An identical simulator (not serving) whose ``truth`` matches what the server answers."""
        twin = EbaySimulator(self.config)
        for account, fraction, at in self._mutations:
            twin.modify_orders(account, fraction, at)
        return twin

    def refresh_token(self, account: str) -> str:
        """The refresh token the server accepts for ``account``."""
        return requests.get(f"{self.base_url}/__sim__/refresh_token/{account}", timeout=30).json()["refresh_token"]

    def calls(self) -> Counter:
        """Calls served so far, by (account, endpoint)."""
        body = requests.get(f"{self.base_url}/__sim__/calls", timeout=30).json()
        return Counter({(c["account"], c["endpoint"]): c["count"] for c in body["calls"]})

    def reset_calls(self) -> None:
        """Forget the call counts."""
        requests.delete(f"{self.base_url}/__sim__/calls", timeout=30)

    def modify_orders(self, account: str, fraction: float, at: datetime | None = None) -> None:
        """Change about ``fraction`` of the account's orders (on the server and in the twin)."""
        body: dict[str, Any] = {"account": account, "fraction": fraction}
        if at is not None:
            body["at"] = at.isoformat()
        requests.post(f"{self.base_url}/__sim__/modify_orders", json=body, timeout=30).raise_for_status()
        self._mutations.append((account, fraction, at))
        if "twin" in self.__dict__:
            self.twin.modify_orders(account, fraction, at)

    def stop(self) -> None:
        """Stop the server process."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_simulator(**options: Any) -> Simulator:
    """Start a simulator process with ``SimulatorConfig(**options)`` (client keys fixed)."""
    options = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "seed": 7, **options}
    config = SimulatorConfig(**options)
    wire = {k: v for k, v in asdict(config).items() if k not in ("host",)}
    wire["now"] = config.now.isoformat() if config.now else None
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.simproc", json.dumps(wire)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if "listening on" not in line:
        process.kill()
        raise RuntimeError(f"the simulator did not start: {line!r}")
    base_url = line.split("listening on ", 1)[1].split()[0]
    return Simulator(config=config, process=process, base_url=base_url)


@dataclass
class Postgres:
    """A PostgreSQL server the benchmarks may create databases on."""

    admin_url: str
    data_dir: Path | None = None

    def _admin(self) -> sa.Engine:
        return make_engine(
            with_database(self.admin_url, "postgres"), poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT"
        )

    def create_database(self, prefix: str, migrated: bool = True) -> str:
        """Create a fresh database (migrated to head unless told otherwise) and return its URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        engine = self._admin()
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        url = with_database(self.admin_url, name)
        if migrated:
            migrate.upgrade(url)
        return url

    def checkpoint(self) -> None:
        """Write out what earlier work left dirty, so the next measurement does not pay for it."""
        engine = self._admin()
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("CHECKPOINT"))
        except sa.exc.DBAPIError as exc:  # a configured server may not let this user
            print(f"  no checkpoint between measurements: {str(exc.orig).strip().splitlines()[0]}")
        finally:
            engine.dispose()

    def drop_database(self, url: str) -> None:
        """Drop a database created by :meth:`create_database`."""
        name = sa.engine.make_url(url).database
        engine = self._admin()
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@contextmanager
def postgres_server() -> Iterator[Postgres]:
    """``$EBAY_PIPELINES_TEST_DATABASE_URL`` when set, else an embedded server in a temporary folder."""
    configured = os.environ.get("EBAY_PIPELINES_TEST_DATABASE_URL")
    if configured:
        yield Postgres(normalize_url(configured))
        return
    with tempfile.TemporaryDirectory(prefix="ebay-bench-pg-") as tmp:
        data_dir = Path(tmp) / "pgdata"
        server = embedded.start(data_dir)
        try:
            yield Postgres(normalize_url(server.admin_url), data_dir)
        finally:
            embedded.stop(data_dir)


def project_environment(database_url: str, sim: Simulator, dagster_home: Path) -> dict[str, str]:
    """Environment variables pointing the project at ``database_url`` and the simulator."""
    return {
        "EBAY_PIPELINES_DATABASE_URL": database_url,
        "EBAY_API_BASE_URL": sim.base_url,
        "EBAY_CLIENT_ID": CLIENT_ID,
        "EBAY_CLIENT_SECRET": CLIENT_SECRET,
        "EBAY_PIPELINES_SECRET_KEY": SECRET_KEY,
        "EBAY_PIPELINES_STEP_RETRIES": "0",
        "DAGSTER_HOME": str(dagster_home),
    }


@contextmanager
def patched_environ(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of a block."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def register_account(engine: sa.Engine, sim: Simulator, account_id: str = ACCOUNT) -> None:
    """Register ``account_id`` with the simulator's refresh token (needs the secret key set)."""
    from ebay_pipelines.store.accounts import add_account
    from ebay_pipelines.store.secrets import load_cipher

    add_account(engine, load_cipher(), account_id, sim.refresh_token(account_id))


def table_count(engine: sa.Engine, table: str, account_id: str | None = None) -> int:
    """Rows of ``table`` (of one account when given)."""
    query = f'select count(*) from "{table}"' + (" where ebay_account_id = :a" if account_id else "")
    with engine.connect() as conn:
        return int(conn.execute(sa.text(query), {"a": account_id}).scalar() or 0)
