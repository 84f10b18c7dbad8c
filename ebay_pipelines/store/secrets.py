"""Encryption at rest for eBay credentials (Fernet from ``cryptography``).

The key comes from ``EBAY_PIPELINES_SECRET_KEY``: either a Fernet key or any passphrase of at
least 16 characters (stretched with scrypt). With no key configured, a random key is created
once in the Dagster home folder (``secret.key``, mode 0600) so a fresh machine works.
"""

from __future__ import annotations

import base64
import functools
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from ebay_pipelines import settings

_SALT = b"ebay-pipelines/token-encryption/v1"


class SecretKeyError(RuntimeError):
    """The secret key is missing, malformed, or not the one the data was encrypted with."""


class TokenCipher:
    """Encrypts and decrypts credential strings; never exposes them in its repr."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def __repr__(self) -> str:
        return "TokenCipher(<key hidden>)"

    def encrypt(self, plaintext: str) -> bytes:
        """Return the ciphertext of ``plaintext``."""
        return self._fernet.encrypt(plaintext.encode("utf-8"))

    def decrypt(self, ciphertext: bytes, what: str) -> str:
        """Return the plaintext of ``ciphertext``; ``what`` names it in the error if the key is wrong."""
        try:
            return self._fernet.decrypt(bytes(ciphertext)).decode("utf-8")
        except InvalidToken:
            raise SecretKeyError(
                f"cannot decrypt {what}: {settings.SECRET_KEY_ENV} is not the key it was encrypted with"
            ) from None


def key_from_secret(secret: str) -> bytes:
    """Turn a configured secret into a Fernet key (used as is when it already is one)."""
    secret = secret.strip()
    try:
        if len(base64.urlsafe_b64decode(secret.encode("ascii"))) == 32:
            return secret.encode("ascii")
    except (ValueError, UnicodeEncodeError):
        pass
    if len(secret) < 16:
        raise SecretKeyError(
            f"{settings.SECRET_KEY_ENV} must be a Fernet key or a passphrase of at least 16 characters"
        )
    return _stretch(secret)


@functools.lru_cache(maxsize=4)
def _stretch(passphrase: str) -> bytes:
    # scrypt is deliberately slow (~50 ms); a process stretches each passphrase once, not once per run.
    derived = Scrypt(salt=_SALT, length=32, n=2**14, r=8, p=1).derive(passphrase.encode("utf-8"))
    return base64.urlsafe_b64encode(derived)


def local_key_file(home: Path | None = None) -> Path:
    """Return the key file used when no secret key is configured."""
    return (home or settings.dagster_home()) / "secret.key"


def load_cipher() -> TokenCipher:
    """Return the cipher for the configured key, creating a local key file on first use."""
    secret = settings.current().secret_key
    if secret:
        return TokenCipher(key_from_secret(secret))
    path = local_key_file()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(Fernet.generate_key())
    return TokenCipher(key_from_secret(path.read_text()))
