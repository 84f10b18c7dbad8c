"""The compatibility mirrors the old worker UI reads: run rows, sync state and page logs.

Run start, page events and failures are written in their own short transactions (visible at once);
run completion and the cursor move are written inside the partition's data transaction by
:mod:`ebay_pipelines.store.partition_writer`, so they commit together with the rows or not at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection, Engine

from ebay_pipelines.store.accounts import workers_enabled
from ebay_pipelines.store.tables import ebay_accounts, ebay_api_worker_log, ebay_sync_state, ebay_worker_run
from ebay_pipelines.store.tokens import reauthorization_reason

RUNNING, COMPLETED, ERROR, SKIPPED = "running", "completed", "error", "skipped"


class RunAlreadyRunning(RuntimeError):
    """Another run of the same account and family is still marked running."""

    def __init__(self, account_id: str, family: str, other_run_id: str | None) -> None:
        super().__init__(
            f"account {account_id} family {family}: another run ({other_run_id or 'unknown'}) is still running; "
            "refusing to start a second one"
        )
        self.account_id, self.family, self.other_run_id = account_id, family, other_run_id


@dataclass(frozen=True)
class RunHandle:
    """Identifies one ``ebay_worker_run`` row."""

    run_id: str
    account_id: str
    family: str


def one_line(message: str, limit: int = 500) -> str:
    """Collapse an error message to one line of at most ``limit`` characters."""
    text = " ".join(str(message).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def ensure_sync_state(conn: Connection, account_id: str, family: str, cursor_type: str = "window_end") -> None:
    """Create the (account, family) sync-state row if it does not exist."""
    conn.execute(
        insert(ebay_sync_state)
        .values(ebay_account_id=account_id, api_family=family, cursor_type=cursor_type)
        .on_conflict_do_nothing(index_elements=["ebay_account_id", "api_family"])
    )


def sync_allowed(conn: Connection, account_id: str, family: str) -> tuple[bool, str | None]:
    """Return (allowed, reason): False with a reason when a switch is off or the account must re-authorize.

    Checked in order: the global switch, the account's ``enabled`` flag, a rejected or expired
    refresh token (no call to eBay can succeed until a person re-authorizes), the family switch.
    """
    if not workers_enabled(conn):
        return False, "workers are disabled globally (ebay_worker_global_config.workers_enabled = false)"
    account_enabled = conn.execute(
        sa.select(ebay_accounts.c.enabled).where(ebay_accounts.c.ebay_account_id == account_id)
    ).scalar()
    if account_enabled is False:
        return False, f"account {account_id} is disabled (ebay_accounts.enabled = false)"
    reauthorize = reauthorization_reason(conn, account_id)
    if reauthorize:
        return False, reauthorize
    enabled = conn.execute(
        sa.select(ebay_sync_state.c.enabled).where(
            ebay_sync_state.c.ebay_account_id == account_id, ebay_sync_state.c.api_family == family
        )
    ).scalar()
    if enabled is False:
        return False, f"family {family} is disabled for account {account_id} (ebay_sync_state.enabled = false)"
    return True, None


def set_family_enabled(engine: Engine, account_id: str, family: str, enabled: bool) -> None:
    """Turn one account's family on or off."""
    with engine.begin() as conn:
        ensure_sync_state(conn, account_id, family)
        conn.execute(
            sa.update(ebay_sync_state)
            .where(ebay_sync_state.c.ebay_account_id == account_id, ebay_sync_state.c.api_family == family)
            .values(enabled=enabled, updated_at=sa.func.now())
        )


def log_event(
    conn_or_engine: Connection | Engine, run: RunHandle, event_type: str, details: dict[str, Any] | None = None
) -> None:
    """Append one start/page/done/error/skipped event to ``ebay_api_worker_log``."""
    log_events(conn_or_engine, run, event_type, [details or {}])


def log_events(
    conn_or_engine: Connection | Engine, run: RunHandle, event_type: str, details: Sequence[dict[str, Any]]
) -> None:
    """Append several events of one type to ``ebay_api_worker_log`` in one statement, in order."""
    if not details:
        return
    stmt = sa.insert(ebay_api_worker_log).values(
        [
            {
                "run_id": run.run_id,
                "ebay_account_id": run.account_id,
                "api_family": run.family,
                "event_type": event_type,
                "details_json": d,
            }
            for d in details
        ]
    )
    if isinstance(conn_or_engine, Engine):
        with conn_or_engine.begin() as conn:
            conn.execute(stmt)
    else:
        conn_or_engine.execute(stmt)


def start_run(
    engine: Engine,
    account_id: str,
    family: str,
    dagster_run_id: str | None,
    partition_key: str | None,
    summary: dict[str, Any],
    *,
    retry_of_same_run: bool = False,
) -> RunHandle:
    """Insert a ``running`` row and a ``start`` log event; raise RunAlreadyRunning on a second one.

    With ``retry_of_same_run`` (a step retry inside Dagster run ``dagster_run_id``), a row that an
    earlier attempt of that same run left running (it could not close it, e.g. the database was
    down) is closed as error first instead of blocking the retry.
    """
    run = RunHandle(run_id=str(uuid.uuid4()), account_id=account_id, family=family)
    try:
        with engine.begin() as conn:
            ensure_sync_state(conn, account_id, family)
            conn.execute(
                sa.insert(ebay_worker_run).values(
                    id=run.run_id,
                    ebay_account_id=account_id,
                    api_family=family,
                    status=RUNNING,
                    heartbeat_at=sa.func.now(),
                    summary_json=summary,
                    dagster_run_id=dagster_run_id,
                    partition_key=partition_key,
                )
            )
            log_event(conn, run, "start", summary)
    except sa.exc.IntegrityError as exc:
        if "uq_ebay_worker_run_one_running" not in str(exc):
            raise
        with engine.connect() as conn:
            other = conn.execute(
                sa.select(ebay_worker_run.c.id, ebay_worker_run.c.dagster_run_id).where(
                    ebay_worker_run.c.ebay_account_id == account_id,
                    ebay_worker_run.c.api_family == family,
                    ebay_worker_run.c.status == RUNNING,
                )
            ).first()
        if (
            retry_of_same_run
            and other is not None
            and dagster_run_id is not None
            and other.dagster_run_id == dagster_run_id
        ):
            fail_run(
                engine,
                RunHandle(other.id, account_id, family),
                f"attempt superseded by a retry in Dagster run {dagster_run_id}",
            )
            return start_run(engine, account_id, family, dagster_run_id, partition_key, summary)
        raise RunAlreadyRunning(account_id, family, other.id if other is not None else None) from None
    return run


def skip_run(
    engine: Engine, account_id: str, family: str, dagster_run_id: str | None, partition_key: str | None, reason: str
) -> RunHandle:
    """Record a run that did nothing because a switch is off."""
    run = RunHandle(run_id=str(uuid.uuid4()), account_id=account_id, family=family)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(ebay_worker_run).values(
                id=run.run_id,
                ebay_account_id=account_id,
                api_family=family,
                status=SKIPPED,
                finished_at=sa.func.now(),
                summary_json={"skipped": reason},
                dagster_run_id=dagster_run_id,
                partition_key=partition_key,
            )
        )
        log_event(conn, run, "skipped", {"reason": reason})
    return run


def complete_run(conn: Connection, run: RunHandle, summary: dict[str, Any], cursor_value: datetime | None) -> None:
    """Inside the data transaction: close the run row and move the cursor (never backwards)."""
    conn.execute(
        sa.update(ebay_worker_run)
        .where(ebay_worker_run.c.id == run.run_id)
        .values(status=COMPLETED, finished_at=sa.func.now(), summary_json=summary, error_message=None)
    )
    values: dict[str, Any] = {"last_run_at": sa.func.now(), "last_error": None, "updated_at": sa.func.now()}
    if cursor_value is not None:
        new = cursor_value.astimezone(UTC).isoformat()
        values["cursor_value"] = sa.case(
            (ebay_sync_state.c.cursor_value.is_(None), new),
            (
                sa.cast(ebay_sync_state.c.cursor_value, sa.DateTime(timezone=True))
                < sa.cast(new, sa.DateTime(timezone=True)),
                new,
            ),
            else_=ebay_sync_state.c.cursor_value,
        )
    conn.execute(
        sa.update(ebay_sync_state)
        .where(ebay_sync_state.c.ebay_account_id == run.account_id, ebay_sync_state.c.api_family == run.family)
        .values(**values)
    )


def fail_run(engine: Engine, run: RunHandle, message: str, summary: dict[str, Any] | None = None) -> None:
    """Mark the run ``error`` and store a one-line reason in ``last_error``; the cursor stays put."""
    reason = one_line(message)
    with engine.begin() as conn:
        update = sa.update(ebay_worker_run).where(
            ebay_worker_run.c.id == run.run_id, ebay_worker_run.c.status == RUNNING
        )
        values: dict[str, Any] = {"status": ERROR, "finished_at": sa.func.now(), "error_message": reason}
        if summary is not None:
            values["summary_json"] = summary
        conn.execute(update.values(**values))
        conn.execute(
            sa.update(ebay_sync_state)
            .where(ebay_sync_state.c.ebay_account_id == run.account_id, ebay_sync_state.c.api_family == run.family)
            .values(last_error=reason, last_run_at=sa.func.now(), updated_at=sa.func.now())
        )
        log_event(conn, run, "error", {"error": reason})


def explain_failure(engine: Engine, run: RunHandle, message: str) -> None:
    """Replace the recorded reason of a run that already ended as error with a clearer one."""
    reason = one_line(message)
    with engine.begin() as conn:
        conn.execute(
            sa.update(ebay_worker_run)
            .where(ebay_worker_run.c.id == run.run_id, ebay_worker_run.c.status == ERROR)
            .values(error_message=reason)
        )
        conn.execute(
            sa.update(ebay_sync_state)
            .where(ebay_sync_state.c.ebay_account_id == run.account_id, ebay_sync_state.c.api_family == run.family)
            .values(last_error=reason, updated_at=sa.func.now())
        )
        log_event(conn, run, "error", {"error": reason})


def set_account_error(engine: Engine, account_id: str, families: Iterable[str], message: str) -> None:
    """Set ``last_error`` of every listed family of an account (e.g. when it must re-authorize)."""
    reason, names = one_line(message), list(families)
    with engine.begin() as conn:
        for family in names:
            ensure_sync_state(conn, account_id, family)
        conn.execute(
            sa.update(ebay_sync_state)
            .where(ebay_sync_state.c.ebay_account_id == account_id, ebay_sync_state.c.api_family.in_(names))
            .values(last_error=reason, updated_at=sa.func.now())
        )


def heartbeat(engine: Engine, run: RunHandle) -> None:
    """Note that the run is still alive (the stale-run sweep uses it)."""
    with engine.begin() as conn:
        conn.execute(
            sa.update(ebay_worker_run).where(ebay_worker_run.c.id == run.run_id).values(heartbeat_at=sa.func.now())
        )


def fail_runs_of_dagster_run(engine: Engine, dagster_run_id: str, message: str) -> int:
    """Close every still-running row of a Dagster run as ``error``; return how many were closed."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(ebay_worker_run.c.id, ebay_worker_run.c.ebay_account_id, ebay_worker_run.c.api_family).where(
                ebay_worker_run.c.dagster_run_id == dagster_run_id, ebay_worker_run.c.status == RUNNING
            )
        ).all()
    for row in rows:
        fail_run(engine, RunHandle(row.id, row.ebay_account_id, row.api_family), message)
    return len(rows)


def close_stale_runs(engine: Engine, older_than: timedelta, now: datetime | None = None) -> int:
    """Close ``running`` rows whose last heartbeat is older than ``older_than``; return how many."""
    cutoff = (now or datetime.now(UTC)) - older_than
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(ebay_worker_run.c.id, ebay_worker_run.c.ebay_account_id, ebay_worker_run.c.api_family).where(
                ebay_worker_run.c.status == RUNNING,
                sa.func.coalesce(ebay_worker_run.c.heartbeat_at, ebay_worker_run.c.started_at) < cutoff,
            )
        ).all()
    for row in rows:
        fail_run(
            engine,
            RunHandle(row.id, row.ebay_account_id, row.api_family),
            f"run went silent for more than {older_than} and was closed by the stale-run sweep",
        )
    return len(rows)
