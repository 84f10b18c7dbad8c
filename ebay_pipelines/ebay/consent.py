"""eBay's consent step: the consent URL a seller opens, and the redirect eBay sends back.

eBay's ``api-docs/static/oauth-consent-request.html``: ``GET /oauth2/authorize`` on auth.ebay.com
(auth.sandbox.ebay.com) with ``client_id``, ``redirect_uri`` = the application's RuName,
``response_type=code``, ``scope`` (space-separated), ``state`` (returned as sent) and
``prompt=login`` (the seller signs in even with a session open, so the right account consents).
eBay then redirects the browser to the RuName's accept URL with ``code`` (URL-encoded once),
``state`` and ``expires_in`` (299: the code lives 5 minutes), or to its decline URL.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit

from .config import EbaySettings


class ConsentError(ValueError):
    """The consent did not give a usable code: denied, a state mismatch, or a redirect without a code."""


def new_state() -> str:
    """A random ``state`` value tying eBay's redirect to this consent request."""
    return secrets.token_urlsafe(24)


def consent_url(settings: EbaySettings, ru_name: str, scopes: Sequence[str], state: str) -> str:
    """The consent page URL for ``scopes``, coming back to the RuName's accept URL with ``state``."""
    query = {
        "client_id": settings.client_id,
        "redirect_uri": ru_name,
        "response_type": "code",
        "scope": " ".join(scopes),
        "state": state,
        "prompt": "login",
    }
    return f"{settings.authorize_url()}?{urlencode(query)}"


@dataclass(frozen=True)
class ConsentAnswer:
    """What eBay's redirect said: the authorization code (decoded once), hidden from ``repr``."""

    code: str = field(repr=False)
    state: str | None
    expires_in: int | None


def parse_redirect(url: str, expected_state: str) -> ConsentAnswer:
    """Read eBay's redirect (a URL or just its query); raise ConsentError with one clear line when unusable.

    A decline arrives as ``error=access_denied`` (or ``isAuthSuccessful=false``); a ``state`` other
    than the one sent means the redirect does not answer this request, and nothing is exchanged.
    """
    text = url.strip()
    if not text:
        raise ConsentError("no redirect URL given: paste the full URL eBay redirected the browser to")
    query = urlsplit(text).query if "?" in text or "://" in text else text
    params = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
    error = params.get("error")
    if error or params.get("isAuthSuccessful", "").lower() == "false":
        reason = params.get("error_description") or error or "isAuthSuccessful=false"
        raise ConsentError(f"the seller declined the consent on eBay ({reason}); nothing was stored")
    state = params.get("state")
    if state != expected_state:
        raise ConsentError(
            "the redirect's state does not match this consent request (an old or foreign redirect); "
            "nothing was stored: run `accounts connect` again and use the redirect it leads to"
        )
    code = params.get("code")
    if not code:
        raise ConsentError("the redirect URL has no code parameter: paste the full URL eBay redirected to")
    expires = params.get("expires_in")
    return ConsentAnswer(code=code, state=state, expires_in=int(expires) if expires and expires.isdigit() else None)
