"""Each account's digital-signature key in ``ebay_tokens``: the private key encrypted, its JWE, id and expiry.

The private key is kept as a Fernet ciphertext (the cipher of the refresh tokens); the database
never holds it in clear. The JWE is the public key eBay encrypted, sent in clear on every signed
call, so it is stored as text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ebay_pipelines.ids import validate_account_id
from ebay_pipelines.store.accounts import UnknownAccount
from ebay_pipelines.store.secrets import TokenCipher
from ebay_pipelines.store.tables import ebay_accounts, ebay_tokens


@dataclass(frozen=True)
class StoredSigningKey:
    """A decrypted signing key of one account (private key and JWE hidden from ``repr``)."""

    account_id: str
    private_key: str = field(repr=False)
    jwe: str = field(repr=False)
    signing_key_id: str | None
    expires_at: datetime | None


def save_signing_key(
    conn: Connection,
    cipher: TokenCipher,
    account_id: str,
    private_key: str,
    jwe: str,
    signing_key_id: str | None,
    expires_at: datetime | None,
) -> None:
    """Store (or replace) the account's signing key; UnknownAccount when it has no ``ebay_tokens`` row."""
    validate_account_id(account_id)
    result = conn.execute(
        sa.update(ebay_tokens)
        .where(ebay_tokens.c.ebay_account_id == account_id)
        .values(
            signing_key_encrypted=cipher.encrypt(private_key),
            signing_key_jwe=jwe,
            signing_key_id=signing_key_id,
            signing_key_expires_at=expires_at,
            updated_at=sa.func.now(),
        )
    )
    if result.rowcount == 0:
        raise UnknownAccount(account_id)


def load_signing_key(conn: Connection, cipher: TokenCipher, account_id: str) -> StoredSigningKey | None:
    """The account's signing key, decrypted, or None when it has none."""
    row = conn.execute(
        sa.select(
            ebay_tokens.c.signing_key_encrypted,
            ebay_tokens.c.signing_key_jwe,
            ebay_tokens.c.signing_key_id,
            ebay_tokens.c.signing_key_expires_at,
        ).where(ebay_tokens.c.ebay_account_id == account_id)
    ).first()
    if row is None or row.signing_key_encrypted is None or not row.signing_key_jwe:
        return None
    private_key = cipher.decrypt(row.signing_key_encrypted, f"the signing key of account {account_id}")
    return StoredSigningKey(
        account_id, private_key, row.signing_key_jwe, row.signing_key_id, row.signing_key_expires_at
    )


def lock_signing_key(conn: Connection, account_id: str) -> None:
    """Hold the account's ``ebay_tokens`` row until ``conn``'s transaction ends (one key creation at a time)."""
    conn.execute(
        sa.select(ebay_tokens.c.ebay_account_id).where(ebay_tokens.c.ebay_account_id == account_id).with_for_update()
    )


def set_signing_required(engine: Engine, account_id: str, required: bool) -> None:
    """Make the account sign its Finances calls whatever its marketplace (or stop forcing it)."""
    validate_account_id(account_id)
    with engine.begin() as conn:
        result = conn.execute(
            sa.update(ebay_accounts)
            .where(ebay_accounts.c.ebay_account_id == account_id)
            .values(signing_required=required, updated_at=sa.func.now())
        )
        if result.rowcount == 0:
            raise UnknownAccount(account_id)
