"""Run the Alembic migrations shipped in the package (``ebay_pipelines/migrations``) programmatically."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import as_file, files

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

VERSION_TABLE = "ebay_alembic_version"
MIGRATIONS_PACKAGE = "ebay_pipelines"
MIGRATIONS_RESOURCE = "migrations"


@contextmanager
def alembic_config(url: str) -> Iterator[Config]:
    """Yield an Alembic config for the eBay tables at ``url``, its scripts on the file system meanwhile."""
    with as_file(files(MIGRATIONS_PACKAGE) / MIGRATIONS_RESOURCE) as script_location:
        cfg = Config()
        cfg.set_main_option("script_location", str(script_location))
        cfg.attributes["url"] = url
        yield cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (idempotent)."""
    with alembic_config(url) as cfg:
        command.upgrade(cfg, revision)


def downgrade(url: str, revision: str = "base") -> None:
    """Revert migrations down to ``revision``."""
    with alembic_config(url) as cfg:
        command.downgrade(cfg, revision)


def current_revision(url: str) -> str | None:
    """Return the revision the database at ``url`` is on (None before the first migration)."""
    from ebay_pipelines.store.database import make_engine

    engine = make_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str:
    """Return the newest revision shipped with the package."""
    from alembic.script import ScriptDirectory

    with alembic_config("postgresql://unused") as cfg:
        head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head
