"""The database-backed store of eBay OAuth tokens (refresh and cached access tokens, encrypted)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ebay_pipelines.store.accounts import UnknownAccount
from ebay_pipelines.store.secrets import TokenCipher
from ebay_pipelines.store.tables import ebay_tokens


class DatabaseTokenStore:
    """Keeps each account's tokens in ``ebay_tokens``, encrypted with the project's secret key."""

    def __init__(self, engine: Engine, cipher: TokenCipher) -> None:
        self._engine = engine
        self._cipher = cipher

    def __repr__(self) -> str:
        return "DatabaseTokenStore(<tokens hidden>)"

    def load_refresh_token(self, account_id: str) -> str:
        """Return the account's refresh token (decrypted) or raise UnknownAccount."""
        with self._engine.connect() as conn:
            value = conn.execute(
                sa.select(ebay_tokens.c.refresh_token_encrypted).where(ebay_tokens.c.ebay_account_id == account_id)
            ).scalar()
        if value is None:
            raise UnknownAccount(account_id)
        return self._cipher.decrypt(value, f"the refresh token of account {account_id}")

    def load_scopes(self, account_id: str) -> tuple[str, ...] | None:
        """The scopes the account granted (None: not known, so a refresh asks for none)."""
        with self._engine.connect() as conn:
            value = conn.execute(
                sa.select(ebay_tokens.c.scopes).where(ebay_tokens.c.ebay_account_id == account_id)
            ).scalar()
        return tuple(value.split()) if value is not None else None

    def load_access_token(self, account_id: str) -> tuple[str, datetime] | None:
        """Return the cached access token and its expiry, or None when there is none."""
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(ebay_tokens.c.access_token_encrypted, ebay_tokens.c.access_token_expires_at).where(
                    ebay_tokens.c.ebay_account_id == account_id
                )
            ).first()
        if row is None or row.access_token_encrypted is None or row.access_token_expires_at is None:
            return None
        token = self._cipher.decrypt(row.access_token_encrypted, f"the access token of account {account_id}")
        return token, row.access_token_expires_at

    def save_access_token(self, account_id: str, token: str, expires_at: datetime) -> None:
        """Cache a fresh access token (encrypted) and clear the last refresh error."""
        with self._engine.begin() as conn:
            conn.execute(
                sa.update(ebay_tokens)
                .where(ebay_tokens.c.ebay_account_id == account_id)
                .values(
                    access_token_encrypted=self._cipher.encrypt(token),
                    access_token_expires_at=expires_at,
                    last_refreshed_at=sa.func.now(),
                    last_refresh_error=None,
                    updated_at=sa.func.now(),
                )
            )

    def record_refresh_error(self, account_id: str, message: str) -> None:
        """Remember why the last refresh failed (the message never holds a token)."""
        with self._engine.begin() as conn:
            conn.execute(
                sa.update(ebay_tokens)
                .where(ebay_tokens.c.ebay_account_id == account_id)
                .values(
                    last_refresh_error=message[:2000],
                    access_token_encrypted=None,
                    access_token_expires_at=None,
                    updated_at=sa.func.now(),
                )
            )


def mark_refresh_token_rejected(engine: Engine, account_id: str, message: str) -> None:
    """Record that eBay rejected the account's refresh token: syncing stops until a new one is stored.

    The refresh token counts as expired from now on (``refresh_token_expires_at``), the cached
    access token is dropped, and ``last_refresh_error`` keeps the (token-free) reason.
    ``accounts.add_account`` with a new refresh token clears all of it.
    """
    with engine.begin() as conn:
        conn.execute(
            sa.update(ebay_tokens)
            .where(ebay_tokens.c.ebay_account_id == account_id)
            .values(
                refresh_token_expires_at=sa.func.now(),
                last_refresh_error=message[:2000],
                access_token_encrypted=None,
                access_token_expires_at=None,
                updated_at=sa.func.now(),
            )
        )


def reauthorization_reason(conn: Connection, account_id: str) -> str | None:
    """Why the account must re-authorize before syncing again (its refresh token expired or was rejected), else None."""
    row = conn.execute(
        sa.select(ebay_tokens.c.refresh_token_expires_at, ebay_tokens.c.last_refresh_error).where(
            ebay_tokens.c.ebay_account_id == account_id,
            ebay_tokens.c.refresh_token_expires_at <= sa.func.now(),
        )
    ).first()
    if row is None:
        return None
    expired = row.refresh_token_expires_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    reason = row.last_refresh_error or f"its refresh token expired on {expired}"
    return (
        f"account {account_id} must re-authorize ({reason}); no eBay call is made for it until the seller "
        f"consents again with `ebay-pipelines accounts connect {account_id}`"
    )
