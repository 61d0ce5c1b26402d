"""A fake Alpaca server (trading REST, market-data REST, `trade_updates` websocket) that serves
the same exchange simulator behind `broker: sim`, so both faces share one matching engine."""

from catalyst.fake_alpaca.app import create_app
from catalyst.fake_alpaca.faults import Fault, FaultPlan
from catalyst.fake_alpaca.server import RunningServer, run_fake_alpaca, start_fake_alpaca
from catalyst.fake_alpaca.state import FAULTS, STATE, FakeAlpaca

__all__ = [
    "FAULTS",
    "STATE",
    "FakeAlpaca",
    "Fault",
    "FaultPlan",
    "RunningServer",
    "create_app",
    "run_fake_alpaca",
    "start_fake_alpaca",
]
