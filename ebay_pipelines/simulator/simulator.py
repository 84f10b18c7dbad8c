"""``EbaySimulator``: a local eBay API over real HTTP, driven from Python."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from .churn import ChurnInjector
from .clock import SimClock
from .config import SimulatorConfig
from .consent import ConsentDesk
from .faults import FaultInjector
from .notifications import NotificationSigner
from .quotas import QuotaMeter
from .server import SimHTTPServer
from .services import Services
from .signatures import SignatureAuthority
from .tokens import TokenAuthority
from .truth import Truth
from .util import digest, to_ms

log = logging.getLogger(__name__)


class EbaySimulator:
    """A simulated eBay serving the Sell REST APIs, Post-Order v2 and the Trading API on 127.0.0.1.

    Use as a context manager (or ``start()``/``stop()``). Data is deterministic for a seed; the
    simulated clock drives order evolution; faults, churn between pages (``churn``), tokens and
    call counts are controllable.
    """

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.clock = SimClock(self.config.now)
        self.services = Services.build(self.config, self.clock.now_ms())
        seed = self.config.seed
        self.client_id = self.config.client_id or f"SimulatorApp-ebaypipe-PRD-{seed:08d}"
        self.client_secret = self.config.client_secret or f"PRD-sim-{seed:08d}-secret"
        self.tokens = TokenAuthority(
            seed, self.client_id, self.client_secret, self.config.access_token_ttl, self.clock.now_ms
        )
        self.faults = FaultInjector(seed)
        self.quotas = QuotaMeter(
            self.config.quota_limits,
            self.config.user_quota_limits,
            self.config.quota_naming,
            self.config.quota_retry_after,
        )
        #: eBay's consent page: tests approve or deny the next consent instead of a browser.
        self.consent = ConsentDesk(seed, self.client_id, self.clock.now_ms)
        #: Key Management keys and the check of signed Finances calls (EU/UK sellers).
        self.signatures = SignatureAuthority(seed, self.config.marketplace_id)
        #: The Notification API's signing key (getPublicKey) and signed account-deletion notifications.
        self.notifications = NotificationSigner(seed)
        self.churn = ChurnInjector(self.services.world)
        self.truth = Truth(self)
        self._calls: Counter = Counter()
        self._calls_lock = threading.Lock()
        self._server: SimHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> EbaySimulator:
        """Start serving on ``config.host``:``config.port`` (0 = OS-assigned)."""
        if self._server is not None:
            return self
        self._server = SimHTTPServer((self.config.host, self.config.port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="ebay-simulator", daemon=True
        )
        self._thread.start()
        log.info("eBay simulator listening on %s", self.base_url)
        return self

    def stop(self) -> None:
        """Stop serving and close open connections."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> EbaySimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound TCP port."""
        if self._server is None:
            raise RuntimeError("the simulator is not running")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` (replaces eBay's hosts)."""
        return f"http://{self.config.host}:{self.port}"

    # ------------------------------------------------------------------ auth
    def refresh_token_for(self, account: str) -> str:
        """The refresh token the token endpoint currently accepts for ``account``."""
        return self.tokens.refresh_token_for(account)

    def revoke(self, account: str) -> None:
        """Revoke the account's refresh token: later grants with it answer invalid_grant."""
        self.tokens.revoke(account)

    def expire_access_tokens(self, account: str) -> None:
        """Invalidate every access token issued so far to ``account``."""
        self.tokens.expire(account)

    def set_marketplace(self, account: str, marketplace_id: str) -> None:
        """Domicile ``account`` on ``marketplace_id``: an EU/UK one makes its Finances calls need signatures."""
        self.signatures.set_marketplace(account, marketplace_id)

    def user_id(self, account: str) -> str:
        """The seller's immutable eBay user id (Identity getUser ``userId``)."""
        return digest(self.config.seed, "user-id", account).hex()[:24]

    def deletion_notification(self, **kwargs: Any) -> tuple[bytes, dict[str, str]]:
        """A signed (or, with ``forged=True``, forged) account-deletion notification: ``(body, headers)``.

        See :meth:`NotificationSigner.deletion_notification`; ``when`` defaults to the simulated now.
        """
        kwargs.setdefault("when", self.now)
        return self.notifications.deletion_notification(**kwargs)

    def marketplace_of(self, account: str) -> str:
        """The marketplace the seller registered on."""
        return self.config.marketplace_id

    def expire_refresh_token(self, account: str) -> None:
        """Let the account's refresh token run out: the token endpoint answers invalid_grant."""
        self.tokens.expire_refresh_token(account)

    def issue_access_token(self, account: str) -> str:
        """Issue an access token directly (without the token endpoint)."""
        return self.tokens.issue(account)

    # ------------------------------------------------------------------ clock and data
    @property
    def now(self) -> datetime:
        """The simulated now."""
        return self.clock.now()

    def set_now(self, dt: datetime) -> None:
        """Set the simulated clock."""
        self.clock.set_now(dt)

    def advance(self, delta: timedelta) -> None:
        """Move the simulated clock by ``delta``."""
        self.clock.advance(delta)

    def modify_orders(self, account: str, fraction: float, at: datetime | None = None) -> None:
        """Change about ``fraction`` of the account's orders existing at ``at`` (default: now).

        The chosen orders (a deterministic hash selection) get ``lastModifiedDate = at`` and a
        changed ``buyerCheckoutNotes``/``salesRecordReference`` once the clock reaches ``at``.
        """
        when = to_ms(at) if at is not None else self.clock.now_ms()
        self.services.world.add_mutation(account, fraction, when)

    # ------------------------------------------------------------------ accounting
    def _record_call(self, account: str | None, endpoint: str) -> None:
        with self._calls_lock:
            self._calls[(account, endpoint)] += 1

    @property
    def calls(self) -> Counter:
        """A copy of the call counts ``{(account or None, endpoint name): n}``."""
        with self._calls_lock:
            return Counter(self._calls)

    def reset_calls(self) -> None:
        """Forget all call counts."""
        with self._calls_lock:
            self._calls.clear()
