"""A local, deterministic simulation of the eBay APIs this project syncs from.

Serves Fulfillment, Finances, Inventory, Post-Order v2 and Trading (GetMyMessages,
GetMyeBaySelling, GetMyeBayBuying) over real HTTP on 127.0.0.1, with eBay's wire formats,
OAuth token handling, a controllable clock, fault injection, churn between pages and a ``truth`` oracle.
"""

from .churn import ChurnRule
from .config import SimulatorConfig
from .faults import FAULT_KINDS, FaultRule
from .simulator import EbaySimulator
from .standalone import serve

__all__ = ["FAULT_KINDS", "ChurnRule", "EbaySimulator", "FaultRule", "SimulatorConfig", "serve"]
