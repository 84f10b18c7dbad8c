"""GetMyMessages folders: the simulator answers per eBay's GetMyMessagesRequestType, the client reads every folder."""

from __future__ import annotations

from datetime import timedelta

from ebay_pipelines.ebay import messages

from .conftest import ACCOUNT, Wired, window


def _ids(pages) -> list[str]:
    return [m["MessageID"] for page in pages for m in page]


def test_without_folder_id_every_folder_comes_back(wired: Wired) -> None:
    """GetMyMessagesRequestType (FolderID): "If a FolderID value is provided, only messages from the
    specified folder are returned": without one every folder comes back, Sent (FolderID 1) included
    (README Wire facts: GetMyMessages folders). FolderID 0 is the Inbox, 1 the Sent folder."""
    since, until = window(10)
    every = list(messages.iter_messages(wired.trading, since, until))
    inbox = list(messages.iter_messages(wired.trading, since, until, folder_id=0))
    sent = list(messages.iter_messages(wired.trading, since, until, folder_id=1))
    records = [m for page in every for m in page]
    folders = {m["MessageID"]: m["Folder"]["FolderID"] for m in records}
    assert set(_ids(inbox)) == {i for i, f in folders.items() if f == "0"} and _ids(inbox)
    assert set(_ids(sent)) == {i for i, f in folders.items() if f == "1"} and _ids(sent)
    assert sorted(_ids(every)) == sorted(_ids(inbox) + _ids(sent))
    assert _ids(every) == [m["MessageID"] for m in wired.sim.truth.messages(ACCOUNT, since, until)]
    seller = wired.sim.services.world.gen.seller_id(ACCOUNT)
    # A reply answers a message received at most a few days before it.
    earlier = wired.sim.truth.messages(ACCOUNT, since - timedelta(days=3), until)
    received = {m["Sender"] for m in earlier if m["FolderID"] == 0}
    for m in records:
        if m["Folder"]["FolderID"] == "1":  # the seller's reply: Sender the seller, RecipientUserID the buyer
            assert m["Sender"] == seller and m["RecipientUserID"] in received and m["Text"]
        else:
            assert m["RecipientUserID"] == seller and m["Sender"] != seller


def test_sent_messages_are_marked_in_their_rows(wired: Wired) -> None:
    """GetMyMessagesRequestType: the Sent folder is FolderID 1; its rows carry ``is_sent``."""
    since, until = window(5)
    rows = [
        messages.message_row(ACCOUNT, m) for page in messages.iter_messages(wired.trading, since, until) for m in page
    ]
    assert {(r["folder_id"], r["is_sent"]) for r in rows} == {(0, False), (1, True)}
    assert messages.message_row(ACCOUNT, {"MessageID": "9"})["is_sent"] is None
