"""Catalyst's error classes, ranked by what the daemon does next.

- `ConfigError`: stop start-up, print one clear line naming file and key, exit non-zero
  (`ConfigProblems`: every problem found, one line each under a count).
- `InvalidArgument`: a command-line value the command cannot act on; fix the command line.
- `StorageError`s, about the database and the state directory: `DatabaseUnavailable` is
  temporary (start-up waits for it with backoff); `DatabaseNotMigratedError`, `DatabaseCorrupt`
  and `StorageUnusable` need a person (upgrade, restore, fix permissions).
- `RetryableBrokerError`: temporary; retry with backoff (reads only: orders are never re-POSTed).
- `UnknownOrderOutcome`: the order may or may not exist; resolve by client_order_id lookup.
- `OrderRejected` (and `InsufficientBuyingPower`): log, record, skip the symbol for this cycle.
- `OperationalError`: something a person must look at; halt entries and alert.
- `JournalUnavailable`: the database cannot be reached for now; no new entries (an intent that
  cannot be journaled is not sent), the risk-watch keeps protecting the book from the broker
  alone, and the journal writes that can wait are deferred and made when it is back.
- `InstanceLocked`: another daemon owns the state dir or the account; exit at once, start nothing.
"""

from __future__ import annotations

from collections.abc import Sequence


class CatalystError(Exception):
    """Base of every error Catalyst raises on purpose."""


class ConfigError(CatalystError):
    """The configuration is unusable. The message names the file and the key."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        self.file = file
        self.key = key
        self.problem = problem
        super().__init__(f"{file}: {key}: {problem}")


class ConfigProblems(ConfigError):
    """Several configuration problems found in one pass: `problems` lists every one.

    Its message is a first line naming the file(s) and the number of problems, then one
    "file: key: problem" line per problem. `file`, `key` and `problem` are the first one's.
    """

    def __init__(self, problems: Sequence[ConfigError]) -> None:
        if len(problems) < 2:
            raise ValueError("ConfigProblems needs at least two problems; raise the one itself")
        first = problems[0]
        super().__init__(first.file, first.key, first.problem)
        self.problems = tuple(problems)
        files = list(dict.fromkeys(problem.file for problem in problems))
        header = (
            f"{files[0]}: {len(problems)} problems"
            if len(files) == 1
            else f"{len(problems)} problems in {' and '.join(files)}"
        )
        self.args = ("\n".join([header, *(str(problem) for problem in problems)]),)


class InvalidArgument(CatalystError):
    """A command-line value the command cannot act on (a day outside the calendar, no reason)."""


class StorageError(CatalystError):
    """The database or the state directory cannot be used. The message names which and why."""


class DatabaseUnavailable(StorageError):
    """Temporary: the database server cannot be reached or is not accepting connections yet."""


class DatabaseNotMigratedError(StorageError):
    """The database (or its schema) is missing or older than this release expects."""


class DatabaseCorrupt(StorageError):
    """The database file is damaged or is not a database at all: restore it from a backup."""


class StorageUnusable(StorageError):
    """A person must fix it, restarting cannot: permission denied, a read-only filesystem, a full
    or failing disk, a file where a directory should be, or the database refused the login."""


class BrokerError(CatalystError):
    """Any failure talking to the broker."""


class RetryableBrokerError(BrokerError):
    """Temporary: rate limited, 5xx or a transport failure on a read. Retry with backoff."""


class UnknownOrderOutcome(BrokerError):
    """A submit timed out or failed in transit: the order may exist. Look it up, never re-POST."""

    def __init__(self, client_order_id: str, detail: str) -> None:
        self.client_order_id = client_order_id
        super().__init__(f"outcome of order {client_order_id} unknown: {detail}")


class OrderRejected(BrokerError):
    """The broker refused the order. Record the reason and skip the symbol for this cycle."""

    def __init__(self, client_order_id: str, reason: str) -> None:
        self.client_order_id = client_order_id
        self.reason = reason
        super().__init__(f"order {client_order_id} rejected: {reason}")


class InsufficientBuyingPower(OrderRejected):
    """The broker refused the order for lack of buying power."""


class DuplicateClientOrderId(BrokerError):
    """The broker already has an order with this client_order_id: fetch and adopt it."""

    def __init__(self, client_order_id: str) -> None:
        self.client_order_id = client_order_id
        super().__init__(f"client_order_id {client_order_id} already exists at the broker")


class NotFound(BrokerError):
    """The broker has no such order or position."""


class OperationalError(CatalystError):
    """Needs a person: reconciliation failed, the broker refuses to close, and so on."""


class JournalUnavailable(OperationalError):
    """Temporary: the journal database cannot be reached (refused, dropped, shutting down, locked).

    Raised by the store instead of the driver's error (see `catalyst.store.failures`). A
    subclass of `OperationalError`, so code that cannot wait (the CLI, start-up) still stops on it.
    """


class InstanceLocked(CatalystError):
    """Another Catalyst daemon holds the state dir or the broker account: this one must not run.

    The message names the holder (pid, host, since when). Nothing was started; exit at once.
    """


class InstanceLockLost(InstanceLocked):
    """The account lock was lost (database restart) and another daemon took it meanwhile:
    entries have stopped and the daemon exits so that only one trades the account."""


class BrokerAccessDenied(OperationalError):
    """The broker refused the credentials (HTTP 401): fix the API key; a restart cannot."""
