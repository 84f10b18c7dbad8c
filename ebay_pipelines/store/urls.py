"""One place that normalizes and redacts PostgreSQL URLs.

SQLAlchemy 2.1 maps a bare ``postgresql://`` URL to psycopg 3, which this project does not
install; every URL is therefore pinned to the psycopg2 driver here.
"""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

DRIVER = "postgresql+psycopg2"


class InvalidDatabaseUrl(ValueError):
    """A database URL that is not a PostgreSQL URL."""


def parse_url(url: str | URL) -> URL:
    """Parse ``url`` into a SQLAlchemy URL on the psycopg2 driver, or raise InvalidDatabaseUrl."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError as exc:
        raise InvalidDatabaseUrl(f"not a database URL: {redact(str(url))}") from exc
    if parsed.get_backend_name() not in ("postgresql", "postgres"):
        raise InvalidDatabaseUrl(f"not a PostgreSQL URL: {redact(parsed)}")
    return parsed.set(drivername=DRIVER)


def normalize_url(url: str | URL) -> str:
    """Return ``url`` as a string on the psycopg2 driver, password kept (for connecting only)."""
    return parse_url(url).render_as_string(hide_password=False)


def with_database(url: str | URL, database: str) -> str:
    """Return ``url`` pointing at another database on the same server."""
    return parse_url(url).set(database=database).render_as_string(hide_password=False)


def database_name(url: str | URL) -> str:
    """Return the database name of ``url`` (``postgres`` when the URL names none)."""
    return parse_url(url).database or "postgres"


def redact(url: str | URL) -> str:
    """Return ``url`` with its password masked, safe for logs and error messages."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
        return parsed.render_as_string(hide_password=True)
    except Exception:
        text = str(url)
        if "@" in text and "://" in text:
            scheme, rest = text.split("://", 1)
            return f"{scheme}://***@{rest.split('@', 1)[1]}"
        return text
