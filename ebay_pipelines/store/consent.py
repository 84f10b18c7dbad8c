"""What a seller's consent leaves in the store: the refresh token, its expiry, the granted scopes, the eBay user."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection, Engine

from ebay_pipelines.ids import validate_account_id
from ebay_pipelines.store.accounts import validate_marketplace
from ebay_pipelines.store.secrets import TokenCipher
from ebay_pipelines.store.tables import ebay_accounts, ebay_sync_state, ebay_tokens


def store_consent(
    engine: Engine,
    cipher: TokenCipher,
    account_id: str,
    *,
    marketplace_id: str,
    refresh_token: str,
    refresh_token_expires_at: datetime | None,
    scopes: Sequence[str],
    username: str | None,
    immutable_user_id: str | None,
) -> None:
    """Register (or re-consent) an account in one transaction and clear its re-authorize state.

    The refresh token is stored encrypted with its expiry and the granted scopes; the cached
    access token, the last refresh error, refused scopes and every family's ``last_error`` are
    cleared, so an account stopped for re-authorization or a missing scope syncs again.
    """
    validate_account_id(account_id)
    validate_marketplace(marketplace_id)
    if not refresh_token:
        raise ValueError("eBay's answer held no refresh token")
    with engine.begin() as conn:
        account = insert(ebay_accounts).values(
            ebay_account_id=account_id,
            ebay_user_id=username,
            ebay_immutable_user_id=immutable_user_id,
            marketplace_id=marketplace_id,
            enabled=True,
        )
        conn.execute(
            account.on_conflict_do_update(
                index_elements=[ebay_accounts.c.ebay_account_id],
                set_={
                    "ebay_user_id": sa.func.coalesce(account.excluded.ebay_user_id, ebay_accounts.c.ebay_user_id),
                    "ebay_immutable_user_id": sa.func.coalesce(
                        account.excluded.ebay_immutable_user_id, ebay_accounts.c.ebay_immutable_user_id
                    ),
                    "marketplace_id": account.excluded.marketplace_id,
                    "enabled": True,
                    "updated_at": sa.func.now(),
                },
            )
        )
        values = {
            "refresh_token_encrypted": cipher.encrypt(refresh_token),
            "refresh_token_expires_at": refresh_token_expires_at,
            "scopes": " ".join(dict.fromkeys(scopes)),
            "scopes_denied": None,
            "access_token_encrypted": None,
            "access_token_expires_at": None,
            "last_refresh_error": None,
        }
        token = insert(ebay_tokens).values(ebay_account_id=account_id, **values)
        conn.execute(
            token.on_conflict_do_update(
                index_elements=[ebay_tokens.c.ebay_account_id], set_={**values, "updated_at": sa.func.now()}
            )
        )
        conn.execute(
            sa.update(ebay_sync_state)
            .where(ebay_sync_state.c.ebay_account_id == account_id)
            .values(last_error=None, updated_at=sa.func.now())
        )


def granted_scopes(conn: Connection, account_id: str) -> tuple[tuple[str, ...] | None, tuple[str, ...]]:
    """The account's granted scopes (None: not known) and the scopes eBay refused to it."""
    row = conn.execute(
        sa.select(ebay_tokens.c.scopes, ebay_tokens.c.scopes_denied).where(ebay_tokens.c.ebay_account_id == account_id)
    ).first()
    if row is None:
        return None, ()
    granted = tuple(row.scopes.split()) if row.scopes is not None else None
    return granted, tuple((row.scopes_denied or "").split())


def record_denied_scopes(engine: Engine, account_id: str, scopes: Sequence[str]) -> None:
    """Remember scopes eBay refused to an account whose grant is not known, so its families skip them."""
    with engine.begin() as conn:
        _, denied = granted_scopes(conn, account_id)
        merged = " ".join(dict.fromkeys([*denied, *scopes]))
        conn.execute(
            sa.update(ebay_tokens)
            .where(ebay_tokens.c.ebay_account_id == account_id)
            .values(scopes_denied=merged or None, updated_at=sa.func.now())
        )


def forget_granted_scopes(engine: Engine, account_id: str) -> None:
    """Mark the account's grant as not known (eBay refused the stored scopes): refreshes then ask for none."""
    with engine.begin() as conn:
        conn.execute(
            sa.update(ebay_tokens)
            .where(ebay_tokens.c.ebay_account_id == account_id)
            .values(scopes=None, access_token_encrypted=None, access_token_expires_at=None, updated_at=sa.func.now())
        )
