"""The oldest stored row per account that is not final yet: where a refresh must reach back to."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa

from ebay_pipelines.store.tables import metadata

#: ISO 8601 timestamps only: a malformed value in ``raw`` never breaks the query.
_ISO = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"


def oldest_open(
    conn: sa.Connection,
    table_name: str,
    accounts: Iterable[str],
    *,
    status_column: str,
    final: Sequence[str],
    since: datetime,
    date_column: str | None = None,
    date_path: Sequence[str] = (),
    where: Sequence[tuple[str, str]] = (),
) -> dict[str, datetime]:
    """``{account: earliest date}`` of the rows not final (status NULL or outside ``final``) dated ``since`` or later.

    The date is ``date_column``, or the ISO timestamp at ``date_path`` in ``raw``. Accounts with no
    such row are left out. One query for every account.
    """
    table = metadata.tables[table_name]
    wanted = sorted(set(accounts))
    if not wanted:
        return {}
    if date_column is not None:
        when: sa.ColumnElement[datetime] = table.c[date_column]
    else:
        text = table.c.raw.op("#>>")(sa.literal(list(date_path), sa.ARRAY(sa.Text)))
        when = sa.case((text.op("~")(_ISO), sa.cast(text, sa.TIMESTAMP(timezone=True))), else_=None)
    query = (
        sa.select(table.c.ebay_account_id, sa.func.min(when))
        .where(*_still_open(table, wanted, status_column, final, where))
        .where(when >= since)
        .group_by(table.c.ebay_account_id)
    )
    return {account: first for account, first in conn.execute(query) if first is not None}


def count_open(
    conn: sa.Connection,
    table_name: str,
    accounts: Iterable[str],
    *,
    status_column: str,
    final: Sequence[str],
    where: Sequence[tuple[str, str]] = (),
) -> dict[str, int]:
    """``{account: rows}`` not final yet (the rows :func:`oldest_open` looks at, whatever their date)."""
    table = metadata.tables[table_name]
    wanted = sorted(set(accounts))
    if not wanted:
        return {}
    query = (
        sa.select(table.c.ebay_account_id, sa.func.count())
        .where(*_still_open(table, wanted, status_column, final, where))
        .group_by(table.c.ebay_account_id)
    )
    return {account: int(n) for account, n in conn.execute(query)}


def _still_open(
    table: sa.Table, accounts: list[str], status_column: str, final: Sequence[str], where: Sequence[tuple[str, str]]
) -> list[sa.ColumnElement[bool]]:
    """The conditions of an account's rows whose status is NULL or outside ``final`` (and match ``where``)."""
    status = table.c[status_column]
    return [
        table.c.ebay_account_id.in_(accounts),
        sa.or_(status.is_(None), status.not_in(list(final))),
        *(table.c[column] == value for column, value in where),
    ]
