"""Helpers shared by the tests: settings built from the shipped files, and `eventually()`."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from catalyst.config.loader import load_settings
from catalyst.config.models import Settings

REPO = Path(__file__).resolve().parent.parent
CONFIG_DIR = REPO / "config"


def _merge(model: Any, updates: dict[str, Any]) -> Any:
    changes = {}
    for key, value in updates.items():
        current = getattr(model, key)
        changes[key] = _merge(current, value) if isinstance(value, dict) else value
    return model.model_copy(update=changes)


def make_settings(state_dir: Path, **sections: dict[str, Any]) -> Settings:
    """The shipped configuration with `state_dir` and section overrides, e.g.
    `make_settings(tmp, risk_limits={"max_daily_loss_usd": Decimal(300)})`."""
    base = load_settings(CONFIG_DIR, {})
    trading_updates: dict[str, Any] = {"paths": {"state_dir": state_dir, "pause_file": None}}
    risk_updates: dict[str, Any] = {}
    for name, values in sections.items():
        if name in ("risk_limits", "emergency_actions"):
            risk_updates[name] = values
        else:
            trading_updates.setdefault(name, {}).update(values)
    return base.model_copy(
        update={
            "trading": _merge(base.trading, trading_updates),
            "risk": _merge(base.risk, risk_updates),
        }
    )


async def eventually(
    condition: Callable[[], bool | Awaitable[bool]],
    within: float = 10.0,
    message: str = "condition not met in time",
) -> None:
    """Wait (real time, polling) until `condition()` holds; it may be a coroutine function.

    `within` is a generous bound for a slow, shared machine, not an expected duration: a test waits
    only as long as the condition takes.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError(message)
        await asyncio.sleep(0.01)
