"""The config loader: every malformed config names its file and key; secrets stay secret."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from catalyst.config.cross_checks import LIVE_TRADING_ACKNOWLEDGEMENT
from catalyst.config.loader import database_url, describe_settings, load_settings
from catalyst.config.models import Settings
from catalyst.domain.errors import ConfigError, ConfigProblems
from catalyst.redaction import redact_url

TRADING = "trading_config.yaml"
RISK = "risk_parameters.yaml"
ALPACA_KEYS = {"APCA_API_KEY_ID": "key-id-123", "APCA_API_SECRET_KEY": "secret-456"}


# The least a file may hold: an empty one is refused (it would mean "all defaults" by accident).
MINIMAL_TRADING = "trading_session:\n  mode: autonomous\n"
# Every limit a risk file must state (LIMITS_STATED_EXPLICITLY), at the defaults.
STATED_LIMITS = (
    "  max_daily_loss_usd: 2000\n"
    "  warning_threshold_pct: 0.75\n"
    "  max_positions: 5\n"
    "  max_position_size_usd: 5000\n"
    "  max_sector_exposure_pct: 0.40\n"
)
MINIMAL_RISK = "risk_limits:\n" + STATED_LIMITS


def with_stated_limits(risk: str) -> str:
    """`risk` plus the limits every risk file must state that it leaves out, so that a case
    about one key is not also about the missing ones. Added at the end of the `risk_limits`
    block (or of the file), so the line numbers a case expects do not move. Text that is no
    non-empty mapping stays as it is."""
    try:
        data = yaml.safe_load(risk)
    except yaml.YAMLError:
        return risk
    if not isinstance(data, dict) or not data:
        return risk
    limits = data.get("risk_limits", {})
    if not isinstance(limits, dict | None):
        return risk
    missing = [
        line
        for line in STATED_LIMITS.splitlines(keepends=True)
        if line.split(":")[0].strip() not in (limits or {})
    ]
    lines = risk.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    if "risk_limits" not in data:
        return "".join([*lines, "risk_limits:\n", *missing])
    end = next(i for i, line in enumerate(lines) if line.startswith("risk_limits:")) + 1
    while end < len(lines) and (lines[end].startswith((" ", "#")) or not lines[end].strip()):
        end += 1
    return "".join([*lines[:end], *missing, *lines[end:]])


def write_config(
    directory: Path,
    trading: str | None = None,
    risk: str | None = None,
    *,
    state_limits: bool = True,
) -> Path:
    """Write both config files (dedented; minimal when not given) into `directory`.

    A given risk text gets the limits it leaves out (`with_stated_limits`) unless
    `state_limits` is false."""
    directory.mkdir(parents=True, exist_ok=True)
    trading_text = MINIMAL_TRADING if trading is None else textwrap.dedent(trading)
    risk_text = MINIMAL_RISK if risk is None else textwrap.dedent(risk)
    if risk is not None and state_limits:
        risk_text = with_stated_limits(risk_text)
    (directory / TRADING).write_text(trading_text, encoding="utf-8")
    (directory / RISK).write_text(risk_text, encoding="utf-8")
    return directory


def load_error(config_dir: Path, environ: Mapping[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_settings(config_dir, environ or {})
    return caught.value


# --------------------------------------------------------------------------------------------
# Malformed configs: each names the file and the dotted key
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Malformed:
    file: str  # TRADING or RISK
    key: str
    fragment: str  # must appear in the message
    trading: str | None = None
    risk: str | None = None
    environ: Mapping[str, str] = field(default_factory=dict)


LIVE_WITHOUT_ACK = """
    broker:
      kind: alpaca
      environment: live
"""

MALFORMED = {
    "yaml_syntax_error_gives_line_and_column": Malformed(
        TRADING, "(top level)", "line 3, column", trading="workflow:\n  execute_top_n: [1, 2\n"
    ),
    "top_level_list": Malformed(RISK, "(top level)", "must be a mapping", risk="- 1\n- 2\n"),
    "top_level_scalar": Malformed(TRADING, "(top level)", "got the value", trading="hello\n"),
    "duplicate_key": Malformed(
        RISK,
        "risk_limits.max_positions",
        "duplicate key at line 4 (first at line 3)",
        risk="""
            risk_limits:
              max_positions: 5
              max_positions: 50
        """,
    ),
    "duplicate_section": Malformed(
        TRADING,
        "workflow",
        "duplicate key",
        trading="workflow: {execute_top_n: 3}\nworkflow: {execute_top_n: 4}\n",
    ),
    "unknown_key_with_suggestion": Malformed(
        RISK,
        "risk_limits.max_daily_los_usd",
        "unknown key; did you mean 'max_daily_loss_usd'?",
        risk="risk_limits:\n  max_daily_los_usd: 100\n",
    ),
    "strategy_counts_widen": Malformed(
        TRADING,
        "strategy",
        "rank.keep must not exceed catalysts.keep",
        trading="strategy:\n  catalysts:\n    keep: 10\n  rank:\n    keep: 20\n",
    ),
    "strategy_pattern_threshold": Malformed(
        TRADING,
        "strategy.patterns.flag_max_retrace",
        "must be at most 1 (got 2)",
        trading="strategy:\n  patterns:\n    flag_max_retrace: 2\n",
    ),
    "strategy_technicals_order": Malformed(
        TRADING,
        "strategy.technicals",
        "macd_fast (30) must be below macd_slow (26)",
        trading="strategy:\n  technicals:\n    macd_fast: 30\n",
    ),
    "strategy_bad_keyword_class": Malformed(
        TRADING,
        "strategy.news.keywords",
        "fda: unknown news class",
        trading="strategy:\n  news:\n    keywords:\n      fda: {phrases: [FDA], weight: 1}\n",
    ),
    "strategy_unknown_kind": Malformed(
        TRADING, "strategy.kind", "funnel", trading="strategy:\n  kind: hunch\n"
    ),
    "unknown_section": Malformed(
        TRADING, "tactics", "unknown key", trading="tactics:\n  aggressive: true\n"
    ),
    "word_for_int": Malformed(
        TRADING,
        "workflow.execute_top_n",
        "must be a whole number (got 'three')",
        trading="workflow:\n  execute_top_n: three\n",
    ),
    "quoted_number_for_int": Malformed(
        TRADING,
        "workflow.execute_top_n",
        "must be a whole number (got '3')",
        trading='workflow:\n  execute_top_n: "3"\n',
    ),
    "fraction_for_int": Malformed(
        RISK,
        "risk_limits.max_positions",
        "must be a whole number (got 2.5)",
        risk="risk_limits:\n  max_positions: 2.5\n",
    ),
    "leading_zero_is_not_octal": Malformed(
        RISK,
        "risk_limits.max_positions",
        "must be a whole number (got '010')",
        risk="risk_limits:\n  max_positions: 010\n",
    ),
    "list_for_mapping": Malformed(
        RISK,
        "risk_limits",
        "must be a mapping of keys to values (got a list)",
        risk="risk_limits: [1, 2]\n",
    ),
    "list_for_text": Malformed(
        TRADING,
        "paths.state_dir",
        "must be text (got a list)",
        trading="paths:\n  state_dir: [a]\n",
    ),
    "text_for_list": Malformed(
        TRADING,
        "notifications.email_to",
        "must be a list (got 'ops@example.com')",
        trading="notifications:\n  email_to: ops@example.com\n",
    ),
    "negative_limit": Malformed(
        RISK,
        "risk_limits.max_daily_loss_usd",
        "must be greater than 0 (got -5)",
        risk="risk_limits:\n  max_daily_loss_usd: -5\n",
    ),
    "zero_limit": Malformed(
        RISK,
        "risk_limits.max_positions",
        "must be greater than 0 (got 0)",
        risk="risk_limits:\n  max_positions: 0\n",
    ),
    "fraction_above_one": Malformed(
        RISK,
        "risk_limits.warning_threshold_pct",
        "must be less than 1 (got 1.5)",
        risk="risk_limits:\n  warning_threshold_pct: 1.5\n",
    ),
    "infinite_limit": Malformed(
        RISK,
        "risk_limits.max_position_size_usd",
        "must be a number (got '.inf')",
        risk="risk_limits:\n  max_position_size_usd: .inf\n",
    ),
    "bad_enum_value": Malformed(
        TRADING,
        "trading_session.mode",
        "must be one of 'autonomous', 'supervised' or 'scan_only' (got 'yolo')",
        trading="trading_session:\n  mode: yolo\n",
    ),
    "bad_broker_environment": Malformed(
        TRADING,
        "broker.environment",
        "must be one of 'paper' or 'live' (got 'real')",
        trading="broker:\n  environment: real\n",
    ),
    "old_paper_mode_says_where_it_moved": Malformed(
        TRADING,
        "trading_session.mode",
        "paper/live moved to broker.environment",
        trading="trading_session:\n  mode: paper\n",
    ),
    "old_live_mode_is_never_guessed": Malformed(
        TRADING,
        "trading_session.mode",
        "paper/live moved to broker.environment",
        trading="trading_session:\n  mode: live\n",
        environ={"CATALYST_LIVE_TRADING": "yes"},
    ),
    "proposal_expiry_of_zero_minutes": Malformed(
        TRADING,
        "trading_session.proposal_expiry_minutes",
        "must be greater than 0",
        trading="trading_session:\n  mode: supervised\n  proposal_expiry_minutes: 0\n",
    ),
    "old_and_new_name_for_one_action": Malformed(
        RISK,
        "emergency_actions",
        "halt_new_trades and halt_trading are two names for the same action",
        risk="emergency_actions:\n  halt_trading: true\n  halt_new_trades: true\n",
    ),
    "old_and_new_name_for_notify": Malformed(
        RISK,
        "emergency_actions",
        "notify_via_email and notify are two names for the same action",
        risk="emergency_actions:\n  notify_via_email: true\n  notify: false\n",
    ),
    "manual_restart_cannot_be_switched_off": Malformed(
        RISK,
        "emergency_actions.require_manual_restart",
        "Catalyst always requires a person to clear a halt",
        risk="emergency_actions:\n  require_manual_restart: false\n",
    ),
    "old_action_name_with_bad_value": Malformed(
        RISK,
        "emergency_actions.halt_new_trades",
        "must be true or false (got 'yes')",
        risk="emergency_actions:\n  halt_new_trades: yes\n",
    ),
    "empty_risk_file": Malformed(RISK, "(top level)", "the file is empty", risk=""),
    "comment_only_risk_file": Malformed(
        RISK, "(top level)", "the file is empty (or only comments)", risk="# max loss 1500\n"
    ),
    "empty_trading_file": Malformed(TRADING, "(top level)", "the file is empty", trading="\n\n"),
    "empty_mapping_as_file": Malformed(RISK, "(top level)", "the file is empty", risk="{}\n"),
    "relative_sqlite_url_without_path": Malformed(
        TRADING,
        "database.url",
        "sqlite:///relative/path.db",
        trading="database:\n  url: sqlite://catalyst.db\n",
    ),
    "password_in_database_url_query": Malformed(
        TRADING,
        "database.url",
        "CATALYST_DATABASE_URL",
        trading="database:\n  url: postgresql://db/x?sslpassword=hunter2\n",
    ),
    "bad_time_string": Malformed(
        TRADING,
        "schedule.scan_times.2",
        "must be a time of day",
        trading='schedule:\n  scan_times: ["09:30", "10:30", "25:00"]\n',
    ),
    "time_with_single_digit_hour": Malformed(
        TRADING,
        "schedule.scan_times.0",
        "(got '9:30')",
        trading="schedule:\n  scan_times: [9:30]\n",
    ),
    "duplicate_scan_times": Malformed(
        TRADING,
        "schedule.scan_times",
        "scan times must be unique",
        trading='schedule:\n  scan_times: ["10:30", "09:30", "10:30"]\n',
    ),
    "scan_time_with_utc_offset": Malformed(
        TRADING,
        "schedule.scan_times",
        "drop the UTC offset",
        trading='schedule:\n  scan_times: ["09:30", "10:30:00+00:00"]\n',
    ),
    "empty_scan_times": Malformed(
        TRADING, "schedule.scan_times", "at least one", trading="schedule:\n  scan_times: []\n"
    ),
    "min_price_not_below_max_price": Malformed(
        TRADING,
        "workflow",
        "min_price must be below max_price",
        trading="workflow:\n  min_price: 600\n  max_price: 500\n",
    ),
    "email_enabled_without_recipients": Malformed(
        TRADING,
        "notifications",
        "email_to needs at least one address",
        trading="notifications:\n  email_enabled: true\n",
    ),
    "bool_given_as_maybe": Malformed(
        RISK,
        "emergency_actions.notify",
        "must be true or false (got 'maybe')",
        risk="emergency_actions:\n  notify: maybe\n",
    ),
    "yaml_1_1_yes_is_not_a_bool": Malformed(
        RISK,
        "emergency_actions.halt_trading",
        "must be true or false (got 'yes')",
        risk="emergency_actions:\n  halt_trading: yes\n",
    ),
    "safety_bool_left_empty": Malformed(
        RISK,
        "emergency_actions.close_all_positions",
        "must be true or false (got null)",
        risk="emergency_actions:\n  close_all_positions:\n",
    ),
    "api_key_in_yaml": Malformed(
        TRADING,
        "broker.api_key",
        "secrets belong in the environment",
        trading="broker:\n  kind: alpaca\n  api_key: PKTOPSECRET\n",
    ),
    "password_in_yaml": Malformed(
        TRADING,
        "notifications.smtp_password",
        "secrets belong in the environment",
        trading="notifications:\n  smtp_password: hunter2\n",
    ),
    "secret_as_top_level_key": Malformed(
        RISK,
        "alpaca_secret_key",
        "secrets belong in the environment",
        risk="alpaca_secret_key: x\n",
    ),
    "password_inside_database_url": Malformed(
        TRADING,
        "database.url",
        "CATALYST_DATABASE_URL",
        trading="database:\n  url: postgresql://catalyst:hunter2@db/catalyst\n",
    ),
    "unsupported_database_scheme": Malformed(
        TRADING,
        "database.url",
        "unsupported database",
        trading="database:\n  url: mysql://db/catalyst\n",
    ),
    "in_memory_sqlite": Malformed(
        TRADING, "database.url", "in-memory", trading="database:\n  url: sqlite://\n"
    ),
    "live_endpoint_in_paper_mode": Malformed(
        TRADING,
        "broker.trading_base_url",
        "live endpoint",
        trading="broker:\n  trading_base_url: https://api.alpaca.markets\n",
    ),
    "stream_url_with_http_scheme": Malformed(
        TRADING,
        "broker.stream_base_url",
        "must be a ws:// or wss:// URL",
        trading="broker:\n  stream_base_url: https://stream.data.alpaca.markets\n",
    ),
    "home_relative_state_dir": Malformed(
        TRADING,
        "paths.state_dir",
        "'~' is not expanded",
        trading="paths:\n  state_dir: ~/catalyst\n",
    ),
    "yaml_alias": Malformed(
        RISK,
        "(top level)",
        "aliases",
        risk="risk_limits:\n  max_positions: &n 5\nemergency_actions:\n  notify: *n\n",
    ),
    "non_name_key": Malformed(
        RISK, "risk_limits", "keys must be plain names", risk="risk_limits:\n  5: 10\n"
    ),
    "exotic_yaml_tag": Malformed(
        TRADING,
        "paths.state_dir",
        "YAML tag",
        trading="paths:\n  state_dir: !!binary aGVsbG8=\n",
    ),
    "live_mode_without_acknowledgement": Malformed(
        TRADING,
        "broker.live_trading_acknowledgement",
        LIVE_TRADING_ACKNOWLEDGEMENT,
        trading=LIVE_WITHOUT_ACK,
        environ={**ALPACA_KEYS, "CATALYST_LIVE_TRADING": "yes"},
    ),
}


@pytest.mark.parametrize("case", MALFORMED.values(), ids=MALFORMED.keys())
def test_load_settings_when_config_malformed_names_file_and_key(
    tmp_path: Path, case: Malformed
) -> None:
    config_dir = write_config(tmp_path, trading=case.trading, risk=case.risk)

    error = load_error(config_dir, case.environ)

    expected_file = str(config_dir / case.file)
    assert (error.file, error.key) == (expected_file, case.key)
    message = str(error)
    assert message.startswith(f"{expected_file}: {case.key}: ")
    assert case.fragment in message
    assert "\n" not in message


def test_malformed_kinds_cover_at_least_sixteen_cases() -> None:
    assert len(MALFORMED) >= 16


def test_load_settings_when_secret_key_in_yaml_never_echoes_its_value(tmp_path: Path) -> None:
    config_dir = write_config(tmp_path, trading="broker:\n  api_secret: PKVERYSECRET\n")

    error = load_error(config_dir)

    assert "PKVERYSECRET" not in str(error)
    assert "PKVERYSECRET" not in repr(error.problem)


def test_load_settings_when_database_url_has_password_never_echoes_it(tmp_path: Path) -> None:
    config_dir = write_config(tmp_path, trading="database:\n  url: postgres://u:hunter2@db/x\n")

    error = load_error(config_dir)

    assert "hunter2" not in str(error)
    assert "postgres://u:***@db/x" in str(error)


def test_load_settings_when_several_problems_lists_every_one_under_a_count(
    tmp_path: Path,
) -> None:
    config_dir = write_config(
        tmp_path,
        risk="""
            risk_limits:
              max_daily_loss_usd: -1
              max_positions: 0
              max_positions: 3
              x: 1
              api_token: abc
            emergency_actions:
              notify: maybe
        """,
    )

    error = load_error(config_dir)

    assert isinstance(error, ConfigProblems)
    risk = str(config_dir / RISK)
    assert str(error).splitlines() == [
        f"{risk}: 5 problems",
        f"{risk}: risk_limits.max_positions: duplicate key at line 5 (first at line 4)",
        f"{risk}: risk_limits.api_token: looks like a credential (line 7): secrets belong in the "
        "environment (APCA_API_KEY_ID, APCA_API_SECRET_KEY, CATALYST_DATABASE_URL, "
        "CATALYST_SMTP_USERNAME, CATALYST_SMTP_PASSWORD), never in config files",
        f"{risk}: risk_limits.max_daily_loss_usd: must be greater than 0 (got -1)",
        f"{risk}: risk_limits.x: unknown key (allowed here: max_daily_loss_usd, "
        "warning_threshold_pct, max_positions, max_position_size_usd, max_sector_exposure_pct, "
        "min_reward_risk, stop_out_cooldown_minutes)",
        f"{risk}: emergency_actions.notify: must be true or false (got 'maybe')",
    ]
    assert error.key == "risk_limits.max_positions"


def test_load_settings_when_both_files_have_problems_lists_both(tmp_path: Path) -> None:
    config_dir = write_config(
        tmp_path,
        trading="workflow:\n  execute_top_n: 0\n",
        risk="risk_limits:\n  max_positions: 0\n",
    )

    error = load_error(config_dir)

    lines = str(error).splitlines()
    trading, risk = str(config_dir / TRADING), str(config_dir / RISK)
    assert lines[0] == f"2 problems in {trading} and {risk}"
    assert lines[1] == f"{trading}: workflow.execute_top_n: must be greater than 0 (got 0)"
    assert lines[2] == f"{risk}: risk_limits.max_positions: must be greater than 0 (got 0)"


@pytest.mark.parametrize("missing", [TRADING, RISK])
def test_load_settings_when_file_missing_names_it(tmp_path: Path, missing: str) -> None:
    config_dir = write_config(tmp_path)
    (config_dir / missing).unlink()

    error = load_error(config_dir)

    assert (error.file, error.key) == (str(config_dir / missing), "(top level)")
    assert "file not found" in str(error)


def test_load_settings_when_config_dir_missing_names_trading_file(tmp_path: Path) -> None:
    error = load_error(tmp_path / "nowhere")

    assert error.file == str(tmp_path / "nowhere" / TRADING)
    assert "file not found" in str(error)


def test_load_settings_when_file_unreadable_says_so(tmp_path: Path) -> None:
    config_dir = write_config(tmp_path)
    (config_dir / RISK).unlink()
    (config_dir / RISK).mkdir()  # a directory cannot be read as a file, even by root

    error = load_error(config_dir)

    assert (error.file, error.key) == (str(config_dir / RISK), "(top level)")
    assert "cannot read file" in str(error)


def test_load_settings_when_file_not_utf8_says_so(tmp_path: Path) -> None:
    config_dir = write_config(tmp_path)
    (config_dir / TRADING).write_bytes(b"workflow:\n  execute_top_n: \xff\n")

    error = load_error(config_dir)

    assert (error.file, error.key) == (str(config_dir / TRADING), "(top level)")
    assert "not UTF-8" in str(error)


# --------------------------------------------------------------------------------------------
# Well-formed configs
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["", "\n\n", "# only a comment\n", "---\n", "~\n", "{}\n"],
    ids=["empty", "blank", "comment", "document_marker", "null", "empty_mapping"],
)
@pytest.mark.parametrize("name", [TRADING, RISK])
def test_load_settings_when_a_file_is_empty_refuses_it_by_name(
    tmp_path: Path, text: str, name: str
) -> None:
    config_dir = write_config(tmp_path)
    (config_dir / name).write_text(text, encoding="utf-8")

    error = load_error(config_dir)

    assert (error.file, error.key) == (str(config_dir / name), "(top level)")
    assert "the file is empty" in str(error)
    assert "\n" not in str(error)


def test_load_settings_when_section_left_empty_uses_its_defaults(tmp_path: Path) -> None:
    config_dir = write_config(
        tmp_path, trading="workflow:\n  # all commented out\n", risk="emergency_actions:\n"
    )

    settings = load_settings(config_dir, {})

    assert settings.trading.workflow.execute_top_n == 5
    assert settings.risk.emergency_actions.close_all_positions is True


def test_load_settings_when_limits_section_left_empty_refuses_every_unstated_limit(
    tmp_path: Path,
) -> None:
    config_dir = write_config(
        tmp_path, risk="risk_limits:\n  # all commented out\n", state_limits=False
    )

    error = load_error(config_dir)

    assert isinstance(error, ConfigProblems)
    assert sorted(problem.key for problem in error.problems) == [
        "risk_limits.max_daily_loss_usd",
        "risk_limits.max_position_size_usd",
        "risk_limits.max_positions",
        "risk_limits.max_sector_exposure_pct",
        "risk_limits.warning_threshold_pct",
    ]


def test_load_settings_when_risk_file_cut_short_refuses_the_limits_it_lost(
    tmp_path: Path,
) -> None:
    # A copy cut off after max_positions: the two limits below it must not silently become
    # the defaults (5000 and 0.40 may be looser than what the person wrote).
    cut = "risk_limits:\n  max_daily_loss_usd: 1500\n  warning_threshold_pct: 0.75\n"
    cut += "  max_positions: 3\n"
    config_dir = write_config(tmp_path, risk=cut, state_limits=False)

    error = load_error(config_dir)

    assert isinstance(error, ConfigProblems)
    assert str(error).splitlines()[1:] == [
        f"{config_dir / RISK}: risk_limits.max_position_size_usd: must be set in the file; "
        "a limit never falls back to a default",
        f"{config_dir / RISK}: risk_limits.max_sector_exposure_pct: must be set in the file; "
        "a limit never falls back to a default",
    ]


def test_load_settings_reads_unquoted_times_as_times_not_sexagesimal_numbers(
    tmp_path: Path,
) -> None:
    config_dir = write_config(tmp_path, trading="schedule:\n  scan_times: [15:00, 10:30, 09:45]\n")

    settings = load_settings(config_dir, {})

    assert settings.trading.schedule.scan_times == (time(9, 45), time(10, 30), time(15, 0))


def test_load_settings_reads_money_as_exact_decimals(tmp_path: Path) -> None:
    config_dir = write_config(
        tmp_path,
        risk="risk_limits:\n  max_daily_loss_usd: 1234.56\n  max_position_size_usd: 1_000\n",
    )

    limits = load_settings(config_dir, {}).risk.risk_limits

    assert limits.max_daily_loss_usd == Decimal("1234.56")
    assert limits.max_position_size_usd == Decimal("1000")


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path), {})

    with pytest.raises(ValueError, match="frozen"):
        settings.live_trading_confirmed = True  # type: ignore[misc]  # the point of the test


# --------------------------------------------------------------------------------------------
# Environment: credentials and live-trading gate
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "missing"),
    [
        ({}, "APCA_API_KEY_ID"),
        ({"APCA_API_KEY_ID": "", "APCA_API_SECRET_KEY": "s"}, "APCA_API_KEY_ID"),
        ({"APCA_API_KEY_ID": "k"}, "APCA_API_SECRET_KEY"),
        ({"APCA_API_KEY_ID": "k", "APCA_API_SECRET_KEY": "   "}, "APCA_API_SECRET_KEY"),
    ],
)
def test_load_settings_when_alpaca_without_credentials_names_variable(
    tmp_path: Path, environ: dict[str, str], missing: str
) -> None:
    config_dir = write_config(tmp_path, trading="broker:\n  kind: alpaca\n")

    error = load_error(config_dir, environ)

    assert (error.file, error.key) == ("environment", missing)
    assert f"\nenvironment: {missing}: " in f"\n{error}"  # with both missing, both are listed


def test_load_settings_when_paper_alpaca_with_credentials_is_not_live(tmp_path: Path) -> None:
    config_dir = write_config(tmp_path, trading="broker:\n  kind: alpaca\n")

    settings = load_settings(config_dir, {**ALPACA_KEYS, "CATALYST_LIVE_TRADING": "yes"})

    assert not settings.live_trading_confirmed
    assert settings.secrets.alpaca_key_id is not None
    assert settings.secrets.alpaca_key_id.get_secret_value() == "key-id-123"


def live_config(acknowledgement: str | None) -> str:
    ack = "" if acknowledgement is None else f"  live_trading_acknowledgement: {acknowledgement}\n"
    return f"broker:\n  kind: alpaca\n  environment: live\n{ack}"


@pytest.mark.parametrize(
    ("acknowledgement", "flag", "expected_key"),
    [
        (LIVE_TRADING_ACKNOWLEDGEMENT, "yes", None),
        (LIVE_TRADING_ACKNOWLEDGEMENT, None, "CATALYST_LIVE_TRADING"),
        (None, "yes", "broker.live_trading_acknowledgement"),
        (None, None, "broker.live_trading_acknowledgement"),
    ],
    ids=["ack_and_flag", "ack_only", "flag_only", "neither"],
)
def test_live_mode_is_confirmed_only_with_acknowledgement_and_flag(
    tmp_path: Path, acknowledgement: str | None, flag: str | None, expected_key: str | None
) -> None:
    config_dir = write_config(tmp_path, trading=live_config(acknowledgement))
    environ = dict(ALPACA_KEYS)
    if flag is not None:
        environ["CATALYST_LIVE_TRADING"] = flag

    if expected_key is None:
        assert load_settings(config_dir, environ).live_trading_confirmed
        return
    error = load_error(config_dir, environ)
    assert error.key == expected_key
    expected_file = "environment" if expected_key.isupper() else str(config_dir / TRADING)
    assert error.file == expected_file
    assert expected_file in str(error)
    assert expected_key in str(error)


@pytest.mark.parametrize("flag", ["YES", "true", "1", " yes", ""])
def test_live_mode_when_flag_not_exactly_yes_refuses(tmp_path: Path, flag: str) -> None:
    config_dir = write_config(tmp_path, trading=live_config(LIVE_TRADING_ACKNOWLEDGEMENT))

    error = load_error(config_dir, {**ALPACA_KEYS, "CATALYST_LIVE_TRADING": flag})

    assert (error.file, error.key) == ("environment", "CATALYST_LIVE_TRADING")


def test_live_mode_when_acknowledgement_differs_refuses(tmp_path: Path) -> None:
    almost = LIVE_TRADING_ACKNOWLEDGEMENT.lower()
    config_dir = write_config(tmp_path, trading=live_config(almost))

    error = load_error(config_dir, {**ALPACA_KEYS, "CATALYST_LIVE_TRADING": "yes"})

    assert error.key == "broker.live_trading_acknowledgement"


def test_live_mode_with_simulator_refuses(tmp_path: Path) -> None:
    trading = live_config(LIVE_TRADING_ACKNOWLEDGEMENT).replace("kind: alpaca", "kind: sim")
    config_dir = write_config(tmp_path, trading=trading)

    error = load_error(config_dir, {**ALPACA_KEYS, "CATALYST_LIVE_TRADING": "yes"})

    assert (error.file, error.key) == (str(config_dir / TRADING), "broker.kind")


def test_live_mode_when_confirmed_still_needs_alpaca_credentials(tmp_path: Path) -> None:
    config_dir = write_config(tmp_path, trading=live_config(LIVE_TRADING_ACKNOWLEDGEMENT))

    error = load_error(config_dir, {"CATALYST_LIVE_TRADING": "yes"})

    assert (error.file, error.key) == ("environment", "APCA_API_KEY_ID")


def test_live_mode_when_pointed_at_paper_endpoint_refuses(tmp_path: Path) -> None:
    trading = live_config(LIVE_TRADING_ACKNOWLEDGEMENT) + (
        "  trading_base_url: https://paper-api.alpaca.markets\n"
    )
    config_dir = write_config(tmp_path, trading=trading)

    error = load_error(config_dir, {**ALPACA_KEYS, "CATALYST_LIVE_TRADING": "yes"})

    assert error.key == "broker.trading_base_url"


EMAIL_ON = "notifications:\n  email_enabled: true\n  email_to: [ops@example.com]\n"


@pytest.mark.parametrize(
    ("environ", "missing"),
    [
        ({"CATALYST_SMTP_USERNAME": "mailer"}, "CATALYST_SMTP_PASSWORD"),
        ({"CATALYST_SMTP_PASSWORD": "pw"}, "CATALYST_SMTP_USERNAME"),
    ],
)
def test_load_settings_when_email_on_and_smtp_credentials_half_set_names_missing_variable(
    tmp_path: Path, environ: dict[str, str], missing: str
) -> None:
    error = load_error(write_config(tmp_path, trading=EMAIL_ON), environ)

    assert (error.file, error.key) == ("environment", missing)


@pytest.mark.parametrize(
    ("environ", "missing"),
    [
        ({"CATALYST_SMTP_USERNAME": "mailer"}, "CATALYST_SMTP_PASSWORD"),
        ({"CATALYST_SMTP_PASSWORD": "LEAK-CANARY-SMTP-PW"}, "CATALYST_SMTP_USERNAME"),
    ],
)
def test_load_settings_when_email_off_and_smtp_credentials_half_set_only_warns(
    tmp_path: Path, environ: dict[str, str], missing: str
) -> None:
    settings = load_settings(write_config(tmp_path), environ)

    assert len(settings.warnings) == 1
    assert settings.warnings[0].startswith(f"environment: {missing}: ")
    assert "email_enabled is false" in settings.warnings[0]
    assert "LEAK-CANARY" not in settings.warnings[0]


# --------------------------------------------------------------------------------------------
# Secrets never leak
# --------------------------------------------------------------------------------------------

SECRET_ENVIRON = {
    "APCA_API_KEY_ID": "PK-LEAK-CANARY-ID",
    "APCA_API_SECRET_KEY": "LEAK-CANARY-SECRET-KEY",
    "CATALYST_DATABASE_URL": "postgresql://catalyst:LEAK-CANARY-DB-PW@db.internal:5432/catalyst",
    "CATALYST_SMTP_USERNAME": "LEAK-CANARY-SMTP-USER",
    "CATALYST_SMTP_PASSWORD": "LEAK-CANARY-SMTP-PW",
}
CANARIES = [
    "PK-LEAK-CANARY-ID",
    "LEAK-CANARY-SECRET-KEY",
    "LEAK-CANARY-DB-PW",
    "LEAK-CANARY-SMTP-USER",
    "LEAK-CANARY-SMTP-PW",
]


@pytest.fixture
def secret_settings(tmp_path: Path) -> Settings:
    config_dir = write_config(tmp_path, trading="broker:\n  kind: alpaca\n")
    return load_settings(config_dir, SECRET_ENVIRON)


def test_secrets_are_read_from_environment(secret_settings: Settings) -> None:
    secrets = secret_settings.secrets
    assert secrets.alpaca_secret_key is not None
    assert secrets.alpaca_secret_key.get_secret_value() == "LEAK-CANARY-SECRET-KEY"
    assert secrets.smtp_password is not None
    assert secrets.smtp_password.get_secret_value() == "LEAK-CANARY-SMTP-PW"


@pytest.mark.parametrize("render", [repr, str], ids=["repr", "str"])
def test_secrets_never_appear_in_settings_text(
    secret_settings: Settings, render: Callable[[object], str]
) -> None:
    text = render(secret_settings)
    for canary in CANARIES:
        assert canary not in text


def test_secrets_never_appear_in_described_settings(secret_settings: Settings) -> None:
    described = describe_settings(secret_settings)
    text = json.dumps(described)  # also proves it is JSON-serialisable

    for canary in CANARIES:
        assert canary not in text
    assert described["secrets"] == dict.fromkeys(SECRET_ENVIRON, "set")
    effective = described["effective"]
    assert isinstance(effective, dict)
    assert effective["database_url"] == (
        "postgresql+asyncpg://catalyst:***@db.internal:5432/catalyst"
    )


def test_describe_settings_when_secrets_unset_says_unset(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path), {"APCA_API_KEY_ID": ""})

    described = describe_settings(settings)

    assert described["secrets"] == dict.fromkeys(SECRET_ENVIRON, "unset")
    assert described["live_trading_confirmed"] is False


def test_load_settings_when_env_database_url_invalid_does_not_echo_it(tmp_path: Path) -> None:
    environ = {"CATALYST_DATABASE_URL": "mysql://root:LEAK-CANARY-DB-PW@db/x"}

    error = load_error(write_config(tmp_path), environ)

    assert (error.file, error.key) == ("environment", "CATALYST_DATABASE_URL")
    assert "LEAK-CANARY-DB-PW" not in str(error)


# --------------------------------------------------------------------------------------------
# database_url and redact_url
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u@db:5432/catalyst", "postgresql+asyncpg://u@db:5432/catalyst"),
        ("postgres://u@db/catalyst", "postgresql+asyncpg://u@db/catalyst"),
        ("POSTGRESQL://db/catalyst", "postgresql+asyncpg://db/catalyst"),
        ("postgresql+asyncpg://db/catalyst", "postgresql+asyncpg://db/catalyst"),
        ("sqlite:////abs/catalyst.db", "sqlite+aiosqlite:////abs/catalyst.db"),
        ("sqlite+aiosqlite:////abs/x.db", "sqlite+aiosqlite:////abs/x.db"),
    ],
)
def test_database_url_normalises_to_async_drivers(tmp_path: Path, url: str, expected: str) -> None:
    from_file = load_settings(write_config(tmp_path, trading=f"database:\n  url: {url}\n"), {})
    from_env = load_settings(write_config(tmp_path), {"CATALYST_DATABASE_URL": url})

    assert database_url(from_file) == expected
    assert database_url(from_env) == expected


def test_database_url_prefers_environment_over_file(tmp_path: Path) -> None:
    config_dir = write_config(tmp_path, trading="database:\n  url: sqlite:///file.db\n")

    settings = load_settings(config_dir, {"CATALYST_DATABASE_URL": "postgres://u:p@db/x"})

    assert database_url(settings) == "postgresql+asyncpg://u:p@db/x"


def test_database_url_defaults_to_sqlite_in_the_state_dir_beside_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(write_config(tmp_path / "config"), {})

    expected = tmp_path / "config" / "var" / "catalyst.db"
    assert database_url(settings) == f"sqlite+aiosqlite:///{expected}"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///relative.db", "sqlite+aiosqlite:///{config}/relative.db"),
        ("sqlite:///db/x.db?timeout=5", "sqlite+aiosqlite:///{config}/db/x.db?timeout=5"),
        (
            "sqlite+aiosqlite:///file:x.db?uri=true",
            "sqlite+aiosqlite:///file:{config}/x.db?uri=true",
        ),
    ],
)
def test_database_url_anchors_a_relative_sqlite_path_at_the_config_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, expected: str
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config_dir = tmp_path / "config"
    from_file = load_settings(write_config(config_dir, trading=f"database:\n  url: {url}\n"), {})
    from_env = load_settings(write_config(config_dir), {"CATALYST_DATABASE_URL": url})

    assert database_url(from_file) == expected.format(config=config_dir)
    assert database_url(from_env) == expected.format(config=config_dir)


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("mysql://db/x", "unsupported database"),
        ("postgresql+psycopg2://db/x", "asyncpg"),
        ("sqlite+pysqlite:///x.db", "aiosqlite"),
        ("sqlite:///:memory:", "in-memory"),
        ("just-a-word", "database URL"),
    ],
)
def test_database_url_when_scheme_invalid_names_origin(
    tmp_path: Path, url: str, fragment: str
) -> None:
    file_error = load_error(write_config(tmp_path, trading=f"database:\n  url: '{url}'\n"))
    env_error = load_error(write_config(tmp_path), {"CATALYST_DATABASE_URL": url})

    assert (file_error.file, file_error.key) == (str(tmp_path / TRADING), "database.url")
    assert (env_error.file, env_error.key) == ("environment", "CATALYST_DATABASE_URL")
    assert fragment in str(file_error)
    assert fragment in str(env_error)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:pw@db:5432/x", "postgresql://u:***@db:5432/x"),
        ("postgresql://u@db/x", "postgresql://u@db/x"),
        ("postgresql://db/x", "postgresql://db/x"),
        ("postgresql://u:p@ss@db/x", "postgresql://u:***@db/x"),
        ("postgresql://u:pa/ss@db/x", "postgresql://u:***@db/x"),
        ("https://host/path?email=a@b.c", "https://host/path?email=a@b.c"),
        ("sqlite+aiosqlite:////var/catalyst.db", "sqlite+aiosqlite:////var/catalyst.db"),
        ("postgresql://db/x?password=pw", "postgresql://db/x?password=***"),
        (
            "postgresql://db/x?sslmode=require&sslpassword=pw&user=u",
            "postgresql://db/x?sslmode=require&sslpassword=***&user=u",
        ),
        ("postgresql://u:pw@db/x?password=pw2#frag", "postgresql://u:***@db/x?password=***#***"),
        ("host=db password=pw", "<unparseable url>"),
    ],
)
def test_redact_url_hides_only_the_password(url: str, expected: str) -> None:
    assert redact_url(url) == expected


@given(
    user=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_.-", min_size=1),
    password=st.text(min_size=1),
    host=st.from_regex(r"[a-z][a-z0-9.-]{0,20}(:[0-9]{1,5})?", fullmatch=True),
)
def test_redact_url_never_returns_the_password(user: str, password: str, host: str) -> None:
    redacted = redact_url(f"postgresql://{user}:{password}@{host}/catalyst")

    assert redacted == f"postgresql://{user}:***@{host}/catalyst"


@given(
    name=st.sampled_from(["password", "sslpassword", "PASSWORD", "auth_token", "secret"]),
    password=st.text(alphabet=st.characters(blacklist_characters="&;#"), min_size=4),
)
def test_redact_url_never_returns_a_password_from_the_query(name: str, password: str) -> None:
    redacted = redact_url(f"postgresql://db/catalyst?sslmode=require&{name}={password}")

    assert redacted == f"postgresql://db/catalyst?sslmode=require&{name}=***"


def test_config_check_output_never_shows_a_query_string_password(tmp_path: Path) -> None:
    url = "postgresql://catalyst@db/catalyst?sslpassword=LEAK-CANARY-QUERY-PW"
    settings = load_settings(write_config(tmp_path), {"CATALYST_DATABASE_URL": url})

    text = json.dumps(describe_settings(settings))

    assert "LEAK-CANARY-QUERY-PW" not in text
    assert "sslpassword=***" in text


# --------------------------------------------------------------------------------------------
# Relative paths
# --------------------------------------------------------------------------------------------


def test_load_settings_resolves_relative_paths_against_the_config_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    config_dir = write_config(
        tmp_path / "config", trading="paths:\n  state_dir: state\n  pause_file: flags/PAUSE\n"
    )

    paths = load_settings(config_dir, {}).trading.paths

    assert paths.state_dir == tmp_path / "config" / "state"
    assert paths.pause_file == tmp_path / "config" / "flags" / "PAUSE"


def test_load_settings_from_a_relative_config_dir_gives_the_same_paths_from_any_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(tmp_path / "etc" / "config", trading="paths:\n  state_dir: var\n")
    monkeypatch.chdir(tmp_path / "etc")
    from_parent = load_settings(Path("config"), {})
    monkeypatch.chdir(tmp_path / "etc" / "config")
    from_inside = load_settings(Path(), {})

    assert from_parent.trading.paths.state_dir == tmp_path / "etc" / "config" / "var"
    assert from_inside.trading.paths.state_dir == from_parent.trading.paths.state_dir
    assert from_parent.config_dir == tmp_path / "etc" / "config"


def test_load_settings_keeps_absolute_paths_and_defaults_pause_file_inside_state_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    state_dir = tmp_path / "elsewhere" / "state"
    config_dir = write_config(tmp_path / "config", trading=f"paths:\n  state_dir: {state_dir}\n")

    paths = load_settings(config_dir, {}).trading.paths

    assert paths.state_dir == state_dir
    assert paths.pause_file is None
    assert paths.resolved_pause_file == state_dir / "PAUSE"


def test_load_settings_resolves_paths_once_at_load_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(write_config(tmp_path / "config"), {})
    monkeypatch.chdir(tmp_path / "config")

    assert settings.trading.paths.state_dir == tmp_path / "config" / "var"
    assert settings.trading.paths.state_dir.is_absolute()
