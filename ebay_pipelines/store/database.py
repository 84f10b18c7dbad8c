"""Where the databases are and how to connect to them.

The eBay tables live in one database (``EBAY_PIPELINES_DATABASE_URL``, or the ``ebay_pipelines``
database of the embedded server); Dagster's own storage lives in a sibling database on the same
server (``<name>_dagster``, or ``EBAY_PIPELINES_DAGSTER_DATABASE_URL``), so the two never share a
schema or an ``alembic_version`` table.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ebay_pipelines import settings
from ebay_pipelines.store import embedded
from ebay_pipelines.store.urls import database_name, normalize_url, parse_url, redact, with_database

log = logging.getLogger(__name__)

EMBEDDED_EBAY_DATABASE = "ebay_pipelines"
EMBEDDED_DAGSTER_DATABASE = "dagster"


class DatabaseUnavailable(RuntimeError):
    """The configured PostgreSQL cannot be reached or refused the connection."""


@dataclass(frozen=True)
class DatabaseTarget:
    """The two databases this project uses, as psycopg2 SQLAlchemy URLs."""

    ebay_url: str
    dagster_url: str
    embedded_data_dir: Path | None = None

    def describe(self) -> str:
        """Return a one-line, password-free description for logs and CLI output."""
        where = f"embedded server in {self.embedded_data_dir}" if self.embedded_data_dir else "configured server"
        return f"eBay tables: {redact(self.ebay_url)}; Dagster storage: {redact(self.dagster_url)} ({where})"


def resolve_target(start_embedded: bool = True) -> DatabaseTarget:
    """Work out the databases from the environment, starting the embedded server if needed."""
    url = settings.configured_database_url()
    if url:
        ebay_url = normalize_url(url)
        dagster_url = settings.configured_dagster_database_url()
        dagster_url = (
            normalize_url(dagster_url) if dagster_url else with_database(ebay_url, f"{database_name(ebay_url)}_dagster")
        )
        return DatabaseTarget(ebay_url=ebay_url, dagster_url=dagster_url)
    if not start_embedded:
        raise DatabaseUnavailable(f"{settings.DATABASE_URL_ENV} is not set and the embedded server is not allowed here")
    data_dir = embedded.data_dir_under(settings.dagster_home())
    server = embedded.start(data_dir)
    return DatabaseTarget(
        ebay_url=normalize_url(server.url_for(EMBEDDED_EBAY_DATABASE)),
        dagster_url=normalize_url(server.url_for(EMBEDDED_DAGSTER_DATABASE)),
        embedded_data_dir=data_dir,
    )


def _json_default(value: object) -> str:
    if isinstance(value, (Decimal, datetime, date)):
        return value.isoformat() if isinstance(value, (datetime, date)) else str(value)
    raise TypeError(f"cannot store a {type(value).__name__} in a JSON column")


def json_dumps(value: object) -> str:
    """Serialize a JSON column value (Decimals as exact strings, datetimes as ISO 8601)."""
    return json.dumps(value, default=_json_default, ensure_ascii=False, separators=(",", ":"))


def make_engine(url: str, **kwargs) -> Engine:
    """Create an engine on ``url`` with liveness checks, so a restarted server is reconnected.

    The pool holds two connections per account a run syncs at once (a staging connection and the
    page log's), so ``EBAY_PIPELINES_ACCOUNT_THREADS`` threads never wait on each other.
    """
    options: dict = {"pool_pre_ping": True, "json_serializer": json_dumps}
    if "poolclass" not in kwargs:
        options.update(pool_size=5, max_overflow=max(5, 2 * settings.account_threads() - 5 + 1))
    options.update(kwargs)
    return sa.create_engine(normalize_url(url), **options)


@lru_cache(maxsize=16)
def cached_engine(url: str) -> Engine:
    """Return one shared engine per URL for this process."""
    return make_engine(url)


def check_connection(url: str) -> None:
    """Connect once and raise DatabaseUnavailable with a one-line, password-free reason on failure."""
    engine = make_engine(url, poolclass=sa.pool.NullPool, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
    except sa.exc.OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc).splitlines()[0]
        raise DatabaseUnavailable(f"cannot connect to PostgreSQL at {redact(url)}: {reason}") from None
    finally:
        engine.dispose()


def ensure_database(url: str) -> bool:
    """Create the database ``url`` names if it does not exist; return True when it was created."""
    name = database_name(url)
    admin_url = with_database(url, "postgres")
    engine = make_engine(
        admin_url, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
    )
    try:
        with engine.connect() as conn:
            exists = conn.execute(sa.text("select 1 from pg_database where datname = :n"), {"n": name}).first()
            if exists:
                return False
            quoted = conn.dialect.identifier_preparer.quote(name)
            conn.execute(sa.text(f"CREATE DATABASE {quoted}"))
            log.info("created database %s", name)
            return True
    except sa.exc.OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc).splitlines()[0]
        raise DatabaseUnavailable(f"cannot connect to PostgreSQL at {redact(admin_url)}: {reason}") from None
    except sa.exc.ProgrammingError as exc:
        raise DatabaseUnavailable(
            f"database {name!r} does not exist and could not be created at {redact(admin_url)} "
            f"({str(exc.orig).strip().splitlines()[0]}); create it or set the URL to an existing one"
        ) from None
    finally:
        engine.dispose()


def prepare(target: DatabaseTarget) -> None:
    """Make sure both databases exist and answer (clear errors otherwise)."""
    for url in (target.ebay_url, target.dagster_url):
        try:
            check_connection(url)
        except DatabaseUnavailable as exc:
            if "does not exist" not in str(exc):
                raise
            ensure_database(url)
            check_connection(url)


def server_url(url: str) -> str:
    """Return ``url`` with its database set to ``postgres`` (for administrative statements)."""
    return parse_url(url).set(database="postgres").render_as_string(hide_password=False)
