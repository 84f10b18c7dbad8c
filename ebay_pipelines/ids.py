"""Validation of account ids, the keys of the ``ebay_accounts`` dynamic partitions."""

from __future__ import annotations

import re

ACCOUNT_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")


class InvalidAccountId(ValueError):
    """An account id that cannot be used as a partition key or table key."""


def is_valid_account_id(account_id: object) -> bool:
    """Whether ``account_id`` is a string of 1-64 characters from ``A-Z a-z 0-9 _ -``."""
    return isinstance(account_id, str) and ACCOUNT_ID_PATTERN.fullmatch(account_id) is not None


def validate_account_id(account_id: str) -> str:
    """Return ``account_id`` unchanged if it matches ``[A-Za-z0-9_-]{1,64}``, else raise.

    Pipes and commas break Dagster's multi-partition keys and spaces or quotes have no place in
    an identifier, so anything outside that set is refused before any API call or SQL.
    """
    if not is_valid_account_id(account_id):
        raise InvalidAccountId(
            f"invalid account id {account_id!r}: use 1-64 characters from A-Z, a-z, 0-9, '_' and '-'"
        )
    return account_id
