"""Bounded retries with exponential backoff and jitter, built on ``tenacity``."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import requests
import tenacity

from .errors import EbayError, RateLimited, RetriesExhausted, ServerError, TradingError, TransportError

T = TypeVar("T")

logger = logging.getLogger("ebay_pipelines.ebay")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long a call is retried after a transient failure.

    Retries stop at ``max_attempts`` attempts or when the next wait would pass
    ``max_total_seconds`` since the first attempt, whichever comes first. Waits grow as
    ``initial_delay * multiplier ** (attempt - 1)`` plus up to ``jitter`` random seconds, capped
    at ``max_delay``; a ``Retry-After`` from eBay replaces that wait, capped at ``max_retry_after``.
    ``timeout`` is the connect/read timeout of one HTTP attempt.
    """

    max_attempts: int = 6
    initial_delay: float = 1.0
    multiplier: float = 2.0
    max_delay: float = 60.0
    jitter: float = 1.0
    max_total_seconds: float = 300.0
    max_retry_after: float = 120.0
    timeout: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")


def retry_after_seconds(response: requests.Response) -> float | None:
    """Return the ``Retry-After`` header in seconds (None when absent or not a number)."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def should_retry(exc: BaseException) -> bool:
    """Return True for failures the client retries itself: rate limits, 5xx, transport and Trading system errors."""
    if isinstance(exc, (RateLimited, ServerError, TransportError)):
        return True
    if isinstance(exc, TradingError):
        return exc.transient
    return False


class _Wait(tenacity.wait.wait_base):
    """Exponential backoff with jitter, or eBay's Retry-After (capped) when it sent one."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self._exponential = tenacity.wait_exponential_jitter(
            initial=policy.initial_delay,
            max=policy.max_delay,
            exp_base=policy.multiplier,
            jitter=policy.jitter,
        )

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            return max(0.0, min(float(exc.retry_after), self.policy.max_retry_after))
        return float(self._exponential(retry_state))


def call_with_retries(
    fn: Callable[[], T],
    policy: RetryPolicy,
    *,
    call_name: str,
    account_id: str,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``fn`` until it succeeds, a non-retryable error occurs, or the policy is used up.

    Non-retryable errors propagate unchanged; when the policy runs out the last transient
    error is wrapped in :class:`RetriesExhausted`.
    """
    started = time.monotonic()

    def _before_sleep(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        status = getattr(exc, "status", None)
        logger.warning(
            "eBay call %s account=%s attempt=%d failed (%s, status=%s); retrying in %.2fs",
            call_name,
            account_id,
            state.attempt_number,
            type(exc).__name__,
            status,
            state.upcoming_sleep,
        )

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(policy.max_attempts) | tenacity.stop_before_delay(policy.max_total_seconds),
        wait=_Wait(policy),
        retry=tenacity.retry_if_exception(should_retry),
        before_sleep=_before_sleep,
        sleep=sleep,
        reraise=False,
    )
    try:
        return retrying(fn)
    except tenacity.RetryError as gave_up:
        last = gave_up.last_attempt.exception()
        attempts = gave_up.last_attempt.attempt_number
        elapsed = time.monotonic() - started
        logger.error(
            "eBay call %s account=%s gave up after %d attempts in %.1fs (%s, status=%s)",
            call_name,
            account_id,
            attempts,
            elapsed,
            type(last).__name__,
            getattr(last, "status", None),
        )
        assert last is not None
        kwargs = {} if isinstance(last, EbayError) else {"call_name": call_name, "account_id": account_id}
        raise RetriesExhausted(last, attempts=attempts, elapsed=elapsed, **kwargs) from last
