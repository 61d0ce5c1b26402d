"""The exchange simulator: synthetic market data, a matching engine and a `Broker` over them."""

from catalyst.sim.broker import SimBroker, build_sim_broker
from catalyst.sim.exchange import SimExchange
from catalyst.sim.feed import SessionSource, SyntheticMarketFeed
from catalyst.sim.market import SyntheticMarket

__all__ = [
    "SessionSource",
    "SimBroker",
    "SimExchange",
    "SyntheticMarket",
    "SyntheticMarketFeed",
    "build_sim_broker",
]
