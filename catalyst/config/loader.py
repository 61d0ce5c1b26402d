"""Read, validate and describe Catalyst's configuration.

`load_settings` reads `trading_config.yaml` and `risk_parameters.yaml` from one directory plus the
credentials from the environment, and returns one frozen `Settings`, or raises a `ConfigError` that
names the file (or "environment") and the dotted key, in one line a person can act on; when there
are several problems, `ConfigProblems` lists every one of them, one line each. An empty (or
comment-only) file is refused: it would silently mean "every limit at its default".

Each file is read by the strict `yaml_reader` and checked against its model by `validation`; the
`cross_checks` then look at keys, files and the environment together.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from catalyst.config.cross_checks import (
    BROKER_URL_SCHEMES,
    anchored_paths,
    broker_credential_problems,
    broker_url_problems,
    check_smtp_credentials,
    confirm_live_trading,
    password_in_file_problems,
    read_webhook_urls,
)
from catalyst.config.database_url import (
    UnsupportedDatabase,
    UnusableDatabaseUrl,
    sqlite_url,
    usable_database_url,
)
from catalyst.config.models import RiskFile, Secrets, Settings, TradingFile
from catalyst.config.problems import (
    ENVIRONMENT,
    RISK_FILE_NAME,
    SECTOR_FILE_NAME,
    TRADING_FILE_NAME,
    show,
)
from catalyst.config.secrets import CATALYST_DATABASE_URL, SECRET_VARIABLES, read_secrets
from catalyst.config.validation import validate
from catalyst.config.yaml_reader import read_yaml
from catalyst.domain.errors import ConfigError, ConfigProblems
from catalyst.domain.sectors import GICS_SECTORS
from catalyst.redaction import UNPARSEABLE, redact_url

__all__ = ["changed_keys", "database_url", "describe_settings", "load_settings"]

_M = TypeVar("_M", bound=BaseModel)
_SYMBOL = re.compile(r"[A-Z][A-Z0-9.]{0,9}")


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def load_settings(config_dir: Path, environ: Mapping[str, str]) -> Settings:
    """Load and validate both config files in `config_dir` and the secrets in `environ`.

    Relative paths in the configuration (`paths.state_dir`, `paths.pause_file`, a relative
    SQLite database path) are anchored at the config directory, once, here, so every command
    finds the same state whatever its working directory. Every problem found is reported at
    once: one `ConfigError(file, key, problem)`, or a `ConfigProblems` listing several.
    """
    base = Path(os.path.abspath(config_dir))  # absolute and without "..", symlinks kept
    trading_file = str(config_dir / TRADING_FILE_NAME)
    problems: list[ConfigError] = []
    trading = _load_file(TradingFile, config_dir / TRADING_FILE_NAME, problems)
    risk = _load_file(
        RiskFile, config_dir / RISK_FILE_NAME, problems, must_state=LIMITS_STATED_EXPLICITLY
    )
    secrets = read_secrets(environ)
    live_trading_confirmed = False
    warnings: list[str] = []
    if trading is not None:
        trading = trading.model_copy(
            update={"paths": anchored_paths(trading.paths, trading_file, base, problems)}
        )
        problems += broker_url_problems(trading, trading_file)
        problems += password_in_file_problems(trading, trading_file)
        live_trading_confirmed = confirm_live_trading(trading, environ, trading_file, problems)
        problems += broker_credential_problems(trading.broker, secrets, trading_file)
        warnings += check_smtp_credentials(trading, secrets, problems)
        webhook_urls = read_webhook_urls(trading, environ, trading_file, base, problems)
        secrets = secrets.model_copy(update={"webhook_urls": webhook_urls})
        try:  # a bad database URL should stop start-up, not the first write
            _database_url(trading, secrets, base)
        except ConfigError as exc:
            problems.append(exc)
    sector_overrides: dict[str, str] = {}
    try:
        sector_overrides = _read_sector_overrides(config_dir / SECTOR_FILE_NAME)
    except ConfigError as exc:
        problems.append(exc)
    if problems:
        raise problems[0] if len(problems) == 1 else ConfigProblems(problems)
    # No problems means both files loaded.
    assert trading is not None
    assert risk is not None
    return Settings(
        trading=trading,
        risk=risk,
        secrets=secrets,
        config_dir=base,
        live_trading_confirmed=live_trading_confirmed,
        sector_overrides=sector_overrides,
        warnings=tuple(warnings),
    )


def database_url(settings: Settings) -> str:
    """The SQLAlchemy async URL to use.

    CATALYST_DATABASE_URL wins, then `database.url`, then a SQLite file in the state directory.
    `postgres://` / `postgresql://` become `postgresql+asyncpg://` and `sqlite://` becomes
    `sqlite+aiosqlite://`; a relative SQLite path is anchored at the config directory. Raises
    `ConfigError` naming where a bad URL came from.
    """
    return _database_url(settings.trading, settings.secrets, settings.config_dir)


def _database_url(trading: TradingFile, secrets: Secrets, config_dir: Path) -> str:
    if secrets.database_url is not None:
        return _configured_database_url(
            secrets.database_url.get_secret_value(),
            ENVIRONMENT,
            CATALYST_DATABASE_URL,
            base=config_dir,
            show_value=False,  # it may carry a password in any shape
        )
    if trading.database.url is not None:
        return _configured_database_url(
            trading.database.url,
            str(config_dir / TRADING_FILE_NAME),
            "database.url",
            base=config_dir,
            show_value=True,
        )
    return sqlite_url(trading.paths.state_dir / "catalyst.db")


def _configured_database_url(url: str, file: str, key: str, *, base: Path, show_value: bool) -> str:
    """`url` made usable (`usable_database_url`), or a `ConfigError` naming `file` and `key`."""
    shown = redact_url(url)
    # Text that is no URL at all is not echoed: it may be a "host=... password=..." string.
    got = f" (got {show(shown)})" if show_value and shown != UNPARSEABLE else ""
    try:
        return usable_database_url(url, base)
    except UnsupportedDatabase as exc:
        detail = got if show_value else f" (scheme {exc.scheme!r})"
        raise ConfigError(file, key, f"{exc}{detail}") from None
    except UnusableDatabaseUrl as exc:
        raise ConfigError(file, key, f"{exc}{got}") from None


def describe_settings(settings: Settings) -> dict[str, object]:
    """The effective configuration as JSON-ready nested dicts, for `catalyst config check`.

    Secrets appear only as "set" or "unset" and every URL has its password redacted.
    """
    trading = settings.trading.model_dump(mode="json")
    database = trading["database"]
    if database["url"] is not None:
        database["url"] = redact_url(database["url"])
    broker = trading["broker"]
    for field in BROKER_URL_SCHEMES:
        if broker[field] is not None:
            broker[field] = redact_url(broker[field])
    return {
        "config_dir": str(settings.config_dir),
        "trading": trading,
        "risk": settings.risk.model_dump(mode="json"),
        "secrets": {
            variable: "unset" if getattr(settings.secrets, field) is None else "set"
            for variable, field in SECRET_VARIABLES.items()
        },
        "live_trading_confirmed": settings.live_trading_confirmed,
        "warnings": list(settings.warnings),
        "effective": {
            "database_url": redact_url(database_url(settings)),
            "state_dir": str(settings.trading.paths.state_dir),
            "pause_file": str(settings.trading.paths.resolved_pause_file),
        },
    }


def changed_keys(old: Settings, new: Settings) -> tuple[str, ...]:
    """The dotted keys whose values differ between two configurations, sorted (no secrets).

    Keys of trading_config.yaml and risk_parameters.yaml are named as in their files
    (`workflow.stop_loss_pct`, `risk_limits.max_daily_loss_usd`); sector overrides as
    `sectors.<SYMBOL>`. A list (`schedule.scan_times`) counts as one key.
    """
    changed: set[str] = set()
    pairs = (
        (old.trading.model_dump(mode="json"), new.trading.model_dump(mode="json")),
        (old.risk.model_dump(mode="json"), new.risk.model_dump(mode="json")),
        ({"sectors": old.sector_overrides}, {"sectors": new.sector_overrides}),
    )
    for before, after in pairs:
        _collect_changes(before, after, "", changed)
    return tuple(sorted(changed))


def _collect_changes(before: object, after: object, prefix: str, changed: set[str]) -> None:
    if isinstance(before, dict) and isinstance(after, dict):
        for key in before.keys() | after.keys():
            _collect_changes(before.get(key), after.get(key), f"{prefix}{key}.", changed)
    elif before != after:
        changed.add(prefix.removesuffix("."))


def _load_file(
    model: type[_M],
    path: Path,
    problems: list[ConfigError],
    *,
    must_state: Mapping[str, tuple[str, ...]] | None = None,
) -> _M | None:
    """One config file read and validated; None (and `problems` extended) if it has any.

    `must_state` names, per section, keys the file must spell out rather than leave to their
    defaults.
    """
    file = str(path)
    try:
        data, found = read_yaml(path, allow_empty=False)
    except ConfigError as exc:
        problems.append(exc)
        return None
    if data is None:  # the YAML could not be turned into values: nothing to validate
        problems += found
        return None
    found += _unstated_problems(data, must_state or {}, file)
    validated, invalid = validate(model, data, file)
    flagged = {problem.key for problem in found}  # e.g. a duplicate key is also "unknown"
    found += [problem for problem in invalid if problem.key not in flagged]
    problems += found
    return validated if not found else None


# The limits a risk file must state: a file cut short (a bad copy, a full disk) must never fall
# back to a default that may be looser than the value the person wrote. The seed system's file
# states all of these; the others keep safe defaults (e.g. the emergency actions default to on).
LIMITS_STATED_EXPLICITLY: Mapping[str, tuple[str, ...]] = {
    "risk_limits": (
        "max_daily_loss_usd",
        "warning_threshold_pct",
        "max_positions",
        "max_position_size_usd",
        "max_sector_exposure_pct",
    ),
}


def _unstated_problems(
    data: Mapping[str, Any], must_state: Mapping[str, tuple[str, ...]], file: str
) -> list[ConfigError]:
    problems = []
    for section, keys in must_state.items():
        given = data.get(section)
        if given is not None and not isinstance(given, Mapping):
            continue  # validation reports the wrong type
        for key in keys:
            if given is None or key not in given:
                problems.append(
                    ConfigError(
                        file,
                        f"{section}.{key}",
                        "must be set in the file; a limit never falls back to a default",
                    )
                )
    return problems


def _read_sector_overrides(path: Path) -> dict[str, str]:
    """The optional `sector_overrides.yaml`: `sectors: {SYMBOL: GICS sector}`; absent means none."""
    if not path.exists():
        return {}
    file = str(path)
    data, found = read_yaml(path, allow_empty=True)
    if found:
        raise found[0]
    data = data or {}
    unknown = set(data) - {"sectors"}
    if unknown:
        raise ConfigError(file, sorted(unknown)[0], "unknown key (allowed keys: sectors)")
    sectors = data.get("sectors") or {}
    if not isinstance(sectors, dict):
        raise ConfigError(file, "sectors", "must be a mapping of symbol to sector")
    overrides: dict[str, str] = {}
    for symbol, sector in sectors.items():
        key = f"sectors.{symbol}"
        if not isinstance(symbol, str) or not _SYMBOL.fullmatch(symbol):
            raise ConfigError(file, key, "symbol must be upper-case letters, digits or dots")
        if sector not in GICS_SECTORS:
            raise ConfigError(
                file, key, f"{sector!r} is not a GICS sector (one of: {', '.join(GICS_SECTORS)})"
            )
        overrides[symbol] = sector
    return overrides
