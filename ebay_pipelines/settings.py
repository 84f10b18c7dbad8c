"""Project-wide settings read from the environment (eBay API settings live in ``ebay.config``)."""

from __future__ import annotations

import os
from pathlib import Path

DATABASE_URL_ENV = "EBAY_PIPELINES_DATABASE_URL"
DAGSTER_DATABASE_URL_ENV = "EBAY_PIPELINES_DAGSTER_DATABASE_URL"
DAGSTER_PG_URL_ENV = "EBAY_PIPELINES_DAGSTER_PG_URL"
SECRET_KEY_ENV = "EBAY_PIPELINES_SECRET_KEY"
DEFAULT_HOME = Path.home() / ".ebay-pipelines" / "dagster_home"


def dagster_home() -> Path:
    """Return the Dagster home folder (``$DAGSTER_HOME``, else ``~/.ebay-pipelines/dagster_home``)."""
    value = os.environ.get("DAGSTER_HOME")
    return Path(value).expanduser().resolve() if value else DEFAULT_HOME


def configured_database_url() -> str | None:
    """Return ``$EBAY_PIPELINES_DATABASE_URL`` or None when the embedded server should be used."""
    value = os.environ.get(DATABASE_URL_ENV, "").strip()
    return value or None


def configured_dagster_database_url() -> str | None:
    """Return ``$EBAY_PIPELINES_DAGSTER_DATABASE_URL`` (Dagster's own storage) or None."""
    value = os.environ.get(DAGSTER_DATABASE_URL_ENV, "").strip()
    return value or None
