"""What every per-account eBay client shares: the account, its tokens, one HTTP session and call counters."""

from __future__ import annotations

from collections import Counter
from typing import Protocol, Self

import requests

from .config import EbaySettings
from .retry import RetryPolicy


class TokenSource(Protocol):
    """Anything that hands out an access token and can discard a rejected one."""

    def get(self) -> str:
        """Return a currently valid access token."""
        ...

    def invalidate(self) -> None:
        """Discard the current token so the next ``get()`` refreshes it."""
        ...


class AccountClient:
    """Base of the REST and Trading clients of one eBay account.

    Owns the HTTP session unless one is passed in (then the caller closes it), and counts HTTP
    attempts and pages by ``(account_id, call_name)``.
    """

    def __init__(
        self,
        account_id: str,
        settings: EbaySettings,
        tokens: TokenSource,
        retry: RetryPolicy,
        session: requests.Session | None,
    ) -> None:
        self.account_id = account_id
        self.settings = settings
        self.tokens = tokens
        self.retry = retry
        self._owns_session = session is None
        self.session = session or requests.Session()
        #: HTTP attempts by (account_id, call_name), retries and refresh retries included.
        self.calls: Counter[tuple[str, str]] = Counter()
        #: Pages received by (account_id, call_name).
        self.pages: Counter[tuple[str, str]] = Counter()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP session if this client created it."""
        if self._owns_session:
            self.session.close()
