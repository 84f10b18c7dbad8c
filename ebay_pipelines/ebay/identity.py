"""The Identity API's getUser: who the seller behind a user token is.

``GET https://apiz.ebay.com/commerce/identity/v1/user/`` (eBay's ``commerce/identity`` contract,
``UserResponse``): ``userId`` is eBay's immutable user id, ``username`` the (changeable) user name.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests

from .config import EbaySettings
from .errors import EbayApiError, ErrorContext, PayloadError, TransportError
from .parsing import parse_json
from .retry import RetryPolicy, call_with_retries

CALL = "getUser"


@dataclass(frozen=True)
class EbayUser:
    """The seller a token belongs to."""

    user_id: str
    username: str | None
    registration_marketplace: str | None = None


def get_user(
    settings: EbaySettings, access_token: str, account_id: str, retry: RetryPolicy = RetryPolicy()
) -> EbayUser:
    """Ask getUser who ``access_token`` belongs to."""
    return call_with_retries(
        lambda: _get_user_once(settings, access_token, account_id, retry.timeout),
        retry,
        call_name=CALL,
        account_id=account_id,
    )


def _get_user_once(settings: EbaySettings, access_token: str, account_id: str, timeout: float) -> EbayUser:
    ctx: ErrorContext = {"call_name": CALL, "account_id": account_id}
    try:
        response = requests.get(
            settings.user_url(),
            headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
            timeout=timeout,
        )
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise TransportError(f"connection to getUser failed ({type(exc).__name__})", **ctx) from None
    try:
        body = parse_json(response.content)
    except ValueError:
        body = None
    if response.status_code != 200:
        raise EbayApiError(f"getUser answered HTTP {response.status_code}", status=response.status_code, **ctx)
    if not isinstance(body, dict) or not isinstance(body.get("userId"), str) or not body["userId"]:
        raise PayloadError("getUser's answer has no userId", **ctx)
    username = body.get("username")
    market = body.get("registrationMarketplaceId")
    return EbayUser(
        user_id=body["userId"],
        username=username if isinstance(username, str) and username else None,
        registration_marketplace=market if isinstance(market, str) else None,
    )
