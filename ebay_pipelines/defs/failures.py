"""How a failed family step tells Dagster whether to retry it.

Transient failures (rate limits, 5xx, dropped connections, a lost database connection) pass
through unchanged, so the step's RetryPolicy retries them. Every other failure becomes a
``dagster.Failure`` with ``allow_retries=False`` and a one-line description: Dagster's RetryPolicy
retries any plain exception, including one raised in the IO manager, so a revoked token or a wrong
secret key would otherwise be retried for nothing.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from ebay_pipelines.sync.failures import describe, is_retryable


@contextmanager
def retry_only_transient(what: str) -> Iterator[None]:
    """Re-raise transient errors as they are; turn the others into a Failure Dagster never retries."""
    try:
        yield
    except dg.Failure:
        raise
    except Exception as exc:
        if is_retryable(exc):
            raise
        raise dg.Failure(
            description=f"{what}: {describe(exc)}",
            metadata={"error_type": type(exc).__name__, "retryable": False},
            allow_retries=False,
        ) from exc
