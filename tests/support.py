"""Helpers shared by the daemon-level tests: settings built from the shipped files."""

from __future__ import annotations

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
