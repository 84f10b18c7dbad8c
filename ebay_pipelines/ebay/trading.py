"""Client for eBay's Trading (XML) API: request building, safe parsing and Ack handling.

Requests carry the OAuth access token in ``X-EBAY-API-IAF-TOKEN`` (never in the body).
``Ack=Failure`` raises :class:`TradingError`; token errors lead to one token refresh and one
retry; error 518 (call limit) and system errors are retried with backoff; ``Ack=Warning`` is
logged and the answer kept. Malformed XML raises :class:`PayloadError`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import requests
from lxml import etree

from .account_client import AccountClient, TokenSource
from .config import EbaySettings
from .errors import (
    AnswerContext,
    EbayApiError,
    ErrorContext,
    PayloadError,
    RateLimited,
    ServerError,
    TradingError,
    TransportError,
)
from .rest import RETRYABLE_STATUSES
from .retry import RetryPolicy, call_with_retries, retry_after_seconds
from .walk import PageAnswer, Walk, WalkReport, walk_numbered
from .xmlconv import NS, element_to_dict, find, findall, findtext, parse_xml, q

logger = logging.getLogger("ebay_pipelines.ebay")

#: ErrorCodes meaning the IAF/OAuth token is invalid or expired.
TOKEN_ERROR_CODES = frozenset({"931", "932", "21916984", "21917053"})
#: ErrorCode of "call usage limit reached".
RATE_LIMIT_ERROR_CODE = "518"


def new_request(call_name: str) -> etree._Element:
    """Return an empty ``<CallNameRequest xmlns="urn:ebay:apis:eBLBaseComponents">`` root."""
    # lxml-stubs type nsmap keys as str, but None (the default namespace) is what lxml documents.
    return etree.Element(q(f"{call_name}Request"), nsmap={None: NS})  # type: ignore[dict-item]


def add(parent: etree._Element, name: str, text: Any = None) -> etree._Element:
    """Append child ``name`` (in the eBay namespace) with optional text; return the child."""
    child = etree.SubElement(parent, q(name))
    if text is not None:
        child.text = str(text).lower() if isinstance(text, bool) else str(text)
    return child


def add_pagination(parent: etree._Element, entries_per_page: int, page_number: int) -> etree._Element:
    """Append ``<Pagination><EntriesPerPage/><PageNumber/></Pagination>`` to ``parent``."""
    pagination = add(parent, "Pagination")
    add(pagination, "EntriesPerPage", entries_per_page)
    add(pagination, "PageNumber", page_number)
    return pagination


def _errors(root: etree._Element) -> list[dict[str, str]]:
    result = []
    for err in findall(root, "Errors"):
        result.append(
            {
                "code": (findtext(err, "ErrorCode") or "").strip(),
                "short": findtext(err, "ShortMessage") or "",
                "long": findtext(err, "LongMessage") or "",
                "severity": findtext(err, "SeverityCode") or "",
                "classification": findtext(err, "ErrorClassification") or "",
            }
        )
    return result


class _TokenRejected(TradingError):
    """Ack=Failure with a token error code (handled by one refresh and one retry)."""


class TradingClient(AccountClient):
    """Authenticated, retrying Trading API client for one eBay account."""

    def __init__(
        self,
        account_id: str,
        settings: EbaySettings,
        tokens: TokenSource,
        site_id: int = 0,
        compatibility_level: int = 1379,
        retry: RetryPolicy = RetryPolicy(),
        session: requests.Session | None = None,
    ) -> None:
        super().__init__(account_id, settings, tokens, retry, session)
        self.site_id = site_id
        self.compatibility_level = compatibility_level

    def __repr__(self) -> str:
        return f"TradingClient(account_id={self.account_id!r}, site_id={self.site_id})"

    def execute(self, call_name: str, request: etree._Element) -> etree._Element:
        """Send one Trading call and return the parsed response root.

        Raises TradingError on ``Ack=Failure`` (after one token refresh for token errors and
        bounded retries for error 518 and system errors), PayloadError on malformed XML.
        """
        body = etree.tostring(request, xml_declaration=True, encoding="utf-8")
        state = {"attempt": 0, "refreshed": False}

        def attempt() -> etree._Element:
            try:
                return self._send(call_name, body, state)
            except _TokenRejected as rejected:
                if state["refreshed"]:
                    raise self._rejected_after_refresh(rejected) from None
                state["refreshed"] = True
                logger.info(
                    "eBay call %s account=%s: access token rejected, refreshing once", call_name, self.account_id
                )
                self.tokens.invalidate()
                try:
                    return self._send(call_name, body, state)
                except _TokenRejected as again:
                    raise self._rejected_after_refresh(again) from None

        return call_with_retries(attempt, self.retry, call_name=call_name, account_id=self.account_id)

    def _rejected_after_refresh(self, rejected: _TokenRejected) -> TradingError:
        return TradingError(
            "eBay rejected a freshly refreshed access token: " + rejected.message,
            error_codes=rejected.error_codes,
            classifications=rejected.classifications,
            call_name=rejected.call_name,
            account_id=self.account_id,
            status=rejected.status,
        )

    def _send(self, call_name: str, body: bytes, state: dict) -> etree._Element:
        ctx: ErrorContext = {"call_name": call_name, "account_id": self.account_id}
        token = self.tokens.get()
        headers = {
            "X-EBAY-API-CALL-NAME": call_name,
            "X-EBAY-API-SITEID": str(self.site_id),
            "X-EBAY-API-COMPATIBILITY-LEVEL": str(self.compatibility_level),
            "X-EBAY-API-IAF-TOKEN": token,
            "Content-Type": "text/xml",
        }
        state["attempt"] += 1
        self.calls[(self.account_id, call_name)] += 1
        started = time.monotonic()
        try:
            response = self.session.post(
                self.settings.trading_url(), data=body, headers=headers, timeout=self.retry.timeout
            )
            content = response.content
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
            logger.warning(
                "eBay POST %s account=%s attempt=%d failed: %s",
                call_name,
                self.account_id,
                state["attempt"],
                type(exc).__name__,
            )
            raise TransportError(f"connection failed ({type(exc).__name__})", **ctx) from None
        status = response.status_code
        logger.debug(
            "eBay POST %s account=%s attempt=%d status=%d %.3fs",
            call_name,
            self.account_id,
            state["attempt"],
            status,
            time.monotonic() - started,
        )
        if status == 429:
            raise RateLimited("rate limit reached", retry_after=retry_after_seconds(response), status=status, **ctx)
        if status in RETRYABLE_STATUSES:
            raise ServerError(f"eBay answered HTTP {status}", status=status, **ctx)
        if status != 200:
            raise EbayApiError(f"eBay answered HTTP {status}", status=status, **ctx)
        try:
            root = parse_xml(content)
        except (etree.XMLSyntaxError, ValueError):
            raise PayloadError("malformed XML in the answer", transient=True, status=status, **ctx) from None
        return self._check_ack(call_name, root, status)

    def _check_ack(self, call_name: str, root: etree._Element, status: int) -> etree._Element:
        ctx: AnswerContext = {"call_name": call_name, "account_id": self.account_id, "status": status}
        ack = (findtext(root, "Ack") or "").strip()
        errors = _errors(root)
        codes = [e["code"] for e in errors if e["code"]]
        if ack == "Failure":
            failing = [e for e in errors if e["severity"] != "Warning"] or errors
            message = next((e["long"] or e["short"] for e in failing if e["long"] or e["short"]), "Ack=Failure")
            classes = [e["classification"] for e in failing if e["classification"]]
            failing_codes = [e["code"] for e in failing if e["code"]]
            cls = _TokenRejected if TOKEN_ERROR_CODES.intersection(failing_codes) else TradingError
            raise cls(message, error_codes=failing_codes, classifications=classes, **ctx)
        if ack in ("Warning", "PartialFailure") or errors:
            logger.warning(
                "eBay call %s account=%s answered Ack=%s with ErrorCodes %s: %s",
                call_name,
                self.account_id,
                ack,
                codes,
                "; ".join(e["short"] for e in errors if e["short"]),
            )
        elif ack != "Success":
            raise PayloadError(f"answer has no valid Ack (got {ack!r})", transient=True, **ctx)
        return root

    def paginate(
        self,
        call_name: str,
        list_element: str | None,
        build_request: Callable[[int, int], etree._Element],
        *,
        item_path: str,
        entries_per_page: int = 200,
        walk: Walk = Walk.FORWARD,
        report: WalkReport | None = None,
    ) -> Iterator[list[etree._Element]]:
        """Yield the item elements of every non-empty page of a paginated Trading call.

        ``build_request(page_number, entries_per_page)`` builds each request (pages start at 1).
        Items are found at ``list_element/item_path`` (``list_element`` None means the response
        root). A forward walk stops at ``PaginationResult/TotalNumberOfPages`` when the answer has
        one, otherwise at the first page holding fewer than ``entries_per_page`` items. A backward
        walk (see :mod:`ebay_pipelines.ebay.walk`) reads page 1, then the last page back to page 2;
        an answer without a ``PaginationResult`` (GetMyMessages) is walked forward. ``report``
        learns whether the walk was proven complete.
        """

        def fetch(page: int) -> PageAnswer:
            root = self.execute(call_name, build_request(page, entries_per_page))
            self.pages[(self.account_id, call_name)] += 1
            container = root if list_element is None else find(root, list_element)
            items = [] if container is None else findall(container, item_path)
            return PageAnswer(
                items,
                total=self._count(call_name, container, "PaginationResult/TotalNumberOfEntries"),
                pages=self._count(call_name, container, "PaginationResult/TotalNumberOfPages"),
            )

        yield from walk_numbered(fetch(1), fetch, per_page=entries_per_page, walk=walk, call=call_name, report=report)

    def _count(self, call_name: str, container: etree._Element | None, path: str) -> int | None:
        text = None if container is None else findtext(container, path)
        if text is None or not text.strip():
            return None
        try:
            return int(text)
        except ValueError:
            raise PayloadError(
                f"{path.rsplit('/', 1)[-1]} is not an integer: {text!r}",
                call_name=call_name,
                account_id=self.account_id,
            ) from None


def to_dicts(elements: list[etree._Element]) -> list[dict[str, Any]]:
    """Convert Trading item elements into JSON-able dicts (see :func:`element_to_dict`)."""
    return [element_to_dict(e) for e in elements]
