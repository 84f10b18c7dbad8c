"""Which failures of a partition sync are worth retrying, and a one-line account of any failure.

Retrying helps when the cause is passing: eBay rate limits, 5xx answers, dropped or timed-out
connections, a truncated answer, a lost database connection, or a run row an earlier attempt left
open. It cannot help when a person or a code change must act first: a rejected refresh token, a
wrong secret key, a bad account id or partition key, an unknown account, a value PostgreSQL cannot
store, an eBay request error (4xx) or a wrongly typed field.
"""

from __future__ import annotations

import psycopg2
import requests
import sqlalchemy as sa

from ebay_pipelines.ebay.errors import EbayError, ReauthorizationRequired, is_transient
from ebay_pipelines.store.mirrors import RunAlreadyRunning, one_line


def is_retryable(exc: BaseException) -> bool:
    """Return True when running the same partition again later may succeed."""
    if isinstance(exc, ReauthorizationRequired):
        return False
    if isinstance(exc, EbayError):
        return is_transient(exc)
    if isinstance(exc, RunAlreadyRunning):
        return True
    if isinstance(exc, sa.exc.DBAPIError):
        return bool(exc.connection_invalidated) or isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError))
    if isinstance(exc, (sa.exc.DisconnectionError, sa.exc.TimeoutError)):
        return True
    if isinstance(exc, (psycopg2.OperationalError, psycopg2.InterfaceError)):  # raw driver errors (COPY)
        return True
    return isinstance(exc, (requests.ConnectionError, requests.Timeout, ConnectionError, TimeoutError))


def describe(exc: BaseException) -> str:
    """One line naming the error type and its message; driver errors without the SQL and parameters."""
    if isinstance(exc, sa.exc.StatementError) and exc.orig is not None:
        orig = exc.orig
        text = str(orig).strip()
        return one_line(f"{type(exc).__name__} ({type(orig).__name__}): {text}" if text else type(orig).__name__)
    text = str(exc).strip()
    return one_line(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)
