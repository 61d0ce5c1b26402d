"""Read, validate and describe Catalyst's configuration.

`load_settings` reads `trading_config.yaml` and `risk_parameters.yaml` from one directory plus the
credentials from the environment, and returns one frozen `Settings`, or raises a `ConfigError` that
names the file (or "environment") and the dotted key, in one line a person can act on.

YAML is read strictly: duplicate keys, aliases and non-name keys are refused, and scalars follow the
YAML 1.2 core rules rather than PyYAML's 1.1 defaults, so `yes` stays the text "yes" (and is then
refused for a boolean) and an unquoted `10:30` stays a time instead of becoming the number 630.
"""

from __future__ import annotations

import difflib
import json
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
    redact_url,
    url_has_password,
)
from catalyst.domain.errors import ConfigError
from catalyst.domain.sectors import GICS_SECTORS

__all__ = [
    "ENVIRONMENT",
    "LIVE_TRADING_ACKNOWLEDGEMENT",
    "LIVE_TRADING_VARIABLE",
    "RISK_FILE_NAME",
    "TOP_LEVEL",
    "TRADING_FILE_NAME",
    "database_url",
    "describe_settings",
    "load_settings",
    "redact_url",
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

    Relative `paths.state_dir` and `paths.pause_file` are made absolute against the current
    working directory, once, here. Raises `ConfigError(file, key, problem)` for every problem.
    """
    trading_path = config_dir / TRADING_FILE_NAME
    risk_path = config_dir / RISK_FILE_NAME
    trading_file = str(trading_path)

    trading = _validate(TradingFile, _read_yaml(trading_path), trading_file)
    risk = _validate(RiskFile, _read_yaml(risk_path), str(risk_path))
    trading = trading.model_copy(
        update={"paths": _absolute_paths(trading.paths, trading_file, Path.cwd())}
    )
    _check_broker_urls(trading, trading_file)
    _check_no_password_in_file(trading, trading_file)

    secrets = read_secrets(environ)
    live_trading_confirmed = _confirm_live_trading(trading, environ, trading_file)
    _check_broker_credentials(trading.broker, secrets, trading_file)
    _check_smtp_credentials(secrets)

    settings = Settings(
        trading=trading,
        risk=risk,
        secrets=secrets,
        config_dir=config_dir,
        live_trading_confirmed=live_trading_confirmed,
        sector_overrides=_read_sector_overrides(config_dir / SECTOR_FILE_NAME),
    )
    database_url(settings)  # a bad database URL should stop start-up, not the first write
    return settings


def database_url(settings: Settings) -> str:
    """The SQLAlchemy async URL to use.

    CATALYST_DATABASE_URL wins, then `database.url`, then a SQLite file in the state directory.
    `postgres://` / `postgresql://` become `postgresql+asyncpg://` and `sqlite://` becomes
    `sqlite+aiosqlite://`. Raises `ConfigError` naming where a bad URL came from.
    """
    if settings.secrets.database_url is not None:
        return _normalise_database_url(
            settings.secrets.database_url.get_secret_value(),
            ENVIRONMENT,
            CATALYST_DATABASE_URL,
            show_value=False,  # it may carry a password in any shape
        )
    if settings.trading.database.url is not None:
        return _normalise_database_url(
            settings.trading.database.url,
            str(settings.config_dir / TRADING_FILE_NAME),
            "database.url",
            show_value=True,
        )
    return f"sqlite+aiosqlite:///{settings.trading.paths.state_dir / 'catalyst.db'}"


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
        "effective": {
            "database_url": redact_url(database_url(settings)),
            "state_dir": str(settings.trading.paths.state_dir),
            "pause_file": str(settings.trading.paths.resolved_pause_file),
        },
    }


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
    data = _read_yaml(path)
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


def _read_yaml(path: Path) -> dict[str, Any]:
    """The parsed contents of one config file; an empty file reads as an empty mapping."""
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
        if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG):
            return {}
        if not isinstance(node, yaml.MappingNode):
            raise ConfigError(
                file,
                TOP_LEVEL,
                f"must be a mapping of section names to settings (got {_node_kind(node)})",
            )
        _check_nodes(node, (), file)
        data: dict[str, Any] = loader.construct_document(node)
        return data
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


def _check_nodes(node: yaml.Node, path: tuple[str, ...], file: str) -> None:
    """Refuse duplicate, non-name, merge and credential-like keys, and exotic tags."""
    line = node.start_mark.line + 1
    if node.tag not in _ALLOWED_TAGS:
        raise ConfigError(
            file, _dotted(path), f"YAML tag {node.tag} is not supported (line {line})"
        )
    if isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _check_nodes(item, (*path, str(index)), file)
    elif isinstance(node, yaml.MappingNode):
        first_seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if key_node.tag == _MERGE_TAG:
                raise ConfigError(
                    file, _dotted(path), f"merge keys (<<) are not supported (line {key_line})"
                )
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR_TAG:
                raise ConfigError(
                    file,
                    _dotted(path),
                    f"keys must be plain names, not {_node_kind(key_node)} (line {key_line})",
                )
            name: str = key_node.value
            key_path = (*path, name)
            if name in first_seen:
                raise ConfigError(
                    file,
                    _dotted(key_path),
                    f"duplicate key at line {key_line} (first at line {first_seen[name]})",
                )
            if looks_like_secret_name(name):
                raise ConfigError(
                    file,
                    _dotted(key_path),
                    f"looks like a credential (line {key_line}): secrets belong in the environment "
                    f"({', '.join(SECRET_VARIABLES)}), never in config files",
                )
            first_seen[name] = key_line
            _check_nodes(value_node, key_path, file)


def _node_kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return f"the value {_show(node.value)}"


# --------------------------------------------------------------------------------------------
# Validating against the schema
# --------------------------------------------------------------------------------------------


def _validate(model: type[_M], data: Mapping[str, Any], file: str) -> _M:
    """Validate parsed YAML against `model`, turning the first error into a `ConfigError`.

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
    except ValueError as exc:  # only an explicit !!float .inf / .nan gets here
        raise ConfigError(file, TOP_LEVEL, "numbers must be finite (no .inf or .nan)") from exc
    try:
        return model.model_validate_json(text, strict=True)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = errors[0]
        problem = _describe_validation_error(model, first)
        if len(errors) > 1:
            more = len(errors) - 1
            problem += f" (and {more} more problem{'s' if more > 1 else ''} in this file)"
        raise ConfigError(file, _dotted(first["loc"]), problem) from exc


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
    elif kind == "literal_error":
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


def _absolute_paths(paths: PathsConfig, file: str, cwd: Path) -> PathsConfig:
    """Anchor relative paths at `cwd` now, so a later chdir cannot move the state directory."""
    resolved: dict[str, Path] = {}
    for key in ("state_dir", "pause_file"):
        path: Path | None = getattr(paths, key)
        if path is None:
            continue
        if str(path).startswith("~"):
            raise ConfigError(
                file,
                f"paths.{key}",
                f"'~' is not expanded; give an absolute path or one relative to the working "
                f"directory (got {_show(str(path))})",
            )
        resolved[key] = path if path.is_absolute() else cwd / path
    return paths.model_copy(update=resolved)


def _check_broker_urls(trading: TradingFile, file: str) -> None:
    broker = trading.broker
    for key, schemes in _BROKER_URL_SCHEMES.items():
        url: str | None = getattr(broker, key)
        if url is None:
            continue
        dotted = f"broker.{key}"
        if url_has_password(url):
            raise ConfigError(
                file, dotted, "contains a password: secrets belong in the environment, not here"
            )
        try:
            parts = urlsplit(url)
            scheme, host = parts.scheme, parts.hostname
        except ValueError:  # e.g. an unbalanced "[" in the host
            scheme, host = "", None
        if scheme not in schemes or not host:
            expected = " or ".join(f"{scheme}://" for scheme in sorted(schemes))
            raise ConfigError(
                file, dotted, f"must be a {expected} URL with a host (got {_show(url)})"
            )
        mode = trading.trading_session.mode
        # A paper config pointing at the live endpoint would trade real money unannounced.
        if key == "trading_base_url" and mode == "paper" and host == _ALPACA_LIVE_HOST:
            raise ConfigError(
                file,
                dotted,
                f"points at Alpaca's live endpoint but trading_session.mode is 'paper' "
                f"(got {_show(url)})",
            )
        if key == "trading_base_url" and mode == "live" and host == _ALPACA_PAPER_HOST:
            raise ConfigError(
                file,
                dotted,
                f"points at Alpaca's paper endpoint but trading_session.mode is 'live' "
                f"(got {_show(url)})",
            )


def _check_no_password_in_file(trading: TradingFile, file: str) -> None:
    url = trading.database.url
    if url is not None and url_has_password(url):
        raise ConfigError(
            file,
            "database.url",
            f"contains a password: put the whole URL in {CATALYST_DATABASE_URL} instead, "
            f"secrets belong in the environment (got {_show(redact_url(url))})",
        )


def _confirm_live_trading(trading: TradingFile, environ: Mapping[str, str], file: str) -> bool:
    """True only when live mode is asked for and all three confirmations are present."""
    if trading.trading_session.mode != "live":
        return False
    broker = trading.broker
    if broker.kind != "alpaca":
        raise ConfigError(
            file,
            "broker.kind",
            f"trading_session.mode is 'live', which needs 'alpaca' (got {_show(broker.kind)})",
        )
    acknowledgement = broker.live_trading_acknowledgement
    if acknowledgement != LIVE_TRADING_ACKNOWLEDGEMENT:
        raise ConfigError(
            file,
            "broker.live_trading_acknowledgement",
            f"trading_session.mode is 'live': this must be exactly "
            f"{LIVE_TRADING_ACKNOWLEDGEMENT!r} (got {_show(acknowledgement)})",
        )
    flag = environ.get(LIVE_TRADING_VARIABLE)
    if flag != "yes":
        got = "unset" if flag is None else _show(flag)
        raise ConfigError(
            ENVIRONMENT,
            LIVE_TRADING_VARIABLE,
            f"trading_session.mode is 'live' in {file}: set {LIVE_TRADING_VARIABLE}=yes to "
            f"confirm (got {got})",
        )
    return True


def _check_broker_credentials(broker: BrokerConfig, secrets: Secrets, file: str) -> None:
    if broker.kind != "alpaca":
        return
    for variable in (APCA_API_KEY_ID, APCA_API_SECRET_KEY):
        if getattr(secrets, SECRET_VARIABLES[variable]) is None:
            raise ConfigError(
                ENVIRONMENT,
                variable,
                f"broker.kind is 'alpaca' in {file} but {variable} is not set",
            )


def _check_smtp_credentials(secrets: Secrets) -> None:
    # SMTP login needs both halves; one alone is a half-finished setup, not anonymous relay.
    if secrets.smtp_username is not None and secrets.smtp_password is None:
        raise ConfigError(
            ENVIRONMENT,
            CATALYST_SMTP_PASSWORD,
            f"{CATALYST_SMTP_USERNAME} is set but {CATALYST_SMTP_PASSWORD} is not",
        )
    if secrets.smtp_password is not None and secrets.smtp_username is None:
        raise ConfigError(
            ENVIRONMENT,
            CATALYST_SMTP_USERNAME,
            f"{CATALYST_SMTP_PASSWORD} is set but {CATALYST_SMTP_USERNAME} is not",
        )


_POSTGRES_SCHEMES = frozenset({"postgres", "postgresql", "postgresql+asyncpg"})
_SQLITE_SCHEMES = frozenset({"sqlite", "sqlite+aiosqlite"})


def _normalise_database_url(url: str, file: str, key: str, *, show_value: bool) -> str:
    """Map a PostgreSQL or SQLite URL onto the async driver Catalyst uses, or refuse it."""
    got = f" (got {_show(redact_url(url))})" if show_value else ""
    scheme, separator, rest = url.strip().partition("://")
    scheme = scheme.lower()
    if not separator or not _SCHEME_SHAPE.fullmatch(scheme):
        raise ConfigError(
            file, key, f"must be a postgresql://... or sqlite:///... database URL{got}"
        )
    if scheme in _POSTGRES_SCHEMES:
        return f"postgresql+asyncpg://{rest}"
    if scheme in _SQLITE_SCHEMES:
        # An in-memory database would forget the order journal on restart.
        if rest in ("", "/") or ":memory:" in rest or "mode=memory" in rest:
            raise ConfigError(file, key, f"an in-memory SQLite database is not allowed{got}")
        return f"sqlite+aiosqlite://{rest}"
    if scheme.startswith(("postgres+", "postgresql+")):
        problem = "Catalyst needs the asyncpg driver: use postgresql:// or postgresql+asyncpg://"
    elif scheme.startswith("sqlite+"):
        problem = "Catalyst needs the aiosqlite driver: use sqlite:/// or sqlite+aiosqlite:///"
    else:
        problem = "unsupported database: use a postgresql://... or sqlite:///... URL"
    detail = got if show_value else f" (scheme {scheme!r})"
    raise ConfigError(file, key, problem + detail)
