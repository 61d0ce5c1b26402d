"""The day-by-day source of synthetic markets the exchange simulator trades against."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from catalyst.domain.models import TradingSession
from catalyst.sim.exchange_time import exchange_date, require_aware
from catalyst.sim.market import SyntheticMarket
from catalyst.sim.universe import Universe, build_universe


class SessionSource(Protocol):
    """The part of an exchange calendar the simulator needs (`ExchangeCalendar` fits)."""

    def session(self, day: date) -> TradingSession | None:
        """The session on `day`, or None when the exchange is closed all day."""
        ...

    def next_session(self, after: date) -> TradingSession:
        """The first session strictly after `after`."""
        ...

    def previous_session(self, before: date) -> TradingSession:
        """The last session strictly before `before`."""
        ...


class SyntheticMarketFeed:
    """Builds and caches one `SyntheticMarket` per session, rolling each day into the next.

    The first session asked for is built fresh (history ending at the universe's base prices, on
    the calendar's previous sessions); each later session is rolled from the one before it, so
    previous closes, daily history and positions' prices stay continuous. The two most recent
    markets are kept (yesterday's minute bars and news stay readable).
    """

    def __init__(
        self,
        *,
        seed: int,
        n_symbols: int,
        sessions: SessionSource,
        history_days: int = 30,
        catalyst_fraction: float = 0.03,
    ) -> None:
        self.seed = seed
        self.sessions = sessions
        self.history_days = history_days
        self.catalyst_fraction = catalyst_fraction
        self.universe: Universe = build_universe(seed, n_symbols)
        self._markets: dict[date, SyntheticMarket] = {}
        self._shocks: list[tuple[datetime, float]] = []

    def session_at(self, at: datetime) -> TradingSession:
        """The session whose market governs the instant `at`.

        That is the session on `at`'s exchange date if there is one (pre-market included), else
        the latest session before it (after the close, overnight, weekends, holidays).
        """
        require_aware(at)
        day = exchange_date(at)
        session = self.sessions.session(day)
        return session if session is not None else self.sessions.previous_session(day)

    def market_for(self, session: TradingSession) -> SyntheticMarket:
        """The market of `session`, built on first use."""
        cached = self._markets.get(session.day)
        if cached is not None:
            return cached
        previous = self._markets.get(self.sessions.previous_session(session.day).day)
        shocks = [(at, pct) for at, pct in self._shocks if self._belongs(at, session)]
        if previous is not None:
            market = previous.next_day(session, shocks)
        else:
            dates = self._history_dates(session.day)
            market = SyntheticMarket(
                self.seed,
                self.universe.size,
                session,
                history_days=self.history_days,
                catalyst_fraction=self.catalyst_fraction,
                history_dates=dates,
                shocks=shocks,
                universe=self.universe,
            )
        self._markets[session.day] = market
        for day in sorted(self._markets)[:-2]:
            del self._markets[day]
        return market

    def recent_markets(self) -> list[SyntheticMarket]:
        """The cached markets, oldest first (at most two)."""
        return [self._markets[day] for day in sorted(self._markets)]

    def shock(self, at: datetime, pct: float) -> None:
        """Move every price by `pct` from the minute containing `at` (see SyntheticMarket.shock).

        Recorded for the session containing `at`; applied at once if that market exists already.
        """
        session = self.session_at(at)
        if not self._belongs(at, session):
            raise ValueError(f"{at} is after the close of {session.day}: no minute to shock")
        self._shocks.append((at, pct))
        market = self._markets.get(session.day)
        if market is not None:
            market.shock(at, pct)

    def _belongs(self, at: datetime, session: TradingSession) -> bool:
        return exchange_date(at) == session.day and at < session.close

    def _history_dates(self, day: date) -> tuple[date, ...]:
        dates: list[date] = []
        current = day
        for _ in range(self.history_days):
            current = self.sessions.previous_session(current).day
            dates.append(current)
        return tuple(reversed(dates))
