"""Trading GetMyMessages: message headers for a time window, then bodies in batches of ten.

Call cost per header page of up to 200 messages: one ReturnHeaders call plus one
ReturnMessages call per 10 messages (eBay's maximum of ten MessageIDs per request), i.e.
about 21 calls per 200 messages; a message whose header is unchanged since the stored message
(``known``) needs no body call, nor does one whose flags alone moved (bodies never change). Message flags (read, flagged, replied) change without a
timestamp, so rows use the fetch time as ``source_updated_at``. The endpoint spec ``MESSAGES``
describes headers and bodies; :mod:`ebay_pipelines.ebay.paging` walks it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from . import paging
from .endpoints import DetailSpec, EndpointSpec, Pagination, WindowSpec
from .parsing import Record, utcnow
from .trading import TradingClient
from .walk import Walk

CALL = "GetMyMessages"

MESSAGES = EndpointSpec(
    call=CALL,
    api="trading",
    list_element=None,
    item_path="Messages/Message",
    pagination=Pagination.TRADING,
    page_size=200,
    paging_note="Trading page numbers, first page to a short one: GetMyMessages answers carry no "
    "PaginationResult, so no last page to walk back from and no total to prove the walk against; receive "
    "dates never move and a one-page window is read at once.",
    walk=Walk.FORWARD,
    params=(("DetailLevel", "ReturnHeaders"),),
    window=WindowSpec(start_param="StartTime", end_param="EndTime"),
    # Headers carry no body: ReturnMessages asks for at most ten MessageIDs per request (eBay's maximum).
    detail=DetailSpec(
        call=CALL,
        id_field="MessageID",
        params=(("DetailLevel", "ReturnMessages"),),
        batch=10,
        ids_element="MessageIDs",
        id_element="MessageID",
        item_path="Messages/Message",
        reuse_requires=("Text",),
        # A body never changes: a stored message whose flags moved takes the new header, no body call.
        stable=("Text",),
    ),
)
HEADERS_PER_PAGE = MESSAGES.page_size


def iter_messages(
    client: TradingClient,
    since: datetime,
    until: datetime,
    *,
    folder_id: int | None = None,
    entries_per_page: int = HEADERS_PER_PAGE,
    known: paging.Known | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Yield pages of messages received (or sent) in ``[since, until)``, each with its body in ``Text``.

    Without ``folder_id`` every folder comes back, Sent (1) included (GetMyMessagesRequestType).

    A message whose body call returns nothing (e.g. deleted meanwhile) is yielded as its header.
    A message ``known`` (ids -> stored messages) holds with a body and every header field
    unchanged is yielded as stored, without a body call.
    """
    return paging.pages(
        MESSAGES,
        trading=client,
        since=since,
        until=until,
        params=[("FolderID", folder_id)],
        page_size=entries_per_page,
        known=known,
    )


#: eBay's FolderID of the Sent folder (Inbox is 0): the seller's own messages.
SENT_FOLDER_ID = 1


def message_row(account_id: str, message: dict[str, Any], *, fetched_at: datetime | None = None) -> dict[str, Any]:
    """Return the ``ebay_messages`` row of one message (``body`` is its ``Text``).

    ``is_sent`` says the message is the seller's own: it sits in the Sent folder (FolderID 1);
    NULL when the answer names no folder.
    """
    rec = Record(message, call_name=CALL, account_id=account_id, id_field="MessageID")
    folder_id = rec.integer("Folder.FolderID")
    return {
        "ebay_account_id": account_id,
        "message_id": rec.key("MessageID"),
        "external_message_id": rec.text("ExternalMessageID"),
        "folder_id": folder_id,
        "is_sent": None if folder_id is None else folder_id == SENT_FOLDER_ID,
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
