"""One role of a split deployment: the code server, the webserver or the daemon, each its own process.

Production runs the three apart (on one machine or several): the code server loads the definitions
and launches each run's worker process, the webserver and the daemon reach it over gRPC and share
Dagster's storage in PostgreSQL. ``ebay-pipelines serve ROLE`` prepares what the role needs (the
packaged instance configuration in ``$DAGSTER_HOME``, a gRPC workspace, Dagster's tables) and then
replaces itself with the Dagster process, so a supervisor's signals reach Dagster directly.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from ebay_pipelines import settings
from ebay_pipelines.instance import DEFINITIONS_MODULE, LOCATION_NAME, install_grpc_workspace, install_instance_config
from ebay_pipelines.store import migrate
from ebay_pipelines.store.database import DatabaseTarget, make_engine, prepare, resolve_target

CODE_SERVER = "code-server"
WEBSERVER = "webserver"
DAEMON = "daemon"
ROLES = (CODE_SERVER, WEBSERVER, DAEMON)
DEFAULT_CODE_SERVER_PORT = 4000
DEFAULT_WEBSERVER_PORT = 3000
#: Key of the PostgreSQL advisory lock held while Dagster creates its tables ("ebaydgst").
_STORAGE_LOCK_KEY = 0x6562617964677374


@dataclass(frozen=True)
class Address:
    """A host and port, as given on the command line (``HOST:PORT``)."""

    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> Address:
        """Read ``HOST:PORT``; a clear error otherwise."""
        host, sep, port = text.strip().rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"expected HOST:PORT (e.g. 127.0.0.1:{DEFAULT_CODE_SERVER_PORT}), not {text!r}")
        return cls(host.strip("[]"), int(port))


def production_target() -> DatabaseTarget:
    """The configured databases; a split deployment never starts the embedded server."""
    if not settings.configured_database_url():
        raise ValueError(
            f"serve needs {settings.DATABASE_URL_ENV}: a split deployment shares one PostgreSQL "
            "(the embedded server is for `ebay-pipelines dev`)"
        )
    target = resolve_target(start_embedded=False)
    prepare(target)
    return target


def check_migrated(target: DatabaseTarget) -> None:
    """Refuse to serve code the eBay tables are not migrated for."""
    current, head = migrate.current_revision(target.ebay_url), migrate.head_revision()
    if current != head:
        raise ValueError(
            f"the eBay tables are at revision {current or 'none'}, this package needs {head}: "
            "run `ebay-pipelines migrate` first"
        )


def create_dagster_storage(target: DatabaseTarget, home: Path) -> None:
    """Create Dagster's tables once, under an advisory lock, so roles started together never race."""
    from dagster import DagsterInstance

    engine = make_engine(target.dagster_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select pg_advisory_lock(:key)"), {"key": _STORAGE_LOCK_KEY})
            try:
                instance = DagsterInstance.from_ref(_instance_ref(home, target))
                instance.dispose()
            finally:
                conn.execute(sa.text("select pg_advisory_unlock(:key)"), {"key": _STORAGE_LOCK_KEY})
    finally:
        engine.dispose()


def _instance_ref(home: Path, target: DatabaseTarget):
    from dagster._core.instance.ref import InstanceRef

    return InstanceRef.from_dir(str(home), overrides={"storage": {"postgres": {"postgres_url": target.dagster_url}}})


def environment(target: DatabaseTarget, home: Path, base: Mapping[str, str]) -> dict[str, str]:
    """The role's environment: ``base`` plus the Dagster home, both databases and event batching."""
    env = settings.with_dagster_event_batching(base)
    env["DAGSTER_HOME"] = str(home)
    env[settings.DATABASE_URL_ENV] = target.ebay_url
    env[settings.DAGSTER_PG_URL_ENV] = target.dagster_url
    return env


def command(role: str, home: Path, listen: Address, code_server: Address) -> list[str]:
    """The Dagster command of ``role``; the webserver and the daemon get a workspace naming ``code_server``."""
    python = [sys.executable, "-m"]
    if role == CODE_SERVER:
        # Runs start as `<this python> -m dagster api execute_run`, whatever PATH holds, and the
        # definitions come from the installed package, never from the folder the server runs in.
        return [
            *python,
            "dagster",
            "api",
            "grpc",
            "-m",
            DEFINITIONS_MODULE,
            "--location-name",
            LOCATION_NAME,
            "-h",
            listen.host,
            "-p",
            str(listen.port),
            "--use-python-environment-entry-point",
            "--empty-working-directory",
        ]
    workspace = str(install_grpc_workspace(home, code_server.host, code_server.port))
    if role == WEBSERVER:
        return [*python, "dagster_webserver", "-h", listen.host, "-p", str(listen.port), "-w", workspace]
    if role == DAEMON:
        return [*python, "dagster._daemon", "run", "-w", workspace]
    raise ValueError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")


def prepare_role(role: str, listen: Address, code_server: Address, base: Mapping[str, str]) -> tuple[list[str], dict]:
    """Check the databases, install the instance configuration and return the role's command and environment."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    target = production_target()
    if role == CODE_SERVER:
        check_migrated(target)
    home = settings.dagster_home()
    install_instance_config(home)
    create_dagster_storage(target, home)
    return command(role, home, listen, code_server), environment(target, home, base)
