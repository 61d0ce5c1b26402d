"""The configuration schema: frozen pydantic models that reject unknown keys.

Two YAML files feed it: `trading_config.yaml` (trading_session, workflow, schedule, broker,
database, paths, notifications, simulation, logging) and `risk_parameters.yaml` (risk_limits,
emergency_actions). Secrets never live in these files: they come from the environment and are held
as `SecretStr`, which masks itself in every repr.
"""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from catalyst.config.strategy import StrategyConfig

PositiveDecimal = Annotated[Decimal, Field(gt=0)]
Fraction = Annotated[float, Field(gt=0, le=1)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class SessionMode(StrEnum):
    """What a trading session does with its scans (`trading_session.mode`)."""

    AUTONOMOUS = "autonomous"  # scan, check risk, place bracket orders
    SUPERVISED = "supervised"  # scan, check risk, propose each entry; a person approves it
    SCAN_ONLY = "scan_only"  # scan and record; never order an entry


class BrokerEnvironment(StrEnum):
    """Which money a broker account trades (`broker.environment`)."""

    PAPER = "paper"
    LIVE = "live"


class TradingSessionConfig(_Frozen):
    mode: SessionMode = SessionMode.AUTONOMOUS
    auto_close_at_market_close: bool = True
    max_hold_time_minutes: Annotated[int, Field(gt=0, le=390)] = 180
    # A `catalyst flatten` request older than this is never acted on (logged as expired).
    flatten_request_max_age_seconds: Annotated[int, Field(gt=0, le=3600)] = 120
    # supervised: a proposal nobody approved within this many minutes expires unsent.
    proposal_expiry_minutes: Annotated[int, Field(gt=0, le=390)] = 15
    # supervised: at approval the price must still be within this fraction of the proposed entry.
    proposal_max_price_move_pct: Annotated[float, Field(gt=0, lt=0.2)] = 0.01

    @field_validator("mode", mode="before")
    @classmethod
    def _session_mode_not_paper_or_live(cls, value: object) -> object:
        # `mode` used to be the paper/live switch: never guess which one an old file meant.
        if value in ("paper", "live"):
            raise ValueError(
                "paper/live moved to broker.environment; trading_session.mode is now the "
                "session mode (autonomous, supervised or scan_only)"
            )
        return value


class WorkflowConfig(_Frozen):
    # Extra scans between the configured scan times (see plan_day); None: scan_times only.
    scan_frequency_minutes: Annotated[int, Field(gt=0, le=390)] | None = None
    execute_top_n: Annotated[int, Field(gt=0, le=50)] = 5
    min_confidence_score: Annotated[float, Field(ge=0, le=1)] = 0.70
    most_active_count: Annotated[int, Field(gt=0, le=5000)] = 200
    min_price: PositiveDecimal = Decimal("2")
    max_price: PositiveDecimal = Decimal("500")
    reward_risk_ratio: Annotated[float, Field(ge=1)] = 2.0
    stop_loss_pct: Annotated[float, Field(gt=0, lt=0.5)] = 0.02

    @model_validator(mode="after")
    def _price_band(self) -> WorkflowConfig:
        if self.min_price >= self.max_price:
            raise ValueError("min_price must be below max_price")
        return self


class ScheduleConfig(_Frozen):
    """Scan times are exchange-local (America/New_York) wall times on trading days."""

    timezone: Literal["America/New_York"] = "America/New_York"
    scan_times: tuple[time, ...] = (
        time(9, 15),
        time(9, 30),
        time(10, 30),
        time(12, 0),
        time(13, 30),
        time(15, 0),
    )
    entry_cutoff_minutes_before_close: Annotated[int, Field(ge=0, le=390)] = 30
    flatten_minutes_before_close: Annotated[int, Field(ge=1, le=120)] = 10
    # A scan missed while the daemon was down runs at start-up if it is less than this many
    # minutes late (0: never); an older one is journaled as missed.
    missed_scan_grace_minutes: Annotated[int, Field(ge=0, le=120)] = 5

    @field_validator("scan_times")
    @classmethod
    def _sorted_unique(cls, value: tuple[time, ...]) -> tuple[time, ...]:
        if not value:
            raise ValueError("at least one scan time is required")
        # Exchange-local wall times only: an offset would be ignored or (mixed with naive times)
        # make sorting raise TypeError instead of a config error.
        if any(item.tzinfo is not None for item in value):
            raise ValueError("scan times are New York wall times; drop the UTC offset")
        if len(set(value)) != len(value):
            raise ValueError("scan times must be unique")
        return tuple(sorted(value))


class BrokerConfig(_Frozen):
    kind: Literal["sim", "alpaca"] = "sim"
    environment: BrokerEnvironment = BrokerEnvironment.PAPER
    # Live trading needs environment live, this exact phrase here *and* CATALYST_LIVE_TRADING=yes
    # in the environment of the process.
    live_trading_acknowledgement: str | None = None
    trading_base_url: str | None = None
    data_base_url: str | None = None
    stream_base_url: str | None = None
    requests_per_minute: Annotated[int, Field(gt=0, le=10_000)] = 190


class DatabaseConfig(_Frozen):
    # None means the embedded default: a SQLite file in the state directory.
    # CATALYST_DATABASE_URL in the environment overrides this (it may carry a password).
    url: str | None = None
    echo: bool = False


class PathsConfig(_Frozen):
    # Relative paths are anchored at the config directory by the loader.
    state_dir: Path = Path("var")
    pause_file: Path | None = None  # default: <state_dir>/PAUSE

    @property
    def resolved_pause_file(self) -> Path:
        return self.pause_file if self.pause_file is not None else self.state_dir / "PAUSE"


class SmtpTls(StrEnum):
    """How the SMTP connection is secured (`notifications.smtp_tls`)."""

    NONE = "none"  # plain text: only for a relay on the same host
    STARTTLS = "starttls"  # connect plain, upgrade with STARTTLS (usually port 587)
    IMPLICIT = "implicit"  # TLS from the first byte (usually port 465)


class WebhookFormat(StrEnum):
    """The JSON a webhook receives (`notifications.webhooks[].format`)."""

    JSON = "json"  # Catalyst's own fields
    SLACK = "slack"  # an incoming-webhook message
    DISCORD = "discord"  # a webhook message
    NTFY = "ntfy"  # ntfy's JSON publish (the topic is the URL's last path segment)


class WebhookConfig(_Frozen):
    """One webhook. Its URL carries a token, so it is a secret: the name of an environment
    variable holding it, or a file (relative paths anchored at the config directory)."""

    format: WebhookFormat = WebhookFormat.JSON
    url_env: str | None = None
    url_file: Path | None = None

    @model_validator(mode="after")
    def _one_url_source(self) -> WebhookConfig:
        if (self.url_env is None) == (self.url_file is None):
            raise ValueError("give exactly one of url_env and url_file (never the URL itself)")
        return self


class NotificationsConfig(_Frozen):
    email_enabled: bool = False
    smtp_host: str = "localhost"
    smtp_port: Annotated[int, Field(gt=0, lt=65536)] = 25
    smtp_tls: SmtpTls = SmtpTls.NONE
    email_from: str = "catalyst@localhost"
    email_to: tuple[str, ...] = ()
    webhooks: tuple[WebhookConfig, ...] = ()
    # The same alert (kind, severity and subject of it) again within this window is a duplicate.
    dedup_window_seconds: Annotated[int, Field(ge=0, le=86_400)] = 600
    # At most this many alerts of one kind and severity per hour; the rest are counted and the
    # count is shown in the next one sent. A critical alert never waits on a lesser one's limit.
    rate_limit_per_hour: Annotated[int, Field(gt=0, le=3600)] = 12
    # Alerts held in memory for delivery; more spill to the alert journal, never dropped.
    queue_capacity: Annotated[int, Field(gt=0, le=10_000)] = 100

    @model_validator(mode="before")
    @classmethod
    def _older_starttls_switch(cls, data: Any) -> Any:
        # Files written before smtp_tls said `smtp_starttls: true/false`: still understood.
        if not isinstance(data, dict):
            return data
        # Behind a "before" validator strict validation sees Python values, not JSON: lists
        # become the tuples strict mode accepts.
        data = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        if "smtp_starttls" in data:
            old = data.pop("smtp_starttls")
            if not isinstance(old, bool):
                raise ValueError("smtp_starttls must be true or false (better: use smtp_tls)")
            meant = SmtpTls.STARTTLS if old else SmtpTls.NONE
            if "smtp_tls" in data and data["smtp_tls"] != meant.value:
                raise ValueError("smtp_starttls contradicts smtp_tls: give smtp_tls only")
            data["smtp_tls"] = meant.value
        return data

    @model_validator(mode="after")
    def _recipients_when_enabled(self) -> NotificationsConfig:
        if self.email_enabled and not self.email_to:
            raise ValueError("email_to needs at least one address when email_enabled is true")
        return self


class SimulationConfig(_Frozen):
    seed: int = 7
    symbols: Annotated[int, Field(ge=10, le=20_000)] = 3000
    starting_cash: PositiveDecimal = Decimal("100000")
    history_days: Annotated[int, Field(ge=5, le=250)] = 30
    catalyst_fraction: Annotated[float, Field(ge=0, le=0.5)] = 0.03


class LoggingConfig(_Frozen):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["auto", "json", "console"] = "auto"


class TradingFile(_Frozen):
    """Contents of trading_config.yaml."""

    trading_session: TradingSessionConfig = TradingSessionConfig()
    workflow: WorkflowConfig = WorkflowConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    broker: BrokerConfig = BrokerConfig()
    database: DatabaseConfig = DatabaseConfig()
    paths: PathsConfig = PathsConfig()
    notifications: NotificationsConfig = NotificationsConfig()
    simulation: SimulationConfig = SimulationConfig()
    logging: LoggingConfig = LoggingConfig()
    strategy: StrategyConfig = StrategyConfig()


class RiskLimits(_Frozen):
    max_daily_loss_usd: PositiveDecimal = Decimal("2000")
    warning_threshold_pct: Annotated[float, Field(gt=0, lt=1)] = 0.75
    max_positions: Annotated[int, Field(gt=0, le=100)] = 5
    max_position_size_usd: PositiveDecimal = Decimal("5000")
    max_sector_exposure_pct: Fraction = 0.40
    min_reward_risk: Annotated[float, Field(ge=1)] = 1.5
    # After a symbol's stop fills, no new entry in it for this long; 390 = the rest of the day.
    stop_out_cooldown_minutes: Annotated[int, Field(ge=0, le=390)] = 390


# The names the replaced system used for two of the actions: accepted as they were.
EMERGENCY_ACTION_ALIASES = {"halt_new_trades": "halt_trading", "notify_via_email": "notify"}


def _or_seed_name(name: str) -> AliasChoices:
    """`name`, or the replaced system's name for the same emergency action."""
    return AliasChoices(
        name, *(old for old, new in EMERGENCY_ACTION_ALIASES.items() if new == name)
    )


class EmergencyActions(_Frozen):
    cancel_open_orders: bool = True
    close_all_positions: bool = True
    halt_trading: bool = Field(True, validation_alias=_or_seed_name("halt_trading"))
    notify: bool = Field(True, validation_alias=_or_seed_name("notify"))
    # Only a person ever clears a halt; the key exists so the replaced system's files load.
    require_manual_restart: bool = True
    risk_watch_interval_seconds: Annotated[float, Field(gt=0, le=300)] = 1.5

    @model_validator(mode="before")
    @classmethod
    def _one_name_per_action(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for old, new in EMERGENCY_ACTION_ALIASES.items():
                if old in data and new in data:
                    raise ValueError(
                        f"{old} and {new} are two names for the same action: give only one"
                    )
        return data

    @field_validator("require_manual_restart")
    @classmethod
    def _manual_restart_always(cls, value: bool) -> bool:
        if not value:
            raise ValueError(
                "Catalyst always requires a person to clear a halt (catalyst resume --ack); "
                "false would weaken the emergency stop, so it is refused"
            )
        return value


class RiskFile(_Frozen):
    """Contents of risk_parameters.yaml."""

    risk_limits: RiskLimits = RiskLimits()
    emergency_actions: EmergencyActions = EmergencyActions()


class Secrets(_Frozen):
    """Credentials from the environment only; masked in every repr and log line."""

    alpaca_key_id: SecretStr | None = None
    alpaca_secret_key: SecretStr | None = None
    database_url: SecretStr | None = None
    smtp_username: SecretStr | None = None
    smtp_password: SecretStr | None = None
    # One per `notifications.webhooks` entry, in order, read from the variable or file it names.
    webhook_urls: tuple[SecretStr, ...] = ()


class Settings(_Frozen):
    """The whole validated configuration the daemon runs with."""

    trading: TradingFile
    risk: RiskFile
    secrets: Secrets
    config_dir: Path
    live_trading_confirmed: bool = False  # true only when config phrase and env var both say so
    # symbol -> GICS sector from sector_overrides.yaml; wins over what the broker reports.
    sector_overrides: dict[str, str] = Field(default_factory=dict)
    # Problems that do not stop Catalyst (e.g. a stray SMTP password with email off), one line each.
    warnings: tuple[str, ...] = ()
