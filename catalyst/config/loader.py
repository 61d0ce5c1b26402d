"""Read, validate and describe Catalyst's configuration.

`load_settings` reads `trading_config.yaml` and `risk_parameters.yaml` from one directory plus the
credentials from the environment, and returns one frozen `Settings`, or raises a `ConfigError` that
names the file (or "environment") and the dotted key, in one line a person can act on; when there
are several problems, `ConfigProblems` lists every one of them, one line each. An empty (or
comment-only) file is refused: it would silently mean "every limit at its default".

YAML is read strictly: duplicate keys, aliases and non-name keys are refused, and scalars follow the
YAML 1.2 core rules rather than PyYAML's 1.1 defaults, so `yes` stays the text "yes" (and is then
refused for a boolean) and an unquoted `10:30` stays a time instead of becoming the number 630.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from catalyst.config.models import (
    BrokerConfig,
    BrokerEnvironment,
    PathsConfig,
    RiskFile,
    Secrets,
    Settings,
    TradingFile,
)
from catalyst.config.secrets import (
    APCA_API_KEY_ID,
    APCA_API_SECRET_KEY,
    CATALYST_DATABASE_URL,
    CATALYST_SMTP_PASSWORD,
    CATALYST_SMTP_USERNAME,
    SECRET_VARIABLES,
    looks_like_secret_name,
    read_secrets,
)
from catalyst.domain.errors import ConfigError, ConfigProblems
from catalyst.domain.sectors import GICS_SECTORS
from catalyst.redaction import UNPARSEABLE, redact_url, url_has_password
from catalyst.store.urls import ASYNC_SQLITE, UnsupportedDatabase, async_driver, sqlite_url

__all__ = [
    "ENVIRONMENT",
    "LIVE_TRADING_ACKNOWLEDGEMENT",
    "LIVE_TRADING_VARIABLE",
    "RISK_FILE_NAME",
    "TOP_LEVEL",
    "TRADING_FILE_NAME",
    "changed_keys",
    "database_url",
    "describe_settings",
    "load_settings",
]

TRADING_FILE_NAME = "trading_config.yaml"
RISK_FILE_NAME = "risk_parameters.yaml"
ENVIRONMENT = "environment"  # the `file` of a ConfigError about an environment variable
TOP_LEVEL = "(top level)"  # the `key` of a ConfigError about a whole file

# Live trading needs this exact phrase in broker.live_trading_acknowledgement...
LIVE_TRADING_ACKNOWLEDGEMENT = "I understand that live mode trades real money"
# ...and this variable set to exactly "yes" in the environment of the process.
LIVE_TRADING_VARIABLE = "CATALYST_LIVE_TRADING"

_ALPACA_LIVE_HOST = "api.alpaca.markets"
_ALPACA_PAPER_HOST = "paper-api.alpaca.markets"
_BROKER_URL_SCHEMES: Mapping[str, frozenset[str]] = {
    "trading_base_url": frozenset({"http", "https"}),
    "data_base_url": frozenset({"http", "https"}),
    "stream_base_url": frozenset({"ws", "wss"}),
}
_SCHEME_SHAPE = re.compile(r"[a-z][a-z0-9+.\-]{0,29}")
_SHOWN_TEXT_LIMIT = 80

_M = TypeVar("_M", bound=BaseModel)
SECTOR_FILE_NAME = "sector_overrides.yaml"
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
            update={"paths": _anchored_paths(trading.paths, trading_file, base, problems)}
        )
        problems += _broker_url_problems(trading, trading_file)
        problems += _password_in_file_problems(trading, trading_file)
        live_trading_confirmed = _confirm_live_trading(trading, environ, trading_file, problems)
        problems += _broker_credential_problems(trading.broker, secrets, trading_file)
        warnings += _check_smtp_credentials(trading, secrets, problems)
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
        return _normalise_database_url(
            secrets.database_url.get_secret_value(),
            ENVIRONMENT,
            CATALYST_DATABASE_URL,
            base=config_dir,
            show_value=False,  # it may carry a password in any shape
        )
    if trading.database.url is not None:
        return _normalise_database_url(
            trading.database.url,
            str(config_dir / TRADING_FILE_NAME),
            "database.url",
            base=config_dir,
            show_value=True,
        )
    return sqlite_url(trading.paths.state_dir / "catalyst.db")


def describe_settings(settings: Settings) -> dict[str, object]:
    """The effective configuration as JSON-ready nested dicts, for `catalyst config check`.

    Secrets appear only as "set" or "unset" and every URL has its password redacted.
    """
    trading = settings.trading.model_dump(mode="json")
    database = trading["database"]
    if database["url"] is not None:
        database["url"] = redact_url(database["url"])
    broker = trading["broker"]
    for field in _BROKER_URL_SCHEMES:
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
        data, found = _read_yaml(path, allow_empty=False)
    except ConfigError as exc:
        problems.append(exc)
        return None
    if data is None:  # the YAML could not be turned into values: nothing to validate
        problems += found
        return None
    found += _unstated_problems(data, must_state or {}, file)
    validated, invalid = _validate(model, data, file)
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


# --------------------------------------------------------------------------------------------
# Reading YAML
# --------------------------------------------------------------------------------------------

_STR_TAG = "tag:yaml.org,2002:str"
_NULL_TAG = "tag:yaml.org,2002:null"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_ALLOWED_TAGS = frozenset(
    {
        _STR_TAG,
        _NULL_TAG,
        "tag:yaml.org,2002:bool",
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
        "tag:yaml.org,2002:map",
        "tag:yaml.org,2002:seq",
    }
)
# PyYAML's YAML 1.1 scalar rules, replaced below by YAML 1.2 core ones.
_YAML_11_TAGS = frozenset(
    {
        "tag:yaml.org,2002:bool",
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
        "tag:yaml.org,2002:timestamp",
    }
)


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core scalars and no aliases (duplicates are checked on nodes)."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        # Aliases let a short file expand without bound and hide where a value came from.
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]  # untyped in stubs
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not supported here", event.start_mark
            )
        return super().compose_node(parent, index)


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _YAML_11_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
# No leading zeros (PyYAML would read 010 as octal 8) and no sexagesimal (10:30 as 630).
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$"), list("-+0123456789")
)
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$"
        r"|^[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+$"
    ),
    list("-+0123456789."),
)


def _read_sector_overrides(path: Path) -> dict[str, str]:
    """The optional `sector_overrides.yaml`: `sectors: {SYMBOL: GICS sector}`; absent means none."""
    if not path.exists():
        return {}
    file = str(path)
    data, found = _read_yaml(path, allow_empty=True)
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


def _read_yaml(path: Path, *, allow_empty: bool) -> tuple[dict[str, Any] | None, list[ConfigError]]:
    """The parsed contents of one config file and the problems its keys and tags have.

    The contents are None when a problem (an exotic tag, a merge key, a non-name key) makes the
    document unsafe to construct. Raises `ConfigError` when the file cannot be read or parsed,
    is not a mapping, or is empty (only comments) and `allow_empty` is false.
    """
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(
            file,
            TOP_LEVEL,
            f"file not found ({TRADING_FILE_NAME} and {RISK_FILE_NAME} are both required)",
        ) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            file, TOP_LEVEL, f"not UTF-8 text (bad byte at offset {exc.start})"
        ) from exc
    except OSError as exc:
        raise ConfigError(file, TOP_LEVEL, f"cannot read file: {exc.strerror or exc}") from exc

    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if (
            node is None
            or (isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG)
            or (isinstance(node, yaml.MappingNode) and not node.value)
        ):
            if allow_empty:
                return {}, []
            # A truncated or emptied file must not quietly mean "every limit at its default".
            raise ConfigError(
                file,
                TOP_LEVEL,
                "the file is empty (or only comments): Catalyst will not run on built-in "
                "defaults by accident; write the settings out (the shipped file lists them all)",
            )
        if not isinstance(node, yaml.MappingNode):
            raise ConfigError(
                file,
                TOP_LEVEL,
                f"must be a mapping of section names to settings (got {_node_kind(node)})",
            )
        problems: list[tuple[ConfigError, bool]] = []
        _check_nodes(node, (), file, problems)
        if any(fatal for _, fatal in problems):
            return None, [problem for problem, _ in problems]
        data: dict[str, Any] = loader.construct_document(node)
        return data, [problem for problem, _ in problems]
    except yaml.MarkedYAMLError as exc:
        raise ConfigError(file, TOP_LEVEL, _describe_yaml_error(exc)) from exc
    except yaml.YAMLError as exc:  # e.g. a control character the reader refuses
        raise ConfigError(file, TOP_LEVEL, f"invalid YAML: {exc}") from exc
    finally:
        loader.dispose()


def _describe_yaml_error(exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    where = "" if mark is None else f" at line {mark.line + 1}, column {mark.column + 1}"
    detail = "; ".join(part for part in (exc.context, exc.problem) if part)
    return f"invalid YAML{where}: {detail}" if detail else f"invalid YAML{where}"


def _check_nodes(
    node: yaml.Node, path: tuple[str, ...], file: str, problems: list[tuple[ConfigError, bool]]
) -> None:
    """Collect duplicate, non-name, merge and credential-like keys, and exotic tags.

    Each problem comes with `fatal`: true when the document must not be constructed at all.
    """
    line = node.start_mark.line + 1
    if node.tag not in _ALLOWED_TAGS:
        problems.append(
            (
                ConfigError(
                    file, _dotted(path), f"YAML tag {node.tag} is not supported (line {line})"
                ),
                True,
            )
        )
        return
    if isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _check_nodes(item, (*path, str(index)), file, problems)
    elif isinstance(node, yaml.MappingNode):
        first_seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if key_node.tag == _MERGE_TAG:
                problem = f"merge keys (<<) are not supported (line {key_line})"
                problems.append((ConfigError(file, _dotted(path), problem), True))
                continue
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR_TAG:
                problem = f"keys must be plain names, not {_node_kind(key_node)} (line {key_line})"
                problems.append((ConfigError(file, _dotted(path), problem), True))
                continue
            name: str = key_node.value
            key_path = (*path, name)
            if name in first_seen:
                problem = f"duplicate key at line {key_line} (first at line {first_seen[name]})"
                problems.append((ConfigError(file, _dotted(key_path), problem), False))
                continue
            first_seen[name] = key_line
            if looks_like_secret_name(name):
                problem = (
                    f"looks like a credential (line {key_line}): secrets belong in the "
                    f"environment ({', '.join(SECRET_VARIABLES)}), never in config files"
                )
                problems.append((ConfigError(file, _dotted(key_path), problem), False))
                continue
            _check_nodes(value_node, key_path, file, problems)


def _node_kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return f"the value {_show(node.value)}"


# --------------------------------------------------------------------------------------------
# Validating against the schema
# --------------------------------------------------------------------------------------------


def _validate(
    model: type[_M], data: Mapping[str, Any], file: str
) -> tuple[_M | None, list[ConfigError]]:
    """Validate parsed YAML against `model`: the model, or None and every problem found.

    Validation runs in pydantic's strict JSON mode: the YAML already gave numbers, booleans and
    text their types, so strict mode refuses "5" for an int or "yes" for a bool, while still
    reading text as times and paths. Going through JSON costs float digits beyond ~15 significant
    figures, far below anything a limit in dollars needs.
    """
    # A section left with every key commented out reads as null: treat it as "all defaults".
    sections = {
        key: {} if value is None and key in model.model_fields else value
        for key, value in data.items()
    }
    try:
        text = json.dumps(sections, allow_nan=False)
    except ValueError:  # only an explicit !!float .inf / .nan gets here
        return None, [ConfigError(file, TOP_LEVEL, "numbers must be finite (no .inf or .nan)")]
    try:
        return model.model_validate_json(text, strict=True), []
    except ValidationError as exc:
        return None, [
            ConfigError(file, _dotted(error["loc"]), _describe_validation_error(model, error))
            for error in exc.errors(include_url=False)
        ]


_TYPE_PROBLEMS: Mapping[str, str] = {
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "decimal_type": "must be a number",
    "decimal_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be text",
    "model_type": "must be a mapping of keys to values",
    "model_attributes_type": "must be a mapping of keys to values",
    "dict_type": "must be a mapping of keys to values",
    "tuple_type": "must be a list",
    "list_type": "must be a list",
    "time_type": 'must be a time of day written "HH:MM", e.g. "09:30"',
    "time_parsing": 'must be a time of day written "HH:MM", e.g. "09:30"',
    "missing": "is required",
}
_BOUND_PROBLEMS: Mapping[str, tuple[str, str]] = {
    "greater_than": ("gt", "must be greater than"),
    "greater_than_equal": ("ge", "must be at least"),
    "less_than": ("lt", "must be less than"),
    "less_than_equal": ("le", "must be at most"),
}


def _describe_validation_error(model: type[BaseModel], error: ErrorDetails) -> str:
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    value = error["input"]
    if kind == "extra_forbidden":
        # The value is not shown: an unknown key may be a misplaced credential.
        return _unknown_key_problem(model, error["loc"])
    if kind == "value_error":
        problem = str(ctx.get("error", error["msg"]))
        # Cross-field rules get the whole section as input: naming it would add nothing.
        return problem if isinstance(value, dict | list) else f"{problem} (got {_show(value)})"
    if kind in _BOUND_PROBLEMS:
        bound_key, phrase = _BOUND_PROBLEMS[kind]
        problem = f"{phrase} {_show_number(ctx[bound_key])}"
    elif kind in ("literal_error", "enum"):
        problem = f"must be one of {ctx['expected']}"
    elif kind in _TYPE_PROBLEMS:
        problem = _TYPE_PROBLEMS[kind]
    else:
        message = error["msg"]
        problem = message[:1].lower() + message[1:]
    return problem if kind == "missing" else f"{problem} (got {_show(value)})"


def _unknown_key_problem(model: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    parent = _model_at(model, loc[:-1])
    if parent is None:
        return "unknown key"
    allowed = list(parent.model_fields)
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown key{hint} (allowed here: {', '.join(allowed)})"


def _model_at(model: type[BaseModel], loc: Sequence[int | str]) -> type[BaseModel] | None:
    current: type[BaseModel] = model
    for part in loc:
        field = current.model_fields.get(str(part))
        annotation = None if field is None else field.annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        current = annotation
    return current


def _dotted(loc: Sequence[int | str]) -> str:
    return ".".join(str(part) for part in loc) if loc else TOP_LEVEL


def _show(value: object) -> str:
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


def _show_number(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --------------------------------------------------------------------------------------------
# Rules that span keys, files or the environment
# --------------------------------------------------------------------------------------------


def _anchored_paths(
    paths: PathsConfig, file: str, base: Path, problems: list[ConfigError]
) -> PathsConfig:
    """Anchor relative paths at the config directory `base` now, whatever the working directory."""
    resolved: dict[str, Path] = {}
    for key in ("state_dir", "pause_file"):
        path: Path | None = getattr(paths, key)
        if path is None:
            continue
        if str(path).startswith("~"):
            problems.append(
                ConfigError(
                    file,
                    f"paths.{key}",
                    f"'~' is not expanded; give an absolute path or one relative to the config "
                    f"directory (got {_show(str(path))})",
                )
            )
            continue
        resolved[key] = path if path.is_absolute() else base / path
    return paths.model_copy(update=resolved)


def _broker_url_problems(trading: TradingFile, file: str) -> list[ConfigError]:
    problems: list[ConfigError] = []
    broker = trading.broker
    for key, schemes in _BROKER_URL_SCHEMES.items():
        url: str | None = getattr(broker, key)
        if url is None:
            continue
        dotted = f"broker.{key}"
        if url_has_password(url):
            problems.append(
                ConfigError(
                    file,
                    dotted,
                    "contains a password: secrets belong in the environment, not here",
                )
            )
            continue
        try:
            parts = urlsplit(url)
            scheme, host = parts.scheme, parts.hostname
        except ValueError:  # e.g. an unbalanced "[" in the host
            scheme, host = "", None
        if scheme not in schemes or not host:
            expected = " or ".join(f"{scheme}://" for scheme in sorted(schemes))
            problems.append(
                ConfigError(
                    file, dotted, f"must be a {expected} URL with a host (got {_show(url)})"
                )
            )
            continue
        environment = broker.environment
        # A paper config pointing at the live endpoint would trade real money unannounced.
        wrong_host = {
            BrokerEnvironment.PAPER: (_ALPACA_LIVE_HOST, "live"),
            BrokerEnvironment.LIVE: (_ALPACA_PAPER_HOST, "paper"),
        }[environment]
        if key == "trading_base_url" and host == wrong_host[0]:
            problems.append(
                ConfigError(
                    file,
                    dotted,
                    f"points at Alpaca's {wrong_host[1]} endpoint but broker.environment is "
                    f"{environment.value!r} (got {_show(url)})",
                )
            )
    return problems


def _password_in_file_problems(trading: TradingFile, file: str) -> list[ConfigError]:
    url = trading.database.url
    if url is None or not url_has_password(url):
        return []
    return [
        ConfigError(
            file,
            "database.url",
            f"contains a password: put the whole URL in {CATALYST_DATABASE_URL} instead, "
            f"secrets belong in the environment (got {_show(redact_url(url))})",
        )
    ]


def _confirm_live_trading(
    trading: TradingFile, environ: Mapping[str, str], file: str, problems: list[ConfigError]
) -> bool:
    """True only when broker.environment is live and all three confirmations are present."""
    broker = trading.broker
    if broker.environment is not BrokerEnvironment.LIVE:
        return False
    found: list[ConfigError] = []
    if broker.kind != "alpaca":
        found.append(
            ConfigError(
                file,
                "broker.kind",
                f"broker.environment is 'live', which needs 'alpaca' (got {_show(broker.kind)})",
            )
        )
    acknowledgement = broker.live_trading_acknowledgement
    if acknowledgement != LIVE_TRADING_ACKNOWLEDGEMENT:
        found.append(
            ConfigError(
                file,
                "broker.live_trading_acknowledgement",
                f"broker.environment is 'live': this must be exactly "
                f"{LIVE_TRADING_ACKNOWLEDGEMENT!r} (got {_show(acknowledgement)})",
            )
        )
    flag = environ.get(LIVE_TRADING_VARIABLE)
    if flag != "yes":
        got = "unset" if flag is None else _show(flag)
        found.append(
            ConfigError(
                ENVIRONMENT,
                LIVE_TRADING_VARIABLE,
                f"broker.environment is 'live' in {file}: set {LIVE_TRADING_VARIABLE}=yes to "
                f"confirm (got {got})",
            )
        )
    problems += found
    return not found


def _broker_credential_problems(
    broker: BrokerConfig, secrets: Secrets, file: str
) -> list[ConfigError]:
    if broker.kind != "alpaca":
        return []
    return [
        ConfigError(
            ENVIRONMENT, variable, f"broker.kind is 'alpaca' in {file} but {variable} is not set"
        )
        for variable in (APCA_API_KEY_ID, APCA_API_SECRET_KEY)
        if getattr(secrets, SECRET_VARIABLES[variable]) is None
    ]


def _check_smtp_credentials(
    trading: TradingFile, secrets: Secrets, problems: list[ConfigError]
) -> list[str]:
    """An SMTP login needs both halves: a problem when email is on, else only a warning."""
    has_username = secrets.smtp_username is not None
    if has_username == (secrets.smtp_password is not None):
        return []
    present, missing = (
        (CATALYST_SMTP_USERNAME, CATALYST_SMTP_PASSWORD)
        if has_username
        else (CATALYST_SMTP_PASSWORD, CATALYST_SMTP_USERNAME)
    )
    problem = f"{present} is set but {missing} is not"
    if trading.notifications.email_enabled:
        # One half alone is a half-finished setup, not an anonymous relay.
        problems.append(ConfigError(ENVIRONMENT, missing, problem))
        return []
    return [f"{ENVIRONMENT}: {missing}: {problem} (ignored: notifications.email_enabled is false)"]


def _normalise_database_url(url: str, file: str, key: str, *, base: Path, show_value: bool) -> str:
    """Map a PostgreSQL or SQLite URL onto the async driver Catalyst uses, or refuse it.

    The store decides which schemes are accepted and their drivers (`async_driver`); a config
    file adds that a SQLite database is a file, and a relative path is anchored at `base` (the
    config directory).
    """
    shown = redact_url(url)
    # Text that is no URL at all is not echoed: it may be a "host=... password=..." string.
    got = f" (got {_show(shown)})" if show_value and shown != UNPARSEABLE else ""
    scheme, separator, rest = url.strip().partition("://")
    scheme = scheme.lower()
    if not separator or not _SCHEME_SHAPE.fullmatch(scheme):
        raise ConfigError(
            file, key, f"must be a postgresql://... or sqlite:///... database URL{got}"
        )
    try:
        driver = async_driver(scheme)
    except UnsupportedDatabase as exc:
        detail = got if show_value else f" (scheme {scheme!r})"
        raise ConfigError(file, key, f"{exc}{detail}") from None
    if driver != ASYNC_SQLITE:
        return f"{driver}://{rest}"
    # An in-memory database would forget the order journal on restart.
    if rest in ("", "/") or ":memory:" in rest or "mode=memory" in rest:
        raise ConfigError(file, key, f"an in-memory SQLite database is not allowed{got}")
    if not rest.startswith("/"):
        raise ConfigError(
            file,
            key,
            f"a SQLite URL is sqlite:///relative/path.db or sqlite:////absolute/path.db{got}",
        )
    return sqlite_url(_anchored_sqlite_path(rest[1:], base))


def _anchored_sqlite_path(database: str, base: Path) -> str:
    """`database` (the part after `sqlite:///`, query included) with a relative path made
    absolute against `base`; `file:` URIs too."""
    path, question, query = database.partition("?")
    uri = path.startswith("file:")
    bare = path.removeprefix("file:")
    if not Path(bare).is_absolute():
        bare = str(base / bare)
    return f"{'file:' if uri else ''}{bare}{question}{query}"
