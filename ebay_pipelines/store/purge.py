"""Purge one user's personal data from the given tables, ``raw`` JSON included; business facts stay.

A row *involves* the user when one of the user's identifiers (username, user id, eiasToken)
occurs in one of its text or jsonb columns. In an involved row:

- a column that names a user (``USER_COLUMNS``) holding an identifier becomes ``PLACEHOLDER``;
- a column of that user's words (``PERSONAL_COLUMNS``: message subjects and bodies) becomes NULL;
- any other text has each identifier replaced by ``PLACEHOLDER``;
- in jsonb, every string is treated the same way, and every object under a personal key
  (``PERSONAL_KEYS``: the buyer, names, addresses, phones, e-mails, message texts...) has its
  strings replaced by ``PLACEHOLDER`` and its numbers dropped (``KEPT_KEYS`` stay: a country code
  is a tax fact, not a person).

Ids, amounts, dates and statuses are never touched. A row of a seller's own account is the
seller's, not a counterparty's: only the seller's identifiers and the seller's own personal
fields (``OWNER_COLUMNS``, ``OWNER_KEYS``: the payout instrument) are scrubbed there. The
account's own id (``ebay_account_id``) and every primary-key column are the project's keys, never
scrubbed. Nothing here knows an eBay wire format beyond the key names listed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection

from ebay_pipelines.store.tables import ebay_accounts, ebay_tokens

#: What replaces a deleted user wherever a business fact needs a value.
PLACEHOLDER = "deleted-user"
#: Identifiers shorter than this are matched only as whole values, never inside other text.
MIN_SUBSTRING = 3
#: Columns whose whole value names a user (a buyer, a seller, a sender or recipient).
USER_COLUMNS = frozenset(
    {"buyer_username", "buyer", "seller", "seller_id", "seller_user_id", "sender", "recipient_user_id", "send_to_name"}
)
#: Columns holding the words of the user's messages.
PERSONAL_COLUMNS = frozenset({"subject", "body"})
#: A seller's own personal columns (its payout instrument).
OWNER_COLUMNS = frozenset({"instrument_nickname", "account_last_four_digits", "bank_reference"})
#: JSON keys whose values are a counterparty's personal data in a row involving that counterparty.
PERSONAL_KEYS = frozenset(
    {
        # Fulfillment getOrders: the buyer, ship-to and registration contacts, checkout notes.
        "buyer",
        "buyerRegistrationAddress",
        "taxAddress",
        "shipTo",
        "contactAddress",
        "fullName",
        "primaryPhone",
        "secondaryPhone",
        "email",
        "companyName",
        "taxIdentifier",
        "buyerCheckoutNotes",
        # Post-Order and payment disputes: the buyer's login and addresses.
        "buyerLoginName",
        "buyerUsername",
        "buyerAddress",
        "buyerComments",
        # Trading GetMyMessages: who wrote to whom, and what.
        "Sender",
        "RecipientUserID",
        "SendToName",
        "Subject",
        "Text",
        "Content",
        # Trading purchases and the problem grid.
        "Buyer",
        "ShippingAddress",
        "buyer_username",
    }
)
#: A seller's own personal JSON keys.
OWNER_KEYS = frozenset({"payoutInstrument", "bankReference"})
#: Keys kept inside a personal object: facts about a sale, not about a person.
KEPT_KEYS = frozenset({"countryCode", "country", "instrumentType"})


@dataclass(frozen=True)
class Identity:
    """A deleted user's identifiers (hidden from ``repr``)."""

    values: tuple[str, ...]

    def __repr__(self) -> str:
        return f"Identity(<{len(self.values)} identifiers>)"

    @property
    def searchable(self) -> tuple[str, ...]:
        """Identifiers long enough to look for inside other text."""
        return tuple(v for v in self.values if len(v) >= MIN_SUBSTRING)

    def scrub_text(self, text: str) -> str:
        """``text`` with each identifier (whole or, when long enough, inside it) replaced by the placeholder."""
        if text in self.values:
            return PLACEHOLDER
        for value in sorted(self.searchable, key=len, reverse=True):
            if value in text:
                text = text.replace(value, PLACEHOLDER)
        return text


def _blank(value: Any) -> Any:
    """A personal value with its strings replaced and its numbers dropped (kept keys stay)."""
    if isinstance(value, dict):
        return {k: (v if k in KEPT_KEYS else _blank(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_blank(v) for v in value]
    if isinstance(value, str):
        return PLACEHOLDER
    if isinstance(value, bool) or value is None:
        return value
    return None


def scrub_json(value: Any, identity: Identity, personal_keys: frozenset[str]) -> Any:
    """``value`` with the identity's strings replaced and the objects under ``personal_keys`` blanked."""
    if isinstance(value, dict):
        return {
            k: (_blank(v) if k in personal_keys else scrub_json(v, identity, personal_keys)) for k, v in value.items()
        }
    if isinstance(value, list):
        return [scrub_json(v, identity, personal_keys) for v in value]
    if isinstance(value, str):
        return identity.scrub_text(value)
    return value


def _scrubbed_columns(table: sa.Table) -> list[sa.Column]:
    key = set(table.primary_key.columns.keys())
    return [
        c
        for c in table.columns
        if c.name not in key and c.name != "ebay_account_id" and isinstance(c.type, (sa.Text, JSONB))
    ]


def _involves(columns: Sequence[sa.Column], identity: Identity) -> sa.ColumnElement[bool]:
    """SQL: the row holds one of the identifiers in a text or jsonb column."""
    tests: list[sa.ColumnElement[bool]] = []
    for column in columns:
        for value in identity.values:
            whole = len(value) < MIN_SUBSTRING
            if isinstance(column.type, JSONB):
                # As jsonb prints it: quoted (a whole string) or escaped inside one.
                quoted = json.dumps(value, ensure_ascii=False)
                tests.append(sa.func.strpos(sa.cast(column, sa.Text), quoted if whole else quoted[1:-1]) > 0)
            elif whole:
                tests.append(column == value)
            else:
                tests.append(sa.func.strpos(column, value) > 0)
    return sa.or_(*tests) if tests else sa.false()


def _scrub_row(row: Mapping[Any, Any], columns: Sequence[sa.Column], identity: Identity, owner: bool) -> dict:
    """The scrubbed values of the row's text and jsonb columns."""
    personal_keys = OWNER_KEYS if owner else PERSONAL_KEYS
    out: dict[str, Any] = {}
    for column in columns:
        value = row[column.name]
        if value is None:
            out[column.name] = None
        elif isinstance(column.type, JSONB):
            out[column.name] = scrub_json(value, identity, personal_keys)
        elif column.name in (OWNER_COLUMNS if owner else PERSONAL_COLUMNS):
            out[column.name] = None
        elif column.name in USER_COLUMNS and value in identity.values:
            out[column.name] = PLACEHOLDER
        else:
            out[column.name] = identity.scrub_text(value)
    return out


def purge_table(
    conn: Connection,
    table: sa.Table,
    identity: Identity,
    owner_accounts: Sequence[str] = (),
    batch: int = 500,
) -> int:
    """Scrub the user from ``table``; rows of ``owner_accounts`` are scrubbed as the seller's own. Rows changed."""
    columns = _scrubbed_columns(table)
    if not columns or not identity.values:
        return 0
    key = list(table.primary_key.columns)
    involved = _involves(columns, identity)
    owned = (
        table.c.ebay_account_id.in_(owner_accounts) if owner_accounts and "ebay_account_id" in table.c else sa.false()
    )
    query = sa.select(*key, *columns, owned.label("_owned")).where(sa.or_(involved, owned))
    update = (
        sa.update(table)
        .where(*[c == sa.bindparam(f"_key_{c.name}") for c in key])
        .values({c.name: sa.bindparam(f"_new_{c.name}", type_=c.type) for c in columns})
    )
    changed = 0
    pending: list[dict[str, Any]] = []
    for row in conn.execute(query).mappings().all():
        new = _scrub_row(row, columns, identity, owner=bool(row["_owned"]))
        if all(new[c.name] == row[c.name] for c in columns):
            continue
        pending.append(
            {**{f"_key_{c.name}": row[c.name] for c in key}, **{f"_new_{name}": v for name, v in new.items()}}
        )
        if len(pending) >= batch:
            changed += _flush(conn, update, pending)
    return changed + _flush(conn, update, pending)


def _flush(conn: Connection, update: sa.Update, pending: list[dict[str, Any]]) -> int:
    if not pending:
        return 0
    conn.execute(update, pending)
    count = len(pending)
    pending.clear()
    return count


def seller_accounts(conn: Connection, identity: Identity) -> list[str]:
    """The registered accounts whose eBay user (name or id) is the deleted user."""
    columns = [c for c in ebay_accounts.columns if isinstance(c.type, sa.Text) and c.name != "ebay_account_id"]
    if not columns or not identity.values:
        return []
    query = sa.select(ebay_accounts.c.ebay_account_id).where(sa.or_(*[c.in_(identity.values) for c in columns]))
    return sorted(conn.execute(query).scalars())


def retire_seller_accounts(conn: Connection, accounts: Sequence[str], identity: Identity) -> dict[str, int]:
    """Disable the accounts, delete their tokens and forget which eBay user they were. Rows changed per table."""
    if not accounts:
        return {}
    user_columns = [c for c in ebay_accounts.columns if isinstance(c.type, sa.Text) and c.name != "ebay_account_id"]
    values: dict[str, Any] = {"enabled": False, "updated_at": sa.func.now()}
    values.update({c.name: sa.case((c.in_(identity.values), None), else_=c) for c in user_columns})
    disabled = conn.execute(
        sa.update(ebay_accounts).where(ebay_accounts.c.ebay_account_id.in_(accounts)).values(values)
    ).rowcount
    tokens = conn.execute(sa.delete(ebay_tokens).where(ebay_tokens.c.ebay_account_id.in_(accounts))).rowcount
    return {ebay_accounts.name: disabled, ebay_tokens.name: tokens}


def purge_user(
    conn: Connection, tables: Iterable[sa.Table], identity: Identity, owner_accounts: Sequence[str] = ()
) -> dict[str, int]:
    """Scrub the user from every table (inside the caller's transaction); rows changed per table."""
    counts = {table.name: purge_table(conn, table, identity, owner_accounts) for table in tables}
    return {name: n for name, n in counts.items() if n}
