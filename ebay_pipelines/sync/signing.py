"""Which accounts sign their calls, and the signer they sign with (a key is created on first need).

eBay's "Digital Signatures for APIs" guide: sellers domiciled in the EU or the UK sign every Finances
call. An account signs when its marketplace is an EU/UK one or it was added with ``--signing``.
Its key comes from ``ebay_tokens``; when it has none (or the stored one expired) a new one is made
through the Key Management API and stored encrypted, the first time a client is built for it. That
covers accounts however they were added (``add``, ``connect``, an import of an old system) and
renews keys as they expire (eBay's keys live three years), with no key made for accounts that
never sign.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine

from ebay_pipelines import settings as project_settings
from ebay_pipelines.ebay.config import EbaySettings
from ebay_pipelines.ebay.errors import ConfigurationError
from ebay_pipelines.ebay.keys import KeyManagementClient, SigningKey, signing_key_from_json
from ebay_pipelines.ebay.retry import RetryPolicy
from ebay_pipelines.ebay.signing import RequestSigner, requires_signature
from ebay_pipelines.store.accounts import Account, get_account
from ebay_pipelines.store.secrets import TokenCipher, load_cipher
from ebay_pipelines.store.signing_keys import StoredSigningKey, load_signing_key, lock_signing_key, save_signing_key

log = logging.getLogger(__name__)

#: A key this close to its expiry is replaced before use.
RENEW_MARGIN = timedelta(days=1)


def account_signs(account: Account) -> bool:
    """True when the account's Finances calls carry a digital signature."""
    return account.signing_required or requires_signature(account.marketplace_id)


def _usable(stored: StoredSigningKey | None, now: datetime) -> bool:
    return stored is not None and (stored.expires_at is None or stored.expires_at - RENEW_MARGIN > now)


def _signer(stored: StoredSigningKey) -> RequestSigner:
    try:
        return RequestSigner(stored.private_key, stored.jwe)
    except ConfigurationError as exc:
        raise ConfigurationError(
            f"the signing key stored for account {stored.account_id} is unusable ({exc.message}); replace it with "
            f"`ebay-pipelines accounts signing-key {stored.account_id} --create`",
            account_id=stored.account_id,
        ) from None


def store_key(engine: Engine, cipher: TokenCipher, account_id: str, key: SigningKey) -> StoredSigningKey:
    """Store ``key`` as the account's signing key (the private key encrypted)."""
    with engine.begin() as conn:
        save_signing_key(conn, cipher, account_id, key.private_key, key.jwe, key.signing_key_id, key.expires_at)
    return StoredSigningKey(account_id, key.private_key, key.jwe, key.signing_key_id, key.expires_at)


def create_key(
    engine: Engine,
    account_id: str,
    settings: EbaySettings,
    retry: RetryPolicy | None = None,
    cipher: TokenCipher | None = None,
    *,
    replace: bool = True,
    now: datetime | None = None,
) -> StoredSigningKey:
    """Create a key through Key Management and store it; ``replace=False`` keeps a usable stored one.

    The account's ``ebay_tokens`` row stays locked meanwhile, so concurrent first syncs make one key.
    """
    cipher = cipher or load_cipher()
    now = now or datetime.now(UTC)
    with engine.begin() as conn:
        lock_signing_key(conn, account_id)
        stored = load_signing_key(conn, cipher, account_id)
        if not replace and stored is not None and _usable(stored, now):
            return stored
        keys = KeyManagementClient(settings, retry=retry or RetryPolicy())
        key = keys.create_signing_key("ED25519", account_id=account_id)
        save_signing_key(conn, cipher, account_id, key.private_key, key.jwe, key.signing_key_id, key.expires_at)
    log.info("account %s: signing key %s created through Key Management", account_id, key.signing_key_id)
    return StoredSigningKey(account_id, key.private_key, key.jwe, key.signing_key_id, key.expires_at)


def signer_for(
    engine: Engine,
    account: Account,
    settings: EbaySettings,
    retry: RetryPolicy | None = None,
    cipher: TokenCipher | None = None,
    now: datetime | None = None,
) -> RequestSigner | None:
    """The account's request signer, or None when it does not sign (a key is created on first need)."""
    if not account_signs(account):
        return None
    cipher = cipher or load_cipher()
    now = now or datetime.now(UTC)
    with engine.connect() as conn:
        stored = load_signing_key(conn, cipher, account.account_id)
    if stored is None or not _usable(stored, now):
        stored = create_key(engine, account.account_id, settings, retry, cipher, replace=False, now=now)
    return _signer(stored)


def read_key_file(path: Path) -> SigningKey:
    """The key in ``path``: a JSON object as createSigningKey answers it (``privateKey`` and ``jwe`` required)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{path} is not a readable JSON signing key ({type(exc).__name__})") from None
    try:
        return signing_key_from_json(data)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def manage_signing_key(
    engine: Engine, account_id: str, create: bool, import_file: Path | None, settings: EbaySettings | None = None
) -> str:
    """``accounts signing-key``: create or import the account's key, or describe it; one line, never the key."""
    if create and import_file is not None:
        raise ValueError("give either --create or --import FILE, not both")
    with engine.connect() as conn:
        account = get_account(conn, account_id)
    cipher = load_cipher()
    if import_file is not None:
        stored = store_key(engine, cipher, account_id, read_key_file(import_file))
        action = "imported"
    elif create:
        from ebay_pipelines.sync.partition_sync import ebay_settings  # it builds clients with this module

        settings = settings or ebay_settings(project_settings.current())
        stored = create_key(engine, account_id, settings, cipher=cipher)
        action = "created"
    else:
        with engine.connect() as conn:
            found = load_signing_key(conn, cipher, account_id)
        signs = "signs its Finances calls" if account_signs(account) else "does not sign (no EU/UK marketplace)"
        if found is None:
            return f"account {account_id} has no signing key; it {signs}"
        stored, action = found, "stored"
    expires = stored.expires_at.date().isoformat() if stored.expires_at else "unknown"
    return f"signing key {stored.signing_key_id or '(no id)'} {action} for account {account_id} (expires {expires})"
