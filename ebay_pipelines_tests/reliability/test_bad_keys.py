"""Account ids and partition keys with pipes, commas, spaces, quotes or SQL are refused up front.

Refused means: a ValueError naming the bad value, raised before any call to eBay and before any
SQL statement reaches the eBay database, whether the value comes through the store, the sync layer,
run requests, or a Dagster run of a partition someone added by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
import sqlalchemy as sa

from ebay_pipelines.defs.partitions import ACCOUNTS_PARTITION, InvalidPartitionKey, parse_partition_key, window_key
from ebay_pipelines.defs.requests import family_run_request
from ebay_pipelines.ids import InvalidAccountId
from ebay_pipelines.store.accounts import add_account, set_account_enabled
from ebay_pipelines.store.database import cached_engine
from ebay_pipelines.store.secrets import load_cipher
from ebay_pipelines.sync import partition_sync
from ebay_pipelines.sync.families import FAMILIES_BY_NAME

from .support import failure_text, retrying_definitions, step_retries

DAY = date(2026, 10, 30)
BAD_IDS = [
    "a|b",
    "a,b",
    "with space",
    "x'; drop table ebay_accounts; --",
    "",
    "a" * 65,
    "nul\x00",
    "ünïcode",
    "tab\there",
    "semi;colon",
    'quote"d',
]
# bad partition key -> the value the error names
BAD_KEYS = {
    "a|b|2026-10-30": "a|b|2026-10-30",
    "ok|2026-13-01": "ok|2026-13-01",
    "ok|": "ok|",
    "ok|tomorrow": "ok|tomorrow",
    "|2026-10-30": "",
    "a,b|2026-10-30": "a,b",
}


@contextmanager
def no_sql(engine: sa.Engine) -> Iterator[list[str]]:
    """Collect every statement sent on ``engine`` while the block runs."""
    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def test_bad_account_ids_are_refused_before_any_call_or_sql(ebay_env: str, sim, engine: sa.Engine) -> None:
    cipher = load_cipher()
    orders, inventory = FAMILIES_BY_NAME["orders"], FAMILIES_BY_NAME["inventory"]
    for bad in BAD_IDS:
        with no_sql(engine) as statements:
            for attempt in (
                lambda: add_account(engine, cipher, bad, "some-refresh-token"),
                lambda: set_account_enabled(engine, bad, False),
                lambda: partition_sync.begin(engine, orders, bad, DAY, partition_key=f"{bad}|{DAY}"),
                lambda: partition_sync.begin(engine, inventory, bad, None, partition_key=bad),
                lambda: window_key(bad, DAY),
                lambda: family_run_request(orders, bad, DAY, None, "manual"),
                lambda: family_run_request(inventory, bad, None, None, "manual"),
                lambda: parse_partition_key(bad),
            ):
                with pytest.raises(ValueError) as refused:
                    attempt()
                assert isinstance(refused.value, (InvalidAccountId, InvalidPartitionKey)), refused.value
                assert repr(bad)[1:-1][:20] in str(refused.value) or bad == ""
        assert statements == [], (bad, statements)
    assert sum(sim.calls.values()) == 0
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from ebay_accounts")).scalar() == 0


def test_bad_partition_keys_are_refused_with_the_key_named() -> None:
    for key, named in BAD_KEYS.items():
        with pytest.raises(ValueError) as refused:
            parse_partition_key(key)
        assert isinstance(refused.value, (InvalidAccountId, InvalidPartitionKey))
        assert repr(named) in str(refused.value)


@pytest.mark.parametrize(("family", "bad"), [("orders", "bad shop"), ("inventory", "x';drop table ebay_orders;--")])
def test_a_dagster_run_of_a_bad_partition_fails_before_eBay_or_sql(
    family: str, bad: str, ebay_env: str, sim, dagster_instance
) -> None:
    # Dagster itself accepts such dynamic partition keys; the asset must not.
    dagster_instance.add_dynamic_partitions(ACCOUNTS_PARTITION, [bad])
    defs = retrying_definitions(ebay_env, max_retries=3, delay=0.01)
    spec = FAMILIES_BY_NAME[family]
    key = f"{bad}|{DAY}" if spec.windowed else bad
    with no_sql(cached_engine(ebay_env)) as statements:
        result = defs.resolve_job_def(f"sync_{family}_job").execute_in_process(
            instance=dagster_instance, partition_key=key, raise_on_error=False
        )
    assert not result.success and step_retries(result) == 0
    assert f"invalid account id {bad!r}" in failure_text(result)
    assert statements == []
    assert sum(sim.calls.values()) == 0
