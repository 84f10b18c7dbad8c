"""HTTP client for eBay's REST APIs (Fulfillment, Finances, Inventory) and Post-Order v2.

One ``requests.Session`` per client keeps connections alive. Every HTTP attempt is counted in
``calls`` and logged with account, call, status and attempt; no token is ever logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit, urlunsplit

import requests

from .account_client import AccountClient, TokenSource
from .config import EbaySettings
from .errors import (
    EbayApiError,
    ErrorContext,
    PayloadError,
    RateLimited,
    ScopeNotGranted,
    ServerError,
    SignatureRejected,
    TransportError,
)
from .offsets import OffsetUnit
from .parsing import parse_json
from .retry import RetryPolicy, call_with_retries, retry_after_seconds
from .scopes import API_SCOPES
from .signing import RequestSigner, is_signature_error
from .walk import PageAnswer, PageAudit, Walk, WalkReport, walk_numbered

__all__ = ["EbayRestClient", "RetryPolicy", "TokenSource"]

#: eBay's errorId for a token lacking the scope a method needs: 403 ``Access denied`` /
#: ``Insufficient permissions to fulfill the request.`` (domain ACCESS, category REQUEST).
INSUFFICIENT_SCOPE = 1100

logger = logging.getLogger("ebay_pipelines.ebay")

Params = Mapping[str, Any] | Sequence[tuple[str, Any]] | None

RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})


class _Unauthorized(EbayApiError):
    """HTTP 401: the access token was rejected (handled by one refresh and one retry)."""


def _as_pairs(params: Params) -> list[tuple[str, Any]]:
    if params is None:
        return []
    if isinstance(params, Mapping):
        pairs: list[tuple[str, Any]] = []
        for key, value in params.items():
            if isinstance(value, (list, tuple)):
                pairs.extend((key, v) for v in value)
            elif value is not None:
                pairs.append((key, value))
        return pairs
    return [(k, v) for k, v in params if v is not None]


def error_details(body: object) -> tuple[list[int | str], str]:
    """Extract eBay error ids and the first message from a REST ``errors[]`` or Post-Order error body."""
    if not isinstance(body, dict):
        return [], ""
    errors = body.get("errors")
    if not isinstance(errors, list):
        wrapper = body.get("errorMessage")
        errors = wrapper.get("error") if isinstance(wrapper, dict) else None
    if isinstance(errors, dict):
        errors = [errors]
    if not isinstance(errors, list):
        return [], ""
    ids: list[int | str] = [e["errorId"] for e in errors if isinstance(e, dict) and e.get("errorId") is not None]
    messages = [str(e.get("message") or e.get("longMessage") or "") for e in errors if isinstance(e, dict)]
    return ids, next((m for m in messages if m), "")


class EbayRestClient(AccountClient):
    """Authenticated, retrying JSON client for one eBay account.

    ``api`` arguments name an API family of :class:`EbaySettings` (``fulfillment``, ``disputes``,
    ``finances``, ``inventory``, ``post-order``); paths are relative to that API's base URL.
    Post-Order calls authenticate with ``IAF <token>``, all others with ``Bearer <token>``.
    """

    def __init__(
        self,
        account_id: str,
        settings: EbaySettings,
        tokens: TokenSource,
        marketplace_id: str = "EBAY_US",
        retry: RetryPolicy = RetryPolicy(),
        signing: RequestSigner | None = None,
        session: requests.Session | None = None,
    ) -> None:
        super().__init__(account_id, settings, tokens, retry, session)
        self.marketplace_id = marketplace_id
        self.signing = signing
        #: What Post-Order's ``offset`` counts, once a search learned it (see :mod:`ebay_pipelines.ebay.offsets`).
        self.post_order_offset: OffsetUnit | None = None

    def __repr__(self) -> str:
        return f"EbayRestClient(account_id={self.account_id!r}, marketplace_id={self.marketplace_id!r})"

    def url(self, api: str, path: str) -> str:
        """Return the absolute URL of ``path`` in ``api`` (absolute URLs pass through unchanged)."""
        if path.startswith(("http://", "https://")):
            return path
        return self.settings.api_url(api) + "/" + path.lstrip("/")

    def get_json(self, api: str, path: str, params: Params = None, call_name: str = "") -> dict[str, Any]:
        """GET a JSON object, with retries, one token refresh on 401, and typed errors.

        A 204 answer returns ``{}``.
        """
        return self._request("GET", self.url(api, path), api, call_name or path, params)

    def paginate(
        self,
        api: str,
        path: str,
        params: Params,
        call_name: str,
        items_key: str,
        page_size: int,
        *,
        walk: Walk = Walk.FORWARD,
        report: WalkReport | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Yield the item list of every non-empty page of a paged REST collection.

        Forward: follows the envelope's ``next`` link until it is absent. If the collection never
        sends ``next`` links although ``total`` shows more records after a full page, pages by
        record ``offset``/``limit`` instead. Backward (see :mod:`ebay_pipelines.ebay.walk`): page 1,
        then the last page back to page 2 by ``offset``, in the unit page 1's ``next`` link uses
        (records, or page numbers as the Inventory contract words it); a forward walk when page 1
        gives no total or no readable ``next`` offset. ``report`` learns whether the walk was proven
        complete.
        """
        base = _as_pairs(params)
        body = self._request("GET", self.url(api, path), api, call_name, base + [("limit", page_size), ("offset", 0)])
        first = self._answer(body, call_name, items_key)
        answered_limit = body.get("limit") if body else None
        limit = answered_limit if isinstance(answered_limit, int) and answered_limit > 0 else page_size
        if walk is Walk.BACKWARD:
            unit = self._offset_unit(api, path, body, first, limit, page_size)
            if unit is not None:

                def fetch(number: int) -> PageAnswer:
                    query = base + [("limit", limit), ("offset", (number - 1) * unit)]
                    return self._answer(
                        self._request("GET", self.url(api, path), api, call_name, query), call_name, items_key
                    )

                yield from walk_numbered(first, fetch, per_page=limit, walk=walk, call=call_name, report=report)
                return
        yield from self._forward(api, path, base, call_name, items_key, page_size, body, first, limit, report)

    def _answer(self, body: dict[str, Any], call_name: str, items_key: str) -> PageAnswer:
        """One page of a REST collection (a 204 answer is an empty set)."""
        items = body.get(items_key) if body else None
        if items is None:
            items = []
        if not isinstance(items, list):
            raise PayloadError(f"'{items_key}' is not a list", call_name=call_name, account_id=self.account_id)
        self.pages[(self.account_id, call_name)] += 1
        total = body.get("total") if body else 0
        return PageAnswer(items, total=total if isinstance(total, int) and not isinstance(total, bool) else None)

    def _offset_unit(
        self, api: str, path: str, body: dict[str, Any], first: PageAnswer, limit: int, page_size: int
    ) -> int | None:
        """How far ``offset`` moves per page, read from page 1's ``next`` link (None: walk forward).

        ``next`` at ``offset=limit`` pages by record, at ``offset=1`` by page number. A collection
        without ``next`` links whose ``total`` shows more records after a full page pages by record.
        """
        if first.total is None:
            return None
        next_link = body.get("next") if body else None
        if not next_link:
            more = "next" not in body and len(first.items) >= page_size and len(first.items) < first.total
            return limit if more or first.total <= len(first.items) else None
        target = self._same_origin(api, urljoin(self.url(api, path), str(next_link)))
        offsets = [value for name, value in parse_qsl(urlsplit(target).query) if name == "offset"]
        try:
            offset = int(offsets[-1]) if offsets else None
        except ValueError:
            offset = None
        if offset == limit:
            return limit
        if offset == 1:
            return 1
        logger.info(
            "eBay %s %s account=%s: next link offset %r is neither a record nor a page offset; walking forward",
            api,
            path,
            self.account_id,
            offset,
        )
        return None

    def _forward(
        self,
        api: str,
        path: str,
        base: list[tuple[str, Any]],
        call_name: str,
        items_key: str,
        page_size: int,
        body: dict[str, Any],
        first: PageAnswer,
        limit: int,
        report: WalkReport | None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Follow ``next`` links from page 1 (answered as ``body``), or record offsets when there are none."""
        audit = PageAudit(first, limit)
        answer, number = first, 1
        received = 0
        seen: set[str] = set()
        while True:
            items = answer.items
            received += len(items)
            if items:
                yield items
            next_link = body.get("next") if body else None
            if next_link:
                next_url = self._same_origin(api, urljoin(self.url(api, path), str(next_link)))
                if next_url in seen:
                    raise PayloadError(
                        "the 'next' link repeats an earlier page", call_name=call_name, account_id=self.account_id
                    )
                seen.add(next_url)
                body = self._request("GET", next_url, api, call_name, None)
            else:
                total = body.get("total") if body else None
                if not (
                    not seen
                    and body
                    and "next" not in body
                    and isinstance(total, int)
                    and len(items) >= page_size
                    and received < total
                ):
                    break
                # No next links at all: page by record offset instead.
                query = base + [("limit", page_size), ("offset", received)]
                body = self._request("GET", self.url(api, path), api, call_name, query)
            answer = self._answer(body, call_name, items_key)
            number += 1
            audit.see(number, answer)
        audit.close(call_name, report)

    # ------------------------------------------------------------------------------------------

    def _same_origin(self, api: str, url: str) -> str:
        """Keep a ``next`` link on the configured host, so the token never goes anywhere else."""
        target = urlsplit(url)
        base = urlsplit(self.settings.host(api))
        if (target.scheme, target.netloc) == (base.scheme, base.netloc):
            return url
        prefix = base.path.rstrip("/")
        path = target.path if not prefix or target.path.startswith(prefix + "/") else prefix + target.path
        logger.debug("eBay next link on another host; kept on %s", base.netloc)
        return urlunsplit((base.scheme, base.netloc, path, target.query, ""))

    def _request(self, method: str, url: str, api: str, call_name: str, params: Params) -> dict[str, Any]:
        state = {"attempt": 0, "refreshed": False}

        def attempt() -> dict[str, Any]:
            try:
                return self._send(method, url, api, call_name, params, state)
            except _Unauthorized as rejected:
                if state["refreshed"]:
                    raise self._rejected_after_refresh(rejected) from None
                state["refreshed"] = True
                logger.info(
                    "eBay call %s account=%s: access token rejected, refreshing once", call_name, self.account_id
                )
                self.tokens.invalidate()
                try:
                    return self._send(method, url, api, call_name, params, state)
                except _Unauthorized as again:
                    raise self._rejected_after_refresh(again) from None

        return call_with_retries(attempt, self.retry, call_name=call_name, account_id=self.account_id)

    def _rejected_after_refresh(self, rejected: _Unauthorized) -> EbayApiError:
        return EbayApiError(
            "eBay rejected a freshly refreshed access token",
            call_name=rejected.call_name,
            account_id=self.account_id,
            status=rejected.status,
            error_ids=rejected.error_ids,
        )

    def _headers(self, api: str, token: str) -> dict[str, str]:
        scheme = "IAF" if api == "post-order" else "Bearer"
        headers = {
            "Authorization": f"{scheme} {token}",
            "X-EBAY-C-MARKETPLACE-ID": self.marketplace_id,
            "Accept": "application/json",
        }
        if api == "post-order":
            headers["Content-Type"] = "application/json"
        return headers

    def _send(self, method: str, url: str, api: str, call_name: str, params: Params, state: dict) -> dict[str, Any]:
        ctx: ErrorContext = {"call_name": call_name, "account_id": self.account_id}
        token = self.tokens.get()
        request = requests.Request(method, url, params=_as_pairs(params), headers=self._headers(api, token))
        prepared = self.session.prepare_request(request)
        if self.signing is not None and self.signing.applies_to(api):
            payload = prepared.body.encode("utf-8") if isinstance(prepared.body, str) else prepared.body
            prepared.headers.update(self.signing.headers(method, prepared.url or url, payload))
        state["attempt"] += 1
        self.calls[(self.account_id, call_name)] += 1
        started = time.monotonic()
        try:
            response = self.session.send(prepared, timeout=self.retry.timeout)
            content = response.content
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
            logger.warning(
                "eBay %s %s account=%s attempt=%d failed: %s",
                method,
                call_name,
                self.account_id,
                state["attempt"],
                type(exc).__name__,
            )
            raise TransportError(f"connection failed ({type(exc).__name__})", **ctx) from None
        status = response.status_code
        logger.debug(
            "eBay %s %s account=%s attempt=%d status=%d %.3fs",
            method,
            call_name,
            self.account_id,
            state["attempt"],
            status,
            time.monotonic() - started,
        )
        if status == 204 or (200 <= status < 300 and not content.strip()):
            return {}
        body = self._parse(content, status, ctx)
        if 200 <= status < 300:
            if not isinstance(body, dict):
                raise PayloadError("answer is not a JSON object", transient=True, **ctx)
            warnings = body.get("warnings")
            if warnings:
                ids, message = error_details({"errors": warnings})
                logger.warning("eBay call %s account=%s warnings %s: %s", call_name, self.account_id, ids, message)
            return body
        ids, message = error_details(body)
        if status == 401:
            raise _Unauthorized(message or "access token rejected", status=status, error_ids=ids, **ctx)
        if status == 429:
            raise RateLimited(
                message or "rate limit reached",
                retry_after=retry_after_seconds(response),
                status=status,
                error_ids=ids,
                **ctx,
            )
        if status in RETRYABLE_STATUSES:
            raise ServerError(message or f"eBay answered HTTP {status}", status=status, error_ids=ids, **ctx)
        if is_signature_error(ids):
            unsigned = "" if self.signing is not None else " (the call was not signed: no signing key for this account)"
            raise SignatureRejected(
                self.account_id,
                (message or f"HTTP {status}") + unsigned,
                call_name=call_name,
                status=status,
                error_ids=ids,
            )
        if status == 403 and any(str(i) == str(INSUFFICIENT_SCOPE) for i in ids):
            needs = API_SCOPES.get(api, ())
            raise ScopeNotGranted(
                self.account_id,
                needs[:1],
                f"the account's token lacks the scope {api} needs ({message or 'Access denied'})",
                call_name=call_name,
                status=status,
                error_ids=ids,
            )
        raise EbayApiError(message or f"eBay answered HTTP {status}", status=status, error_ids=ids, **ctx)

    @staticmethod
    def _parse(content: bytes, status: int, ctx: ErrorContext) -> object:
        try:
            return parse_json(content)
        except ValueError:
            if 200 <= status < 300:
                raise PayloadError("malformed JSON in the answer", transient=True, **ctx) from None
            return None
