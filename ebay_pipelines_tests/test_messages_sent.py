"""Messages of every folder land through the real sync; the seller's own are marked and left out of the inbox."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from tests_support import fast_definitions, run_family

from ebay_pipelines.store.accounts import add_account
from ebay_pipelines.store.messages import inbox_messages
from ebay_pipelines.store.secrets import load_cipher
from ebay_pipelines.sync.families import FAMILIES_BY_NAME
from ebay_pipelines.sync.windows import day_window

ACCOUNT = "acct-1"
DAY = date(2026, 10, 29)


def test_messages_of_every_folder_land_and_the_inbox_leaves_out_sent_ones(
    ebay_env: str, sim, dagster_instance, engine: sa.Engine
) -> None:
    """GetMyMessagesRequestType: without a FolderID every folder comes back, Sent (FolderID 1)
    included (README Wire facts: GetMyMessages folders). Sent rows carry ``is_sent``; an inbox query
    leaves them out, and also a row whose sender is the account's own eBay user."""
    seller = sim.services.world.gen.seller_id(ACCOUNT)
    add_account(engine, load_cipher(), ACCOUNT, sim.refresh_token_for(ACCOUNT), ebay_user_id=seller)
    dagster_instance.add_dynamic_partitions("ebay_accounts", [ACCOUNT])
    result = run_family(fast_definitions(ebay_env), dagster_instance, "messages", ACCOUNT, DAY)
    assert result.success, result.all_events

    w = day_window(DAY, FAMILIES_BY_NAME["messages"].overlap, sim.now)
    truth = {str(m["MessageID"]): m for m in sim.truth.messages(ACCOUNT, w.start, w.end)}
    with engine.connect() as conn:
        rows = {r.message_id: r for r in conn.execute(sa.text("select * from ebay_messages")).all()}
        assert set(rows) == set(truth)
        sent = {i for i, m in truth.items() if m["FolderID"] == 1}
        assert sent and len(sent) < len(truth)
        assert {i for i, r in rows.items() if r.is_sent} == sent
        assert all(r.is_sent is False for i, r in rows.items() if i not in sent)
        assert all(rows[i].sender == seller for i in sent)

        inbox = [r.message_id for r in conn.execute(inbox_messages(ACCOUNT)).all()]
        assert sorted(inbox) == sorted(set(truth) - sent)

        # A message from the seller's own user id that eBay filed without a folder is the seller's too.
        received = sorted(set(truth) - sent)[0]
        conn.execute(
            sa.text("update ebay_messages set sender = :s, is_sent = null where message_id = :i"),
            {"s": seller, "i": received},
        )
        assert received not in {r.message_id for r in conn.execute(inbox_messages(ACCOUNT)).all()}
        assert len(conn.execute(inbox_messages(ACCOUNT)).all()) == len(inbox) - 1
