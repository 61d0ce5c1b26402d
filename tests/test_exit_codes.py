"""One table from error class to exit code, by what happens next."""

from __future__ import annotations

import pytest

from catalyst.domain.errors import (
    BrokerAccessDenied,
    BrokerError,
    CatalystError,
    ConfigError,
    DatabaseCorrupt,
    DatabaseNotMigratedError,
    DatabaseUnavailable,
    InvalidArgument,
    OperationalError,
    RetryableBrokerError,
    StorageUnusable,
)
from catalyst.exit_codes import ExitCode, exit_code_for
from catalyst.ops.failpoints import CRASH_EXIT_CODE


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ConfigError("trading_config.yaml", "database.url", "unsupported"), ExitCode.USAGE),
        (InvalidArgument("--date: 1999-01-04 is outside the calendar"), ExitCode.USAGE),
        (DatabaseNotMigratedError("run `catalyst db upgrade`"), ExitCode.DATABASE_NOT_MIGRATED),
        (DatabaseCorrupt("catalyst.db is not a database"), ExitCode.DATABASE_CORRUPT),
        (StorageUnusable("state directory /var/lib/catalyst: read-only"), ExitCode.ACCESS),
        (BrokerAccessDenied("HTTP 401 (check the Alpaca API key)"), ExitCode.ACCESS),
        (DatabaseUnavailable("database at postgresql://db is down"), ExitCode.UNAVAILABLE),
        (RetryableBrokerError("ConnectionError"), ExitCode.UNAVAILABLE),
        (OperationalError("reconciliation failed"), ExitCode.OPERATIONAL),
        (BrokerError("HTTP 403: forbidden"), ExitCode.OPERATIONAL),
        (CatalystError("trading is HALTED"), ExitCode.OPERATIONAL),
    ],
)
def test_each_error_class_exits_with_the_code_for_what_happens_next(
    error: CatalystError, code: ExitCode
) -> None:
    assert exit_code_for(error) == code


def test_a_restart_cannot_fix_usage_access_corruption_migration_or_a_second_daemon() -> None:
    assert {code for code in ExitCode if code.permanent} == {
        ExitCode.USAGE,
        ExitCode.DATABASE_NOT_MIGRATED,
        ExitCode.DATABASE_CORRUPT,
        ExitCode.ACCESS,
        ExitCode.ALREADY_RUNNING,
    }


def test_codes_are_distinct_and_the_crash_code_is_the_failpoints_one() -> None:
    assert len({int(code) for code in ExitCode}) == len(ExitCode)
    assert ExitCode.CRASH == CRASH_EXIT_CODE == 137
    assert ExitCode.USAGE == 2, "click's own usage errors exit 2 too"
