"""Broker adapters behind `catalyst.ports.Broker` (the simulator lives in `catalyst.sim`)."""
