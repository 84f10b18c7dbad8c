"""Fixtures of the reliability suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ebay_pipelines.defs.partitions import ACCOUNTS_PARTITION


@pytest.fixture(autouse=True)
def _forget_added_account_partitions(request: pytest.FixtureRequest) -> Iterator[None]:
    """Remove the account partitions a test added to the session's shared Dagster storage."""
    if "dagster_instance" not in request.fixturenames:
        yield
        return
    instance = request.getfixturevalue("dagster_instance")
    before = set(instance.get_dynamic_partitions(ACCOUNTS_PARTITION))
    yield
    for key in set(instance.get_dynamic_partitions(ACCOUNTS_PARTITION)) - before:
        instance.delete_dynamic_partition(ACCOUNTS_PARTITION, key)
