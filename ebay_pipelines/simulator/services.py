"""The data-side objects the endpoints and ``truth`` share."""

from __future__ import annotations

from dataclasses import dataclass

from .config import SimulatorConfig
from .queries import World
from .wire_postorder import PostOrderRenderer
from .wire_rest import RestRenderer
from .wire_trading import TradingRenderer


@dataclass
class Services:
    """World plus the renderers of each wire format."""

    config: SimulatorConfig
    world: World
    rest: RestRenderer
    postorder: PostOrderRenderer
    trading: TradingRenderer

    @classmethod
    def build(cls, config: SimulatorConfig, anchor_ms: int) -> Services:
        """Create the world anchored at ``anchor_ms`` and its renderers."""
        world = World(config, anchor_ms)
        return cls(config, world, RestRenderer(world), PostOrderRenderer(world), TradingRenderer(world))
