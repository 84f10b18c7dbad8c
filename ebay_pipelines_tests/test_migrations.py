"""Migrations go up, down and up again, and agree with the table definitions."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ebay_pipelines.store import migrate
from ebay_pipelines.store.database import make_engine
from ebay_pipelines.store.tables import metadata
from ebay_pipelines.sync.families import DATA_TABLES

COMPAT_TABLES = {"ebay_sync_state", "ebay_worker_run", "ebay_api_worker_log", "ebay_worker_global_config"}


def _tables(url: str) -> set[str]:
    engine = make_engine(url, poolclass=sa.pool.NullPool)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url)
    tables = _tables(empty_database_url)
    assert set(metadata.tables) <= tables
    assert tables >= COMPAT_TABLES and {"ebay_accounts", "ebay_tokens"} <= tables
    assert "ebay_alembic_version" in tables and "alembic_version" not in tables
    assert migrate.current_revision(empty_database_url) == migrate.head_revision()

    migrate.downgrade(empty_database_url)
    assert _tables(empty_database_url) == {"ebay_alembic_version"}
    assert migrate.current_revision(empty_database_url) is None

    migrate.upgrade(empty_database_url)
    assert set(metadata.tables) <= _tables(empty_database_url)


def test_upgrade_twice_is_harmless(database_url: str) -> None:
    before = migrate.current_revision(database_url)
    migrate.upgrade(database_url)
    assert migrate.current_revision(database_url) == before == migrate.head_revision()


def test_migrations_match_table_definitions(database_url: str) -> None:
    engine = make_engine(database_url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "version_table": migrate.VERSION_TABLE})
        diff = [
            d
            for d in compare_metadata(context, metadata)
            if not (d[0] == "remove_table" and d[1].name == migrate.VERSION_TABLE)
        ]
    engine.dispose()
    assert diff == []


def test_global_kill_switch_row_is_seeded(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("select id, workers_enabled from ebay_worker_global_config")).all()
    assert rows == [(1, True)]


def test_every_data_table_has_the_common_columns() -> None:
    assert len(DATA_TABLES) == 15 and "problem_orders" in metadata.tables
    for table in DATA_TABLES.values():
        names = set(table.c.keys())
        assert {"ebay_account_id", "raw", "source_updated_at", "synced_at"} <= names, table.name
        assert "ebay_account_id" in {c.name for c in table.primary_key.columns}, table.name
        assert len(table.primary_key.columns) >= 2, table.name


def test_second_running_row_is_refused_by_the_database(engine: sa.Engine) -> None:
    insert = sa.text(
        "insert into ebay_worker_run (id, ebay_account_id, api_family, status) values (:id, 'a', 'orders', :s)"
    )
    with engine.begin() as conn:
        conn.execute(insert, {"id": "r1", "s": "running"})
        conn.execute(insert, {"id": "r0", "s": "completed"})
    try:
        with engine.begin() as conn:
            conn.execute(insert, {"id": "r2", "s": "running"})
    except sa.exc.IntegrityError as exc:
        assert "uq_ebay_worker_run_one_running" in str(exc)
    else:  # pragma: no cover - the assertion below reports it
        raise AssertionError("a second running row for the same account and family was accepted")
