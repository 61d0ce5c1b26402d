"""What a config problem points at: the file (or the environment), the dotted key, the value.

Every `ConfigError` the loader, the YAML reader and the cross-key checks raise names its place
with these, so a person reads one shape of message whichever part found the problem.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "ENVIRONMENT",
    "RISK_FILE_NAME",
    "SECTOR_FILE_NAME",
    "TOP_LEVEL",
    "TRADING_FILE_NAME",
    "dotted",
    "show",
]

TRADING_FILE_NAME = "trading_config.yaml"
RISK_FILE_NAME = "risk_parameters.yaml"
SECTOR_FILE_NAME = "sector_overrides.yaml"
ENVIRONMENT = "environment"  # the `file` of a ConfigError about an environment variable
TOP_LEVEL = "(top level)"  # the `key` of a ConfigError about a whole file

_SHOWN_TEXT_LIMIT = 80


def dotted(loc: Sequence[int | str]) -> str:
    """The dotted key (`risk_limits.max_positions`) of a path into a file; empty: the top level."""
    return ".".join(str(part) for part in loc) if loc else TOP_LEVEL


def show(value: object) -> str:
    """A short, YAML-flavoured rendering of an offending value for an error message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, str):
        text = value if len(value) <= _SHOWN_TEXT_LIMIT else value[:_SHOWN_TEXT_LIMIT] + "..."
        return repr(text)
    return str(value)
