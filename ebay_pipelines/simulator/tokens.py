"""OAuth of the simulated eBay: client credentials, refresh tokens per account, access tokens."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable

from .consent import APP_SCOPES
from .util import digest

#: A refresh token from the authorization-code grant lives about 18 months (README Token refresh).
REFRESH_SECONDS = 47_304_000


class TokenAuthority:
    """Issues and checks tokens; thread-safe.

    Refresh tokens are self-describing (account + generation + MAC), so any account name works
    without registration; ``revoke`` bumps the account's generation. Access tokens are random and
    expire on the simulated clock.
    """

    def __init__(
        self, seed: int, client_id: str, client_secret: str, ttl_seconds: int, now_ms: Callable[[], int]
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.ttl_seconds = ttl_seconds
        self._now_ms = now_ms
        self._key = digest(seed, "refresh-key", client_secret)
        self._lock = threading.Lock()
        self._generation: dict[str, int] = {}
        self._access: dict[str, tuple[str, int]] = {}
        self._access_scopes: dict[str, frozenset[str]] = {}
        #: What each account consented to (absent: everything the keyset holds) and when its refresh token expires.
        self._grants: dict[str, frozenset[str]] = {}
        self._refresh_expiry: dict[str, int] = {}

    # ------------------------------------------------------------------ client
    def check_client(self, authorization: str | None) -> bool:
        """True when ``authorization`` is ``Basic base64(client_id:client_secret)``."""
        if not authorization or not authorization.startswith("Basic "):
            return False
        try:
            raw = base64.b64decode(authorization[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        cid, _, secret = raw.partition(":")
        return hmac.compare_digest(cid, self.client_id) and hmac.compare_digest(secret, self.client_secret)

    # ------------------------------------------------------------------ refresh tokens
    def _mac(self, account: str, generation: int) -> str:
        return hmac.new(self._key, f"{account}|{generation}".encode(), hashlib.sha256).hexdigest()[:40]

    def refresh_token_for(self, account: str) -> str:
        """The refresh token currently accepted for ``account``."""
        with self._lock:
            gen = self._generation.get(account, 0)
        acct = base64.urlsafe_b64encode(account.encode()).decode().rstrip("=")
        return f"v^1.1#i^1#r^1#{acct}#{gen}#{self._mac(account, gen)}"

    def grant(self, account: str, scopes: frozenset[str]) -> str:
        """Record a consent to ``scopes`` and return the refresh token it yields (valid 18 months)."""
        with self._lock:
            self._grants[account] = frozenset(scopes)
            self._refresh_expiry[account] = self._now_ms() + REFRESH_SECONDS * 1000
        return self.refresh_token_for(account)

    def granted(self, account: str) -> frozenset[str]:
        """The scopes ``account`` consented to."""
        with self._lock:
            return self._grants.get(account, APP_SCOPES)

    def expire_refresh_token(self, account: str) -> None:
        """Let the account's refresh token run out (as 18 months later)."""
        with self._lock:
            self._refresh_expiry[account] = self._now_ms() - 1

    def revoke(self, account: str) -> None:
        """Invalidate the account's refresh token (a new one is handed out afterwards)."""
        with self._lock:
            self._generation[account] = self._generation.get(account, 0) + 1

    def account_of_refresh(self, token: str) -> str | None:
        """The account named inside a refresh token (valid or not), or None."""
        parts = token.split("#")
        if len(parts) != 6:
            return None
        try:
            pad = "=" * (-len(parts[3]) % 4)
            return base64.urlsafe_b64decode(parts[3] + pad).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None

    def validate_refresh(self, token: str) -> str | None:
        """The account of a currently valid refresh token, or None."""
        account = self.account_of_refresh(token)
        if account is None:
            return None
        parts = token.split("#")
        with self._lock:
            gen = self._generation.get(account, 0)
            expiry = self._refresh_expiry.get(account)
        if parts[4] != str(gen) or not hmac.compare_digest(parts[5], self._mac(account, gen)):
            return None
        if expiry is not None and expiry <= self._now_ms():
            return None
        return account

    # ------------------------------------------------------------------ access tokens
    def issue(self, account: str, scopes: frozenset[str] | None = None) -> str:
        """A new access token for ``account`` valid for ``ttl_seconds`` of simulated time, carrying ``scopes``.

        Without ``scopes`` it carries what the account granted.
        """
        token = "v^1.1#i^1#p^3#f^0#I^3#t^" + secrets.token_urlsafe(48)
        expires = self._now_ms() + self.ttl_seconds * 1000
        carried = self.granted(account) if scopes is None else scopes
        with self._lock:
            self._access[token] = (account, expires)
            self._access_scopes[token] = carried
            if len(self._access) > 10_000:
                now = self._now_ms()
                self._access = {t: v for t, v in self._access.items() if v[1] > now}
                self._access_scopes = {t: v for t, v in self._access_scopes.items() if t in self._access}
        return token

    def resolve(self, token: str | None) -> str | None:
        """The account of a valid, unexpired access token, or None."""
        if not token:
            return None
        with self._lock:
            hit = self._access.get(token)
        if hit is None or hit[1] <= self._now_ms():
            return None
        return hit[0]

    def scopes_of(self, token: str | None) -> frozenset[str]:
        """The scopes an access token carries (none for an unknown token)."""
        with self._lock:
            return self._access_scopes.get(token or "", frozenset())

    def account_of_access(self, token: str | None) -> str | None:
        """The account an access token was issued to, even if expired (for call accounting)."""
        if not token:
            return None
        with self._lock:
            hit = self._access.get(token)
        return hit[0] if hit else None

    def expire(self, account: str) -> None:
        """Make every current access token of ``account`` invalid."""
        with self._lock:
            for token, (acct, _) in list(self._access.items()):
                if acct == account:
                    self._access[token] = (acct, -1)
