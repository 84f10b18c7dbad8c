"""Account-deletion notifications as received, and each one's purge with its audit row.

A notification is stored once (its id is the key: a re-delivery stores nothing new) with the
user's identifiers, which the purge needs. The purge runs in one transaction: it scrubs the user
from the given tables (``store.purge``), retires the user's seller accounts, writes the audit row
(rows changed per table and the SHA-256 of the user id) and clears the identifiers from the
notification, which keeps only that hash. A notification already processed changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection, Engine

from ebay_pipelines.store.purge import Identity, purge_user, retire_seller_accounts, seller_accounts
from ebay_pipelines.store.tables import ebay_account_deletion_audit as audit
from ebay_pipelines.store.tables import ebay_account_deletion_notifications as notifications

RECEIVED = "received"
PROCESSED = "processed"


@dataclass(frozen=True)
class ReceivedNotification:
    """What the endpoint stores of one verified notification (identifiers hidden from ``repr``)."""

    notification_id: str
    topic: str
    user_id_sha256: str
    event_date: datetime | None = None
    publish_date: datetime | None = None
    user_id: str | None = None
    username: str | None = None
    eias_token: str | None = None

    def __repr__(self) -> str:
        return f"ReceivedNotification(notification_id={self.notification_id!r}, topic={self.topic!r})"


def record_notification(engine: Engine, received: ReceivedNotification) -> bool:
    """Store a verified notification; False (and nothing written) when its id is already known."""
    stmt = (
        insert(notifications)
        .values(
            notification_id=received.notification_id,
            topic=received.topic,
            ebay_user_id=received.user_id,
            username=received.username,
            eias_token=received.eias_token,
            ebay_user_id_sha256=received.user_id_sha256,
            event_date=received.event_date,
            publish_date=received.publish_date,
        )
        .on_conflict_do_nothing(index_elements=[notifications.c.notification_id])
    )
    with engine.begin() as conn:
        return conn.execute(stmt).rowcount == 1


@dataclass(frozen=True)
class Pending:
    """A notification waiting for its purge."""

    notification_id: str
    attempts: int


def pending_notifications(conn: Connection, max_attempts: int, limit: int = 100) -> list[Pending]:
    """Notifications not purged yet that have failed fewer than ``max_attempts`` times, oldest first."""
    rows = conn.execute(
        sa.select(notifications.c.notification_id, notifications.c.attempts)
        .where(notifications.c.status == RECEIVED, notifications.c.attempts < max_attempts)
        .order_by(notifications.c.received_at)
        .limit(limit)
    )
    return [Pending(row.notification_id, row.attempts) for row in rows]


def record_purge_failure(engine: Engine, notification_id: str, message: str) -> None:
    """Count a failed purge attempt and keep why (the message holds no identifier of the user)."""
    with engine.begin() as conn:
        conn.execute(
            sa.update(notifications)
            .where(notifications.c.notification_id == notification_id)
            .values(attempts=notifications.c.attempts + 1, last_error=message[:2000])
        )


@dataclass(frozen=True)
class PurgeOutcome:
    """What one purge did: rows changed per table and the seller accounts retired (empty: nothing)."""

    notification_id: str
    rows_changed: dict[str, int]
    seller_accounts: tuple[str, ...]
    already_processed: bool = False


def purge_notification(engine: Engine, notification_id: str, tables: Iterable[sa.Table]) -> PurgeOutcome:
    """Purge the notification's user from ``tables`` and its seller accounts, in one transaction."""
    with engine.begin() as conn:
        row = conn.execute(
            sa.select(notifications).where(notifications.c.notification_id == notification_id).with_for_update()
        ).first()
        if row is None:
            raise LookupError(f"no account-deletion notification {notification_id!r} is stored")
        if row.status == PROCESSED:
            return PurgeOutcome(notification_id, {}, (), already_processed=True)
        identity = Identity(tuple(v for v in (row.username, row.ebay_user_id, row.eias_token) if v))
        accounts = seller_accounts(conn, identity)
        counts = purge_user(conn, tables, identity, accounts)
        counts.update(retire_seller_accounts(conn, accounts, identity))
        conn.execute(
            sa.insert(audit).values(
                notification_id=notification_id,
                ebay_user_id_sha256=row.ebay_user_id_sha256,
                rows_changed=dict(sorted(counts.items())),
            )
        )
        conn.execute(
            sa.update(notifications)
            .where(notifications.c.notification_id == notification_id)
            .values(
                status=PROCESSED,
                processed_at=sa.func.now(),
                attempts=notifications.c.attempts + 1,
                ebay_user_id=None,
                username=None,
                eias_token=None,
                last_error=None,
            )
        )
    return PurgeOutcome(notification_id, counts, tuple(accounts))
