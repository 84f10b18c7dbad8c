"""Which OAuth scopes each family needs, and whether an account granted them.

A family's scopes follow from the APIs of its endpoint specs (``ebay.scopes.API_SCOPES``). A
family whose scope the account lacks is skipped before any eBay call, with a reason saying how
to fix it; an account whose grant is not known (added with ``--refresh-token``) syncs everything
until eBay refuses a scope, which is then remembered.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.engine import Connection, Engine

from ebay_pipelines.ebay import scopes
from ebay_pipelines.ebay.errors import ScopeNotGranted
from ebay_pipelines.store import tokens
from ebay_pipelines.store.consent import forget_granted_scopes, granted_scopes, record_denied_scopes
from ebay_pipelines.sync.families import FAMILIES, FamilySpec


def family_apis(spec: FamilySpec) -> tuple[str, ...]:
    """The eBay APIs a family calls: its endpoints' and their detail calls'."""
    apis = [api for endpoint in spec.endpoints for api in (endpoint.api, endpoint.detail and endpoint.detail.api)]
    return tuple(dict.fromkeys(api for api in apis if api))


def consent_scopes(families: Iterable[FamilySpec], already: Iterable[str] = ()) -> tuple[str, ...]:
    """The scopes a consent for ``families`` asks for, keeping the scopes already granted."""
    apis = [api for spec in families for api in family_apis(spec)]
    return tuple(dict.fromkeys([*scopes.requested(apis), *already]))


def missing_scopes(spec: FamilySpec, granted: tuple[str, ...] | None, denied: Iterable[str] = ()) -> list[str]:
    """The scopes ``spec`` needs that the account lacks (granted None: every scope eBay has not refused)."""
    refused = set(denied)
    needed = scopes.needed(family_apis(spec))
    if granted is None:
        return [group[0] for group in needed if refused.issuperset(group)]
    have = set(granted) - refused
    return [group[0] for group in needed if not have.intersection(group)]


def needs_scope_reason(account_id: str, spec: FamilySpec, missing: Iterable[str], detail: str = "") -> str:
    """``needs scope sell.finances: run `ebay-pipelines accounts connect demo-1 --families finances` ``."""
    names = ", ".join(scopes.short_name(s) for s in missing)
    return f"needs scope {names}{detail}: run `ebay-pipelines accounts connect {account_id} --families {spec.name}`"


def scope_reason(conn: Connection, account_id: str, spec: FamilySpec) -> str | None:
    """Why the account cannot sync ``spec`` for want of a scope, or None."""
    granted, denied = granted_scopes(conn, account_id)
    missing = missing_scopes(spec, granted, denied)
    return needs_scope_reason(account_id, spec, missing) if missing else None


def blocked_reason(conn: Connection, account_id: str, spec: FamilySpec) -> str | None:
    """Why no eBay call can sync ``spec`` for the account until a person acts (re-consent), or None."""
    return tokens.reauthorization_reason(conn, account_id) or scope_reason(conn, account_id, spec)


def families_needing(conn: Connection, account_id: str) -> dict[str, str]:
    """Every family the account cannot sync for want of a scope, with the reason (the grant read once)."""
    granted, denied = granted_scopes(conn, account_id)
    missing = [(spec, missing_scopes(spec, granted, denied)) for spec in FAMILIES]
    return {spec.name: needs_scope_reason(account_id, spec, m) for spec, m in missing if m}


def refused(engine: Engine, account_id: str, spec: FamilySpec, error: ScopeNotGranted) -> str:
    """Remember what eBay refused and return the one-line reason for the run and ``last_error``.

    A 403 names the API's scope: it is recorded as refused, so the family skips from now on.
    An ``invalid_scope`` on refresh means the stored grant is wrong: it is forgotten, so the next
    refresh asks for no scope and eBay answers with what the seller consented to.
    """
    with engine.connect() as conn:
        granted, _ = granted_scopes(conn, account_id)
    if error.call_name == "token":
        forget_granted_scopes(engine, account_id)
        asked = " ".join(scopes.short_name(s) for s in error.scopes) or "the stored scopes"
        return (
            f"eBay answered invalid_scope: the seller no longer grants all of {asked}; the next run asks for the "
            f"consented scopes only; to grant {spec.name} again run "
            f"`ebay-pipelines accounts connect {account_id} --families {spec.name}`"
        )
    record_denied_scopes(engine, account_id, error.scopes)
    return needs_scope_reason(account_id, spec, error.scopes or missing_scopes(spec, granted), " (eBay: Access denied)")
