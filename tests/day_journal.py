"""One simulated trading day, journaled once per test session, for the pages that show a day.

The status, report and dashboard tests look at a journal "with a simulated day in it", as an
operator would after a session. Running the day costs seconds, so it runs once (in a thread with
its own event loop, so the session-wide fixture does not share a loop with the tests); each test
gets its own copy of the SQLite file, so none can spoil it for another.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from support import make_settings

from catalyst.config.database_url import sqlite_url
from catalyst.daemon.entry import run_simulated_day
from catalyst.reporting.summary import DaySummary

DAY = date(2026, 11, 24)  # a Tuesday, a full session
MARKET = {"symbols": 800, "seed": 7}


@dataclass(frozen=True)
class JournaledDay:
    """The simulated day's SQLite journal (read it through a copy) and its summary."""

    day: date
    database: Path
    summary: DaySummary

    def copy_to(self, directory: Path) -> str:
        """A private copy of the journal in `directory`; returns its database URL."""
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / "journal.db"
        shutil.copyfile(self.database, target)
        return sqlite_url(target)


def journal_a_simulated_day(directory: Path) -> JournaledDay:
    """Run the daemon over `DAY` on the simulator into `directory`/journal.db."""
    settings = make_settings(directory / "state", simulation=MARKET)
    database = directory / "journal.db"
    result: list[DaySummary] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            result.append(
                asyncio.run(run_simulated_day(settings, day=DAY, database_url=sqlite_url(database)))
            )
        except BaseException as exc:  # re-raised in the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=run, name="simulated-day")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return JournaledDay(DAY, database, result[0])
