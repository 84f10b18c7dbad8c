"""OAuth scopes: which scope each eBay API needs, and how scopes are named for people.

eBay's scope pages (``api-docs/static/oauth-scopes.html``) and the contracts' security
sections: the Sell APIs name their ``sell.*`` scopes (a ``.readonly`` one is enough for GET
methods), the traditional APIs (Trading, Post-Order) take a user token minted with the base
scope ``https://api.ebay.com/oauth/api_scope`` (``api-docs/static/oauth-trad-apis.html``), and
the Identity API's ``getUser`` answers with the base scope or ``commerce.identity.readonly``.
"""

from __future__ import annotations

from collections.abc import Iterable

BASE_SCOPE = "https://api.ebay.com/oauth/api_scope"


def scope(name: str) -> str:
    """The full scope URL of ``name`` (``sell.finances`` -> ``https://api.ebay.com/oauth/api_scope/sell.finances``)."""
    return BASE_SCOPE if name in ("", "api_scope") else f"{BASE_SCOPE}/{name}"


def short_name(full: str) -> str:
    """How people read a scope: ``sell.finances``, or ``api_scope`` for the base scope."""
    return "api_scope" if full == BASE_SCOPE else full.removeprefix(BASE_SCOPE + "/")


#: Per API, the scopes any one of which lets a token read it; the first is the one asked for.
API_SCOPES: dict[str, tuple[str, ...]] = {
    "fulfillment": (scope("sell.fulfillment.readonly"), scope("sell.fulfillment")),
    "disputes": (scope("sell.payment.dispute"),),
    "finances": (scope("sell.finances"),),
    "inventory": (scope("sell.inventory.readonly"), scope("sell.inventory")),
    "post-order": (BASE_SCOPE,),
    "trading": (BASE_SCOPE,),
    "commerce-identity": (BASE_SCOPE, scope("commerce.identity.readonly")),
}

#: Asked for in every consent: the base scope (Trading, Post-Order, getUser) and getUser's own.
CONSENT_BASE: tuple[str, ...] = (BASE_SCOPE, scope("commerce.identity.readonly"))


def needed(apis: Iterable[str]) -> list[tuple[str, ...]]:
    """The scope groups ``apis`` need (one scope of each group is enough), in first-seen order."""
    groups = [API_SCOPES[api] for api in dict.fromkeys(apis) if api in API_SCOPES]
    return list(dict.fromkeys(groups))


def requested(apis: Iterable[str]) -> tuple[str, ...]:
    """The scopes a consent asks for to read ``apis``: the consent base plus one scope per group."""
    return tuple(dict.fromkeys([*CONSENT_BASE, *(group[0] for group in needed(apis))]))


def missing(apis: Iterable[str], granted: Iterable[str]) -> list[str]:
    """The scopes (one per unmet group, as asked for) that ``granted`` lacks to read ``apis``."""
    have = set(granted)
    return [group[0] for group in needed(apis) if not have.intersection(group)]


def parse(text: str | None) -> tuple[str, ...] | None:
    """Scopes stored or sent as one space-separated string (None stays None: not known)."""
    if text is None:
        return None
    return tuple(dict.fromkeys(text.split()))
