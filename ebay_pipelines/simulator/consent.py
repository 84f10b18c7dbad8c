"""eBay's consent page and authorization codes, as the simulator plays them.

eBay's ``oauth-consent-request.html``: ``GET /oauth2/authorize`` with ``client_id``,
``redirect_uri`` (the application's RuName), ``response_type=code`` and ``scope``; the seller signs
in and agrees (or declines), and the browser is redirected to the RuName's accept URL with
``state``, ``code`` (URL-encoded) and ``expires_in=299``, or to its decline URL with
``error=access_denied``. ``oauth-auth-code-grant-request.html``: a code is used once, with the same
RuName, within 5 minutes. Tests stand in for the browser: :meth:`ConsentDesk.approve` or
:meth:`ConsentDesk.deny` decides the next consent, then the test requests the consent URL.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from .responses import Request, Response, json_response
from .util import digest

BASE = "https://api.ebay.com/oauth/api_scope"
#: The scopes the simulated application's keyset holds (a consent may ask for any of these).
APP_SCOPES = frozenset(
    {
        BASE,
        f"{BASE}/sell.fulfillment",
        f"{BASE}/sell.fulfillment.readonly",
        f"{BASE}/sell.finances",
        f"{BASE}/sell.inventory",
        f"{BASE}/sell.inventory.readonly",
        f"{BASE}/sell.payment.dispute",
        f"{BASE}/commerce.identity.readonly",
    }
)
#: eBay's answer to a scope beyond the grant or the keyset (README Wire facts "OAuth scopes").
INVALID_SCOPE = (
    "invalid_scope",
    "The requested scope is invalid, unknown, malformed, or exceeds the scope granted to the client",
)
#: An authorization code lives 5 minutes; eBay's redirect says ``expires_in=299``.
CODE_SECONDS = 299


@dataclass(frozen=True)
class Decision:
    """How the next consent goes: which simulated seller signs in, and whether they agree (to which scopes)."""

    account: str | None
    scopes: frozenset[str] | None = None
    approve: bool = True


@dataclass(frozen=True)
class IssuedCode:
    """An authorization code waiting to be exchanged."""

    account: str
    scopes: frozenset[str]
    ru_name: str
    expires_ms: int


class ConsentDesk:
    """The consent page: the application's RuName, the next decision, and issued codes; thread-safe."""

    def __init__(self, seed: int, client_id: str, now_ms: Callable[[], int]) -> None:
        self.client_id = client_id
        self.ru_name = f"Simulator_App-Simulato-ebaypi-{digest(seed, 'runame').hex()[:5]}"
        self.accept_url = "https://ebay-pipelines.invalid/ebay/accepted"
        self.decline_url = "https://ebay-pipelines.invalid/ebay/declined"
        self._now_ms = now_ms
        self._lock = threading.Lock()
        self._decision: Decision | None = None
        self._codes: dict[str, IssuedCode] = {}

    def set_redirects(self, accept_url: str, decline_url: str | None = None) -> None:
        """The RuName's accept (and decline) URL, as set in the developer portal."""
        self.accept_url = accept_url
        self.decline_url = decline_url or accept_url

    def approve(self, account: str, scopes: Iterable[str] | None = None) -> None:
        """The next consent: ``account`` signs in and agrees; only ``scopes`` of those asked are granted when given."""
        with self._lock:
            self._decision = Decision(account, None if scopes is None else frozenset(scopes))

    def deny(self) -> None:
        """The next consent: the seller declines."""
        with self._lock:
            self._decision = Decision(None, approve=False)

    def authorize(self, req: Request) -> Response:
        """``GET /oauth2/authorize``: validate the request, then redirect with a code or the decline."""
        client_id, ru_name = req.q("client_id") or "", req.q("redirect_uri") or ""
        if client_id != self.client_id:
            return json_response({"error": "invalid_client", "error_description": "unknown client_id"}, 400)
        if ru_name != self.ru_name:
            return json_response(
                {"error": "invalid_request", "error_description": "redirect_uri is not a RuName of this client"}, 400
            )
        state = req.q("state")
        asked = frozenset((req.q("scope") or "").split())
        if req.q("response_type") != "code":
            return _redirect(self.decline_url, error="unsupported_response_type", state=state)
        if not asked or not asked <= APP_SCOPES:
            return _redirect(self.decline_url, error=INVALID_SCOPE[0], state=state)
        with self._lock:
            decision, self._decision = self._decision, None
        if decision is None or not decision.approve or decision.account is None:
            return _redirect(self.decline_url, error="access_denied", state=state)
        granted = asked if decision.scopes is None else asked & decision.scopes
        code = "v^1.1#i^1#f^0#p^3#I^3#r^1#t^" + secrets.token_urlsafe(32)
        with self._lock:
            self._codes[code] = IssuedCode(decision.account, granted, ru_name, self._now_ms() + CODE_SECONDS * 1000)
        return _redirect(self.accept_url, state=state, code=code, expires_in=str(CODE_SECONDS))

    def redeem(self, code: str, ru_name: str) -> IssuedCode | None:
        """The code's grant, once: None when unknown, used, expired or sent with another RuName."""
        with self._lock:
            issued = self._codes.pop(code, None)
        if issued is None or issued.ru_name != ru_name or issued.expires_ms <= self._now_ms():
            return None
        return issued


def _redirect(url: str, **params: str | None) -> Response:
    query = urlencode({k: v for k, v in params.items() if v is not None}, quote_via=quote)
    sep = "&" if "?" in url else "?"
    return Response(302, b"", "text/plain", {"Location": f"{url}{sep}{query}"})


def get_user(user_id: str, username: str, marketplace: str) -> Response:
    """Identity getUser's ``UserResponse`` for the seller."""
    return json_response(
        {
            "userId": user_id,
            "username": username,
            "accountType": "INDIVIDUAL",
            "registrationMarketplaceId": marketplace,
            "status": "CONFIRMED",
        }
    )


#: Which scope (any one of) each API's methods need, by path (the contracts' security sections;
#: ``oauth-trad-apis.html`` for Post-Order and Trading; getUser takes the base or its own scope).
_PATH_SCOPES: tuple[tuple[str, frozenset[str]], ...] = (
    ("/sell/fulfillment/v1/payment_dispute", frozenset({f"{BASE}/sell.payment.dispute"})),
    ("/sell/fulfillment/v1/", frozenset({f"{BASE}/sell.fulfillment", f"{BASE}/sell.fulfillment.readonly"})),
    ("/sell/finances/v1/", frozenset({f"{BASE}/sell.finances"})),
    ("/sell/inventory/v1/", frozenset({f"{BASE}/sell.inventory", f"{BASE}/sell.inventory.readonly"})),
    ("/post-order/v2/", frozenset({BASE})),
    ("/ws/api.dll", frozenset({BASE})),
    ("/commerce/identity/v1/", frozenset({BASE, f"{BASE}/commerce.identity.readonly"})),
)


def required_scopes(path: str) -> frozenset[str] | None:
    """The scopes one of which a call to ``path`` needs (None: no scope rule)."""
    return next((needed for prefix, needed in _PATH_SCOPES if path.startswith(prefix)), None)


def lacks_scope(carried: frozenset[str], path: str) -> bool:
    """Whether a token carrying ``carried`` may not call ``path``."""
    needed = required_scopes(path)
    return needed is not None and not carried & needed
