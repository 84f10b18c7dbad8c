"""Trading API calls: GetMyMessages, GetMyeBaySelling, GetMyeBayBuying."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from .services import Services
from .util import parse_iso
from .wire_trading import TOO_MANY_IDS, Node, document, el, error

SUPPORTED_CALLS = ("GetMyMessages", "GetMyeBaySelling", "GetMyeBayBuying")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def child(elem: ET.Element | None, name: str) -> ET.Element | None:
    """First child of ``elem`` with local name ``name``."""
    if elem is None:
        return None
    for c in elem:
        if _local(c.tag) == name:
            return c
    return None


def children(elem: ET.Element | None, name: str) -> list[ET.Element]:
    """All children of ``elem`` with local name ``name``."""
    return [] if elem is None else [c for c in elem if _local(c.tag) == name]


def text(elem: ET.Element | None, name: str) -> str | None:
    """Stripped text of the first child ``name``."""
    c = child(elem, name)
    return c.text.strip() if c is not None and c.text else None


def parse_body(body: bytes) -> ET.Element | None:
    """The request's root element, or None when the body is not XML."""
    try:
        return ET.fromstring(body) if body.strip() else None
    except ET.ParseError:
        return None


def body_token(root: ET.Element | None) -> str | None:
    """``RequesterCredentials/eBayAuthToken`` from the body, if present."""
    return text(child(root, "RequesterCredentials"), "eBayAuthToken")


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _pagination(spec: ET.Element | None, default_entries: int = 25, max_entries: int | None = 200) -> tuple[int, int]:
    p = child(spec, "Pagination")
    entries = max(1, _int(text(p, "EntriesPerPage"), default_entries))
    if max_entries is not None:
        entries = min(entries, max_entries)
    return entries, max(1, _int(text(p, "PageNumber"), 1))


def _pagination_result(total: int, entries: int) -> Node:
    return el("PaginationResult", [el("TotalNumberOfPages", -(-total // entries)), el("TotalNumberOfEntries", total)])


def failure(call: str, now: int, *errors: dict) -> bytes:
    """An ``Ack=Failure`` response of ``call``."""
    return document(call, now, [], list(errors))


def get_my_messages(svc: Services, root: ET.Element | None, account: str, now: int) -> bytes:
    """GetMyMessages with ReturnHeaders / ReturnMessages / ReturnSummary."""
    call = "GetMyMessages"
    levels = [c.text.strip() for c in children(root, "DetailLevel") if c.text]
    if not levels:
        return failure(
            call,
            now,
            error(
                "21919010",
                "DetailLevel is required.",
                "A DetailLevel (ReturnHeaders, ReturnMessages or ReturnSummary) is required.",
            ),
        )
    level = levels[0]
    ids = [c.text.strip() for c in children(child(root, "MessageIDs"), "MessageID") if c.text]
    if len(ids) > 10:
        return failure(call, now, TOO_MANY_IDS)
    world, tr = svc.world, svc.trading
    if level == "ReturnSummary":
        inbox = world.messages(account, world.gen.hist_start, now + 1, now, folder_id=0)
        sent = world.messages(account, world.gen.hist_start, now + 1, now, folder_id=1)
        new = sum(1 for m in inbox if not m.is_read(now))
        flagged = sum(1 for m in inbox if m.is_flagged(now))
        summary = el(
            "Summary",
            [
                el(
                    "FolderSummary",
                    [
                        el("FolderID", 0),
                        el("FolderName", "Inbox"),
                        el("NewMessageCount", new),
                        el("TotalMessageCount", len(inbox)),
                    ],
                ),
                el(
                    "FolderSummary",
                    [
                        el("FolderID", 1),
                        el("FolderName", "Sent"),
                        el("NewMessageCount", 0),
                        el("TotalMessageCount", len(sent)),
                    ],
                ),
                el("NewMessageCount", new),
                el("FlaggedMessageCount", flagged),
                el("TotalMessageCount", len(inbox) + len(sent)),
            ],
        )
        return document(call, now, [summary])
    if level not in ("ReturnHeaders", "ReturnMessages"):
        return failure(call, now, error("37", "Input data is invalid.", f"Unsupported DetailLevel {level}."))
    with_text = level == "ReturnMessages"
    if ids:
        found = [m for m in (world.find_message(account, i, now) for i in ids) if m is not None]
    elif with_text:
        return failure(
            call, now, error("21919011", "MessageIDs are required.", "ReturnMessages needs MessageIDs (at most 10).")
        )
    else:
        folder = text(root, "FolderID")
        raw_start, raw_end = text(root, "StartTime"), text(root, "EndTime")
        try:
            start = parse_iso(raw_start) if raw_start else world.gen.hist_start
            end = parse_iso(raw_end) if raw_end else now + 1
        except ValueError:
            return failure(call, now, error("37", "Input data is invalid.", "Invalid StartTime or EndTime."))
        entries, page = _pagination(root, 25, None)
        # GetMyMessagesRequestType: "If a FolderID value is provided, only messages from the specified
        # folder are returned"; without one, every folder (Inbox 0, Sent 1; no custom folders here).
        folder_id = None if folder is None else _int(folder, -1)
        everything = [] if folder_id not in (None, 0, 1) else world.messages(account, start, end, now, folder_id)
        found = everything[(page - 1) * entries : page * entries]
    body: list[Node] = []
    if found:
        body.append(el("Messages", [tr.message_xml(tr.message_dict(account, m, now), with_text) for m in found]))
    return document(call, now, body)


def get_my_ebay_selling(svc: Services, root: ET.Element | None, account: str, now: int) -> bytes:
    """GetMyeBaySelling: the ActiveList (other lists are empty)."""
    call = "GetMyeBaySelling"
    spec = child(root, "ActiveList")
    if spec is not None and (text(spec, "Include") or "true").lower() == "false":
        return document(call, now, [])
    entries, page = _pagination(spec)
    indexes = svc.world.listing_indexes(account)
    total = len(indexes)
    tr, gen = svc.trading, svc.world.gen
    items = [
        tr.listing_xml(tr.listing_dict(account, gen.listing(account, k), now))
        for k in indexes[(page - 1) * entries : page * entries]
    ]
    active: list[Node] = []
    if items:
        active.append(el("ItemArray", items))
    active.append(_pagination_result(total, entries))
    return document(call, now, [el("ActiveList", active)])


def get_my_ebay_buying(svc: Services, root: ET.Element | None, account: str, now: int) -> bytes:
    """GetMyeBayBuying: the WonList."""
    call = "GetMyeBayBuying"
    spec = child(root, "WonList")
    if spec is not None and (text(spec, "Include") or "true").lower() == "false":
        return document(call, now, [])
    duration = min(60, max(0, _int(text(spec, "DurationInDays"), 60)))
    entries, page = _pagination(spec)
    tr = svc.trading
    everything = svc.world.purchases(account, now, duration)
    rows = [
        tr.purchase_xml(tr.purchase_dict(account, p, now)) for p in everything[(page - 1) * entries : page * entries]
    ]
    won: list[Node] = []
    if rows:
        won.append(el("OrderTransactionArray", rows))
    won.append(_pagination_result(len(everything), entries))
    return document(call, now, [el("WonList", won)])


HANDLERS = {
    "GetMyMessages": get_my_messages,
    "GetMyeBaySelling": get_my_ebay_selling,
    "GetMyeBayBuying": get_my_ebay_buying,
}
