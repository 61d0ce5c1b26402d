"""The exit codes of the `catalyst` command, and the one table mapping error classes onto them.

Codes are grouped by what happens next. `permanent` ones are those a restart cannot fix: the
systemd unit lists exactly these in RestartPreventExitStatus= (a test holds the two together), so
systemd stops restarting and a person looks. The README's table documents every code.
"""

from __future__ import annotations

from enum import IntEnum

from catalyst.domain.errors import (
    BrokerAccessDenied,
    CatalystError,
    ConfigError,
    DatabaseCorrupt,
    DatabaseNotMigratedError,
    DatabaseUnavailable,
    InstanceLocked,
    InvalidArgument,
    JournalUnavailable,
    RetryableBrokerError,
    StorageUnusable,
)
from catalyst.ops.failpoints import CRASH_EXIT_CODE

__all__ = ["ExitCode", "exit_code_for"]


class ExitCode(IntEnum):
    """Every code `catalyst` exits with on purpose."""

    OK = 0
    INTERNAL = 1  # an unexpected error: a bug, please report it (also click's Abort)
    USAGE = 2  # the command line or the configuration is wrong (click's own usage code too)
    OPERATIONAL = 3  # needs a person: halted, reconciliation failed, the broker refused
    DATABASE_NOT_MIGRATED = 4  # missing database or schema: run `catalyst db upgrade`
    DATABASE_CORRUPT = 5  # the SQLite file is damaged or not a database: restore it
    ACCESS = 6  # permission, read-only, a file in the way, a refused login or API key
    UNAVAILABLE = 7  # the database or the broker does not answer: try again later
    STOP_OVERRUN = 8  # a stop took longer than its bound (10 s) and was cut short: a bug
    # 9 is free.
    ALREADY_RUNNING = 10  # another daemon holds the state dir or the account (the lock's code)
    NO_DAEMON = 11  # `catalyst flatten` left its request, but no live daemon is there to act
    CRASH = CRASH_EXIT_CODE  # tests only: a failpoint killed the process (128 + SIGKILL)

    @property
    def permanent(self) -> bool:
        """True when restarting the daemon cannot help (the unit's RestartPreventExitStatus)."""
        return self in _PERMANENT


_PERMANENT = frozenset(
    {
        ExitCode.USAGE,
        ExitCode.DATABASE_NOT_MIGRATED,
        ExitCode.DATABASE_CORRUPT,
        ExitCode.ACCESS,
        ExitCode.ALREADY_RUNNING,
    }
)

# Most specific first: the first class an error is an instance of decides its code.
_BY_CLASS: tuple[tuple[type[CatalystError] | tuple[type[CatalystError], ...], ExitCode], ...] = (
    ((ConfigError, InvalidArgument), ExitCode.USAGE),
    (InstanceLocked, ExitCode.ALREADY_RUNNING),
    (DatabaseNotMigratedError, ExitCode.DATABASE_NOT_MIGRATED),
    (DatabaseCorrupt, ExitCode.DATABASE_CORRUPT),
    ((StorageUnusable, BrokerAccessDenied), ExitCode.ACCESS),
    ((DatabaseUnavailable, JournalUnavailable, RetryableBrokerError), ExitCode.UNAVAILABLE),
    (CatalystError, ExitCode.OPERATIONAL),
)


def exit_code_for(error: CatalystError) -> ExitCode:
    """The exit code for an error Catalyst raised on purpose."""
    for classes, code in _BY_CLASS:
        if isinstance(error, classes):
            return code
    return ExitCode.OPERATIONAL  # pragma: no cover - CatalystError is the last row
