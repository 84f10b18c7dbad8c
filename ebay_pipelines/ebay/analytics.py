"""Developer Analytics API: eBay's call quotas and what is left of them, for the application and per user.

``GET /developer/analytics/v1_beta/rate_limit/`` (getRateLimits) needs an application token
(client-credentials grant, scope ``https://api.ebay.com/oauth/api_scope``);
``GET .../user_rate_limit/`` (getUserRateLimits) a user token. Both answer
``RateLimitsResponse {rateLimits: [RateLimit {apiContext, apiName, apiVersion, resources: [Resource
{name, rates: [Rate {count, limit, remaining, reset, timeWindow}]}]}]}`` or 204 No Content
(eBay's pages ``developer/analytics/resources/rate_limit/methods/getRateLimits``,
``.../user_rate_limit/methods/getUserRateLimits``, ``types/api:Rate``; ``count`` arrived in
v1_beta.0.1). The answer is parsed into :class:`RateRecord` s; :mod:`.quotas` says which quota each reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .auth import SCOPE_PREFIX, AccessToken, OAuthClient
from .errors import ErrorContext, PayloadError
from .parsing import parse_timestamp, utcnow
from .quotas import quota_of_record
from .rest import EbayRestClient

API = "developer-analytics"
GET_RATE_LIMITS = "getRateLimits"
GET_USER_RATE_LIMITS = "getUserRateLimits"


@dataclass(frozen=True)
class RateRecord:
    """One rate of one resource as eBay reported it, and the project's quota key for it (None: none)."""

    api_context: str
    api_name: str
    api_version: str
    resource: str
    limit: int | None
    remaining: int | None
    count: int | None
    reset: datetime | None
    time_window: int | None
    quota: str | None


class ApplicationTokens:
    """A token source of application tokens (client-credentials grant), renewed shortly before expiry."""

    def __init__(self, oauth: OAuthClient, margin: timedelta = timedelta(minutes=5)) -> None:
        self.oauth = oauth
        self.margin = margin
        self._token: AccessToken | None = None

    def get(self) -> str:
        """A valid application token."""
        if self._token is None or self._token.expires_at - self.margin <= utcnow():
            self._token = self.oauth.application_token((SCOPE_PREFIX,))
        return self._token.token

    def invalidate(self) -> None:
        """Forget the token eBay rejected."""
        self._token = None


def application_client(oauth: OAuthClient) -> EbayRestClient:
    """A REST client calling as the application (no seller): for getRateLimits."""
    return EbayRestClient("", oauth.settings, ApplicationTokens(oauth), retry=oauth.retry)


def get_rate_limits(client: EbayRestClient) -> list[RateRecord]:
    """getRateLimits: the application's quotas (``client`` from :func:`application_client`)."""
    body = client.get_json(API, "/rate_limit/", call_name=GET_RATE_LIMITS)
    return parse_rate_limits(body, GET_RATE_LIMITS)


def get_user_rate_limits(client: EbayRestClient) -> list[RateRecord]:
    """getUserRateLimits: the quotas eBay counts per user, for the account of ``client``."""
    body = client.get_json(API, "/user_rate_limit/", call_name=GET_USER_RATE_LIMITS)
    return parse_rate_limits(body, GET_USER_RATE_LIMITS, client.account_id)


def parse_rate_limits(body: dict[str, Any], call_name: str, account_id: str | None = None) -> list[RateRecord]:
    """Every rate of a RateLimitsResponse (an empty or 204 answer: none)."""
    ctx: ErrorContext = {"call_name": call_name, "account_id": account_id}
    limits = body.get("rateLimits") if body else None
    if limits is None:
        return []
    if not isinstance(limits, list):
        raise PayloadError("'rateLimits' is not a list", **ctx)
    records = []
    for api in limits:
        if not isinstance(api, dict):
            raise PayloadError("a rateLimits entry is not an object", **ctx)
        context, name = str(api.get("apiContext") or ""), str(api.get("apiName") or "")
        version = str(api.get("apiVersion") or "")
        for resource in _list(api, "resources", ctx):
            resource_name = str(resource.get("name") or "")
            for rate in _list(resource, "rates", ctx):
                records.append(
                    RateRecord(
                        api_context=context,
                        api_name=name,
                        api_version=version,
                        resource=resource_name,
                        limit=_int(rate, "limit", ctx),
                        remaining=_int(rate, "remaining", ctx),
                        count=_int(rate, "count", ctx),
                        reset=_reset(rate, ctx),
                        time_window=_int(rate, "timeWindow", ctx),
                        quota=quota_of_record(name, resource_name),
                    )
                )
    return records


def _list(node: dict[str, Any], key: str, ctx: ErrorContext) -> list[dict[str, Any]]:
    value = node.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise PayloadError(f"'{key}' is not a list of objects", **ctx)
    return value


def _int(rate: dict[str, Any], key: str, ctx: ErrorContext) -> int | None:
    value = rate.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        raise PayloadError(f"rate '{key}' is not a number", **ctx)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise PayloadError(f"rate '{key}' is not a number: {value!r}", **ctx) from None


def _reset(rate: dict[str, Any], ctx: ErrorContext) -> datetime | None:
    value = rate.get("reset")
    if value in (None, ""):
        return None
    try:
        return parse_timestamp(str(value))
    except ValueError:
        raise PayloadError(f"rate 'reset' is not an ISO 8601 time: {value!r}", **ctx) from None
