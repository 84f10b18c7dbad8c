"""Trading GetMyMessages: message headers for a time window, then bodies in batches of ten.

Call cost per header page of up to 200 messages: one ReturnHeaders call plus one
ReturnMessages call per 10 messages (eBay's maximum of ten MessageIDs per request), i.e.
about 21 calls per 200 messages; a message whose header is unchanged since the stored message
(``known``) needs no body call. Message flags (read, flagged, replied) change without a
timestamp, so rows use the fetch time as ``source_updated_at``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

from .parsing import Record, format_timestamp, utcnow
from .trading import TradingClient, add, add_pagination, new_request, to_dicts
from .xmlconv import findall

CALL = "GetMyMessages"
HEADERS_PER_PAGE = 200
#: eBay accepts at most ten MessageIDs per ReturnMessages request.
MAX_IDS_PER_REQUEST = 10


def _headers_request(since: datetime, until: datetime, folder_id: int | None):
    def build(page: int, per_page: int):
        request = new_request(CALL)
        add(request, "DetailLevel", "ReturnHeaders")
        if folder_id is not None:
            add(request, "FolderID", folder_id)
        add(request, "StartTime", format_timestamp(since))
        add(request, "EndTime", format_timestamp(until))
        add_pagination(request, per_page, page)
        return request

    return build


def _bodies_request(message_ids: list[str]):
    request = new_request(CALL)
    add(request, "DetailLevel", "ReturnMessages")
    ids = add(request, "MessageIDs")
    for message_id in message_ids:
        add(ids, "MessageID", message_id)
    return request


def fetch_bodies(client: TradingClient, message_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Return full messages (with ``Text``) by MessageID, asking for at most ten ids per call."""
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(message_ids), MAX_IDS_PER_REQUEST):
        chunk = message_ids[start : start + MAX_IDS_PER_REQUEST]
        root = client.execute(CALL, _bodies_request(chunk))
        for message in to_dicts(findall(root, "Messages/Message")):
            message_id = Record(message, call_name=CALL, account_id=client.account_id).text("MessageID")
            if message_id:
                found[message_id] = message
    return found


def iter_messages(
    client: TradingClient,
    since: datetime,
    until: datetime,
    *,
    folder_id: int | None = None,
    entries_per_page: int = HEADERS_PER_PAGE,
    known: Callable[[list[str]], Mapping[str, dict[str, Any]]] | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Yield pages of messages received in ``[since, until)``, each with its body in ``Text``.

    A message whose body call returns nothing (e.g. deleted meanwhile) is yielded as its header.
    A message ``known`` (ids -> stored messages) holds with a body and every header field
    unchanged is yielded as stored, without a body call.
    """
    for page in client.paginate(
        CALL,
        None,
        _headers_request(since, until, folder_id),
        item_path="Messages/Message",
        entries_per_page=entries_per_page,
    ):
        headers = to_dicts(page)
        ids = []
        for header in headers:
            rec = Record(header, call_name=CALL, account_id=client.account_id, id_field="MessageID")
            message_id = rec.text("MessageID")
            if not message_id:
                raise rec.fail("MessageID", "is missing")
            ids.append(message_id)
        stored = known(ids) if known is not None else {}
        reused = {
            message_id: dict(previous)
            for message_id, header in zip(ids, headers)
            if (previous := stored.get(message_id)) is not None
            and previous.get("Text") is not None
            and all(k in previous and previous[k] == v for k, v in header.items())
        }
        bodies = fetch_bodies(client, [m for m in ids if m not in reused])
        bodies.update(reused)
        yield [bodies.get(message_id, header) for message_id, header in zip(ids, headers)]


def message_row(account_id: str, message: dict[str, Any], *, fetched_at: datetime | None = None) -> dict[str, Any]:
    """Return the ``ebay_messages`` row of one message (``body`` is its ``Text``)."""
    rec = Record(message, call_name=CALL, account_id=account_id, id_field="MessageID")
    return {
        "ebay_account_id": account_id,
        "message_id": rec.key("MessageID"),
        "external_message_id": rec.text("ExternalMessageID"),
        "folder_id": rec.integer("Folder.FolderID"),
        "sender": rec.text("Sender"),
        "recipient_user_id": rec.text("RecipientUserID"),
        "send_to_name": rec.text("SendToName"),
        "subject": rec.text("Subject"),
        "body": rec.text("Text"),
        "message_type": rec.text("MessageType"),
        "question_type": rec.text("QuestionType"),
        "item_id": rec.text("ItemID"),
        "item_title": rec.text("ItemTitle"),
        "is_read": rec.boolean("Read"),
        "flagged": rec.boolean("Flagged"),
        "replied": rec.boolean("Replied"),
        "high_priority": rec.boolean("HighPriority"),
        "receive_date": rec.timestamp("ReceiveDate"),
        "expiration_date": rec.timestamp("ExpirationDate"),
        "raw": message,
        "source_updated_at": fetched_at or utcnow(),
    }
