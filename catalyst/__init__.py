"""Catalyst: an autonomous intraday trading daemon for US equities."""

__version__ = "0.1.0"
