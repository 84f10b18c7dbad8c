"""The demo: a local eBay simulator and two registered demo accounts for `ebay-pipelines dev`.

Used when no eBay application keys are configured, so a fresh machine shows accounts appearing,
backfills starting and assets materializing without any real eBay access.
"""

from __future__ import annotations

import logging

from sqlalchemy.engine import Engine

from ebay_pipelines.simulator import EbaySimulator, SimulatorConfig
from ebay_pipelines.store.accounts import add_account, list_accounts
from ebay_pipelines.store.secrets import TokenCipher

log = logging.getLogger(__name__)

DEMO_ACCOUNTS = ("demo-1", "demo-2")
DEMO_SEED = 7


def start_simulator(port: int = 0) -> EbaySimulator:
    """Start the demo simulator on 127.0.0.1 (wall-clock time, default volumes)."""
    return EbaySimulator(SimulatorConfig(seed=DEMO_SEED, port=port)).start()


def register_demo_accounts(engine: Engine, cipher: TokenCipher, sim: EbaySimulator) -> list[str]:
    """Register the demo accounts that are not registered yet; return the ids added."""
    with engine.connect() as conn:
        known = {a.account_id for a in list_accounts(conn)}
    added = []
    for account_id in DEMO_ACCOUNTS:
        if account_id not in known:
            add_account(
                engine,
                cipher,
                account_id,
                sim.refresh_token_for(account_id),
                ebay_user_id=f"{account_id.replace('-', '_')}_seller",
            )
            added.append(account_id)
    return added


def simulator_environment(sim: EbaySimulator) -> dict[str, str]:
    """Environment that points every eBay client at the simulator."""
    return {"EBAY_API_BASE_URL": sim.base_url, "EBAY_CLIENT_ID": sim.client_id, "EBAY_CLIENT_SECRET": sim.client_secret}
