"""The Alpaca adapter, `AlpacaBroker`, and its factory.

Nothing outside this package imports alpaca-py. alpaca-py 0.44 imports `websockets.legacy`, which
warns on import (websockets >= 14); that one warning is silenced here, before any submodule
imports alpaca-py, so test runs with warnings-as-errors stay clean.
"""

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message="websockets.legacy is deprecated", category=DeprecationWarning
    )
    import alpaca.trading.stream  # noqa: F401  # first import happens under the filter

from catalyst.brokers.alpaca.adapter import AlpacaBroker
from catalyst.brokers.alpaca.factory import build_alpaca_broker, make_clients

__all__ = ["AlpacaBroker", "build_alpaca_broker", "make_clients"]
