"""The rules that look at several keys, files or the environment together.

Each takes the already validated trading file (and the secrets or the environment where the rule
needs them) and returns `ConfigError`s naming the file and key to change, so the loader can report
every problem at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import SecretStr

from catalyst.config.models import (
    BrokerConfig,
    BrokerEnvironment,
    PathsConfig,
    Secrets,
    TradingFile,
)
from catalyst.config.problems import ENVIRONMENT, show
from catalyst.config.secrets import (
    APCA_API_KEY_ID,
    APCA_API_SECRET_KEY,
    CATALYST_DATABASE_URL,
    CATALYST_SMTP_PASSWORD,
    CATALYST_SMTP_USERNAME,
    SECRET_VARIABLES,
)
from catalyst.domain.errors import ConfigError
from catalyst.redaction import redact_url, url_has_password

__all__ = [
    "BROKER_URL_SCHEMES",
    "LIVE_TRADING_ACKNOWLEDGEMENT",
    "LIVE_TRADING_VARIABLE",
    "anchored_paths",
    "broker_credential_problems",
    "broker_url_problems",
    "check_smtp_credentials",
    "confirm_live_trading",
    "password_in_file_problems",
    "read_webhook_urls",
]

# Live trading needs this exact phrase in broker.live_trading_acknowledgement...
LIVE_TRADING_ACKNOWLEDGEMENT = "I understand that live mode trades real money"
# ...and this variable set to exactly "yes" in the environment of the process.
LIVE_TRADING_VARIABLE = "CATALYST_LIVE_TRADING"

_ALPACA_LIVE_HOST = "api.alpaca.markets"
_ALPACA_PAPER_HOST = "paper-api.alpaca.markets"
BROKER_URL_SCHEMES: Mapping[str, frozenset[str]] = {
    "trading_base_url": frozenset({"http", "https"}),
    "data_base_url": frozenset({"http", "https"}),
    "stream_base_url": frozenset({"ws", "wss"}),
}


def anchored_paths(
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
                    f"directory (got {show(str(path))})",
                )
            )
            continue
        resolved[key] = path if path.is_absolute() else base / path
    return paths.model_copy(update=resolved)


def broker_url_problems(trading: TradingFile, file: str) -> list[ConfigError]:
    """Broker URLs with the wrong scheme, no host, a password, or the other environment's host."""
    problems: list[ConfigError] = []
    broker = trading.broker
    for key, schemes in BROKER_URL_SCHEMES.items():
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
                ConfigError(file, dotted, f"must be a {expected} URL with a host (got {show(url)})")
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
                    f"{environment.value!r} (got {show(url)})",
                )
            )
    return problems


def password_in_file_problems(trading: TradingFile, file: str) -> list[ConfigError]:
    """A password inside `database.url`: it belongs in the environment, with the whole URL."""
    url = trading.database.url
    if url is None or not url_has_password(url):
        return []
    return [
        ConfigError(
            file,
            "database.url",
            f"contains a password: put the whole URL in {CATALYST_DATABASE_URL} instead, "
            f"secrets belong in the environment (got {show(redact_url(url))})",
        )
    ]


def confirm_live_trading(
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
                f"broker.environment is 'live', which needs 'alpaca' (got {show(broker.kind)})",
            )
        )
    acknowledgement = broker.live_trading_acknowledgement
    if acknowledgement != LIVE_TRADING_ACKNOWLEDGEMENT:
        found.append(
            ConfigError(
                file,
                "broker.live_trading_acknowledgement",
                f"broker.environment is 'live': this must be exactly "
                f"{LIVE_TRADING_ACKNOWLEDGEMENT!r} (got {show(acknowledgement)})",
            )
        )
    flag = environ.get(LIVE_TRADING_VARIABLE)
    if flag != "yes":
        got = "unset" if flag is None else show(flag)
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


def broker_credential_problems(
    broker: BrokerConfig, secrets: Secrets, file: str
) -> list[ConfigError]:
    """The Alpaca API key and secret the environment must hold when broker.kind is alpaca."""
    if broker.kind != "alpaca":
        return []
    return [
        ConfigError(
            ENVIRONMENT, variable, f"broker.kind is 'alpaca' in {file} but {variable} is not set"
        )
        for variable in (APCA_API_KEY_ID, APCA_API_SECRET_KEY)
        if getattr(secrets, SECRET_VARIABLES[variable]) is None
    ]


def check_smtp_credentials(
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


def read_webhook_urls(
    trading: TradingFile,
    environ: Mapping[str, str],
    file: str,
    base: Path,
    problems: list[ConfigError],
) -> tuple[SecretStr, ...]:
    """Each webhook's URL from the variable or file it names (a relative file is anchored at
    `base`). The URL carries a token: problems name the variable or file, never the URL."""
    urls: list[SecretStr] = []
    for index, hook in enumerate(trading.notifications.webhooks):
        key = f"notifications.webhooks[{index}]"
        if hook.url_env is not None:
            raw = environ.get(hook.url_env, "").strip()
            where = f"environment variable {hook.url_env}"
            if not raw:
                problems.append(ConfigError(file, f"{key}.url_env", f"{where} is not set"))
                continue
        else:
            assert hook.url_file is not None  # the model demands one of the two
            path = hook.url_file if hook.url_file.is_absolute() else base / hook.url_file
            where = f"file {path}"
            try:
                raw = path.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeError) as exc:
                why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
                problems.append(
                    ConfigError(file, f"{key}.url_file", f"{where} cannot be read: {why}")
                )
                continue
        parts = urlsplit(raw)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            problems.append(
                ConfigError(
                    file,
                    f"{key}.url_env" if hook.url_env is not None else f"{key}.url_file",
                    f"{where} does not hold an http(s) URL (value not shown: it is a secret)",
                )
            )
            continue
        urls.append(SecretStr(raw))
    return tuple(urls)
