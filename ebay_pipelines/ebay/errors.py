"""Typed exceptions raised by the eBay client layer.

Every exception carries the eBay call name, the account id, the HTTP status and eBay's
error ids where they are known, so a failed sync says exactly which call of which account
failed and why. No exception text ever contains a token or the client secret: messages are
built only from eBay's error descriptions and our own wording.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypedDict

import requests


class ErrorContext(TypedDict, total=False):
    """Who and what an error is about, passed on to :class:`EbayError` as keyword arguments."""

    call_name: str | None
    account_id: str | None


class AnswerContext(ErrorContext, total=False):
    """An :class:`ErrorContext` with the HTTP status of the answer at fault."""

    status: int | None


class EbayError(Exception):
    """Base class of every error raised by ``ebay_pipelines.ebay``."""

    #: Whether a later retry of the whole operation may succeed (see :func:`is_transient`).
    transient: bool = False

    def __init__(
        self,
        message: str,
        *,
        call_name: str | None = None,
        account_id: str | None = None,
        status: int | None = None,
        error_ids: Iterable[int | str] = (),
    ) -> None:
        self.message = message
        self.call_name = call_name
        self.account_id = account_id
        self.status = status
        self.error_ids: tuple[int | str, ...] = tuple(error_ids)
        super().__init__(self.__str__())

    def _context(self) -> list[str]:
        parts = []
        if self.call_name:
            parts.append(f"call={self.call_name}")
        if self.account_id:
            parts.append(f"account={self.account_id}")
        if self.status is not None:
            parts.append(f"status={self.status}")
        if self.error_ids:
            parts.append("errorIds=" + ",".join(str(e) for e in self.error_ids))
        return parts

    def __str__(self) -> str:
        context = self._context()
        return f"{self.message} ({', '.join(context)})" if context else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.__str__()!r})"

    def __reduce__(self) -> tuple:
        # Keyword-only constructors do not survive default pickling; rebuild from the state.
        return (_restore, (type(self), self.__dict__.copy()))


def _restore(cls: type[EbayError], state: dict) -> EbayError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    Exception.__init__(error, error.__str__())
    return error


class ConfigurationError(EbayError):
    """Settings are missing or invalid (names the variable, never its value)."""


class EbayApiError(EbayError):
    """eBay answered a REST or Post-Order call with an error status (a request error by default)."""


class RateLimited(EbayApiError):
    """eBay refused the call because a rate limit was reached (HTTP 429 or Trading error 518)."""

    transient = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class ServerError(EbayApiError):
    """eBay answered with HTTP 500/502/503/504."""

    transient = True


class TransportError(EbayError):
    """The connection failed or timed out before a complete HTTP answer arrived."""

    transient = True


class ReauthorizationRequired(EbayError):
    """The account's refresh token was rejected; a person must re-authorize the account.

    Never retried: retrying cannot succeed until the seller grants consent again.
    """

    def __init__(
        self, account_id: str, reason: str, *, call_name: str | None = "token", status: int | None = None
    ) -> None:
        super().__init__(
            f"eBay account {account_id} must re-authorize: {reason}",
            call_name=call_name,
            account_id=account_id,
            status=status,
            error_ids=("invalid_grant",),
        )


class SignatureRejected(EbayApiError):
    """eBay refused the call's digital signature (errorId 215xxx): missing, stale, or made with a wrong key.

    Never retried: the same key fails again. The message names the account and what to do.
    """

    def __init__(self, account_id: str, reason: str, **kwargs) -> None:
        super().__init__(
            f"eBay refused the digital signature of account {account_id}: {reason}; create a new signing key "
            f"with `ebay-pipelines accounts signing-key {account_id} --create` (or --import FILE)",
            account_id=account_id,
            **kwargs,
        )


class ScopeNotGranted(EbayError):
    """The seller did not consent to a scope the call needs (``invalid_scope`` on refresh, or REST 403 1100).

    Never retried: only a new consent that includes the scope helps. ``scopes`` holds the full
    scope URLs when known.
    """

    def __init__(self, account_id: str | None, scopes: Sequence[str], detail: str, **kwargs) -> None:
        self.scopes = tuple(scopes)
        super().__init__(detail, account_id=account_id, **kwargs)


class PayloadError(EbayError):
    """eBay's answer could not be parsed, or a field has an unexpected type.

    ``record_id`` names the record whose field was wrong, where known. An unparseable body
    (for example truncated JSON or XML) is flagged transient, because fetching it again usually
    succeeds; a wrongly typed field is not.
    """

    def __init__(self, message: str, *, record_id: str | None = None, transient: bool = False, **kwargs) -> None:
        self.record_id = record_id
        self.transient = transient
        super().__init__(message, **kwargs)

    def _context(self) -> list[str]:
        parts = super()._context()
        if self.record_id:
            parts.insert(1 if self.call_name else 0, f"record={self.record_id}")
        return parts


class TradingError(EbayError):
    """A Trading API call answered ``Ack=Failure``; ``error_ids`` holds the ErrorCode values."""

    def __init__(
        self,
        message: str,
        *,
        error_codes: Sequence[str] = (),
        classifications: Sequence[str] = (),
        **kwargs,
    ) -> None:
        self.error_codes = tuple(error_codes)
        self.classifications = tuple(classifications)
        kwargs.setdefault("error_ids", self.error_codes)
        super().__init__(message, **kwargs)
        self.transient = "518" in self.error_codes or "SystemError" in self.classifications


class RetriesExhausted(EbayError):
    """Every allowed attempt failed with a transient error; ``last_error`` is the final one."""

    def __init__(self, last_error: BaseException, *, attempts: int, elapsed: float, **kwargs) -> None:
        self.last_error = last_error
        self.attempts = attempts
        self.elapsed = elapsed
        if isinstance(last_error, EbayError):
            kwargs.setdefault("call_name", last_error.call_name)
            kwargs.setdefault("account_id", last_error.account_id)
            kwargs.setdefault("status", last_error.status)
            kwargs.setdefault("error_ids", last_error.error_ids)
        detail = last_error.message if isinstance(last_error, EbayError) else type(last_error).__name__
        super().__init__(f"gave up after {attempts} attempts in {elapsed:.1f}s: {detail}", **kwargs)
        self.transient = True


def is_transient(exc: BaseException) -> bool:
    """Return True when retrying the failed operation later may succeed.

    True for rate limits, 5xx answers, connection errors and exhausted retries of those;
    False for re-authorization, request errors (4xx), configuration and typed-field errors.
    """
    if isinstance(exc, ReauthorizationRequired):
        return False
    if isinstance(exc, RetriesExhausted):
        return is_transient(exc.last_error)
    if isinstance(exc, EbayError):
        return bool(exc.transient)
    return isinstance(exc, (requests.ConnectionError, requests.Timeout, ConnectionError, TimeoutError))
