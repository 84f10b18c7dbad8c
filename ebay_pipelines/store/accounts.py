"""Accounts, their encrypted refresh tokens, and the global worker switch."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection, Engine

from ebay_pipelines.ids import validate_account_id
from ebay_pipelines.store.secrets import TokenCipher
from ebay_pipelines.store.tables import ebay_accounts, ebay_tokens, ebay_worker_global_config

MARKETPLACE_PATTERN = re.compile(r"EBAY_[A-Z]{2,5}")


class UnknownAccount(LookupError):
    """The account id is not registered."""

    def __init__(self, account_id: str) -> None:
        super().__init__(f"unknown account {account_id!r}: add it with `ebay-pipelines accounts add`")
        self.account_id = account_id


@dataclass(frozen=True)
class Account:
    """One registered eBay account."""

    account_id: str
    ebay_user_id: str | None
    marketplace_id: str
    enabled: bool
    created_at: datetime
    has_token: bool
    #: Finances calls are signed whatever the marketplace (``accounts add --signing``).
    signing_required: bool = False
    #: The OAuth scopes the seller granted (None: not known, e.g. added with ``--refresh-token``).
    scopes: tuple[str, ...] | None = None
    #: When the refresh token expires (None: not known).
    refresh_token_expires_at: datetime | None = None
    #: eBay's immutable user id (Identity getUser ``userId``), once connected.
    ebay_immutable_user_id: str | None = None


def validate_marketplace(marketplace_id: str) -> str:
    """Return ``marketplace_id`` if it looks like eBay's (``EBAY_US``, ``EBAY_GB``...), else raise."""
    if not MARKETPLACE_PATTERN.fullmatch(marketplace_id):
        raise ValueError(f"invalid marketplace {marketplace_id!r}: expected an eBay id such as EBAY_US or EBAY_GB")
    return marketplace_id


def add_account(
    engine: Engine,
    cipher: TokenCipher,
    account_id: str,
    refresh_token: str,
    ebay_user_id: str | None = None,
    marketplace_id: str = "EBAY_US",
    signing: bool | None = None,
) -> None:
    """Register (or re-enable and update) an account and store its refresh token encrypted.

    ``signing=True`` makes the account sign its Finances calls whatever its marketplace (None keeps it as is).
    """
    validate_account_id(account_id)
    validate_marketplace(marketplace_id)
    if not refresh_token or not refresh_token.strip():
        raise ValueError("the refresh token must not be empty")
    with engine.begin() as conn:
        stmt = insert(ebay_accounts).values(
            ebay_account_id=account_id,
            ebay_user_id=ebay_user_id,
            marketplace_id=marketplace_id,
            enabled=True,
            **({} if signing is None else {"signing_required": signing}),
        )
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[ebay_accounts.c.ebay_account_id],
                set_={
                    "ebay_user_id": sa.func.coalesce(stmt.excluded.ebay_user_id, ebay_accounts.c.ebay_user_id),
                    "marketplace_id": stmt.excluded.marketplace_id,
                    **({} if signing is None else {"signing_required": signing}),
                    "enabled": True,
                    "updated_at": sa.func.now(),
                },
            )
        )
        token_stmt = insert(ebay_tokens).values(
            ebay_account_id=account_id, refresh_token_encrypted=cipher.encrypt(refresh_token.strip())
        )
        conn.execute(
            token_stmt.on_conflict_do_update(
                index_elements=[ebay_tokens.c.ebay_account_id],
                set_={
                    "refresh_token_encrypted": token_stmt.excluded.refresh_token_encrypted,
                    "refresh_token_expires_at": None,
                    # A token made elsewhere: what it grants is not known until eBay says so.
                    "scopes": None,
                    "scopes_denied": None,
                    "access_token_encrypted": None,
                    "access_token_expires_at": None,
                    "last_refresh_error": None,
                    "updated_at": sa.func.now(),
                },
            )
        )


def list_accounts(conn: Connection, enabled_only: bool = False) -> list[Account]:
    """Return registered accounts ordered by id."""
    query = (
        sa.select(
            ebay_accounts,
            ebay_tokens.c.refresh_token_encrypted.is_not(None).label("has_token"),
            ebay_tokens.c.scopes,
            ebay_tokens.c.refresh_token_expires_at,
        )
        .select_from(ebay_accounts.outerjoin(ebay_tokens))
        .order_by(ebay_accounts.c.ebay_account_id)
    )
    if enabled_only:
        query = query.where(ebay_accounts.c.enabled.is_(True))
    return [
        Account(
            account_id=row.ebay_account_id,
            ebay_user_id=row.ebay_user_id,
            marketplace_id=row.marketplace_id,
            enabled=row.enabled,
            created_at=row.created_at,
            has_token=bool(row.has_token),
            signing_required=bool(row.signing_required),
            scopes=tuple(row.scopes.split()) if row.scopes is not None else None,
            refresh_token_expires_at=row.refresh_token_expires_at,
            ebay_immutable_user_id=row.ebay_immutable_user_id,
        )
        for row in conn.execute(query)
    ]


def get_account(conn: Connection, account_id: str) -> Account:
    """Return one account or raise UnknownAccount."""
    validate_account_id(account_id)
    for account in list_accounts(conn):
        if account.account_id == account_id:
            return account
    raise UnknownAccount(account_id)


def set_account_enabled(engine: Engine, account_id: str, enabled: bool) -> None:
    """Enable or disable an account; raise UnknownAccount if it is not registered."""
    validate_account_id(account_id)
    with engine.begin() as conn:
        result = conn.execute(
            sa.update(ebay_accounts)
            .where(ebay_accounts.c.ebay_account_id == account_id)
            .values(enabled=enabled, updated_at=sa.func.now())
        )
        if result.rowcount == 0:
            raise UnknownAccount(account_id)


def workers_enabled(conn: Connection) -> bool:
    """Return the global kill switch (``ebay_worker_global_config.workers_enabled``)."""
    value = conn.execute(
        sa.select(ebay_worker_global_config.c.workers_enabled).where(ebay_worker_global_config.c.id == 1)
    ).scalar()
    return True if value is None else bool(value)


def set_workers_enabled(engine: Engine, enabled: bool) -> None:
    """Flip the global kill switch."""
    with engine.begin() as conn:
        stmt = insert(ebay_worker_global_config).values(id=1, workers_enabled=enabled)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[ebay_worker_global_config.c.id],
                set_={"workers_enabled": enabled, "updated_at": sa.func.now()},
            )
        )
