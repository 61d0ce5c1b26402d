"""The mirror of the broker's positions."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import delete, select, update

from catalyst.domain.models import (
    Position,
)
from catalyst.store.records import OrderSource, PositionDiff, PositionRecord
from catalyst.store.repository._base import StoreBase, _insert, _position_record, _require_aware
from catalyst.store.tables import (
    positions,
)


class PositionStore(StoreBase):
    """The mirror of the broker's positions."""

    # ----------------------------------------------------------------- positions

    async def sync_positions(
        self,
        current: Sequence[Position],
        at: datetime,
        *,
        catalyst_symbols: Collection[str] = (),
    ) -> PositionDiff:
        """Make the mirror equal the broker's `current` positions and report the difference.

        New positions are marked source 'catalyst' when their symbol is in `catalyst_symbols`,
        else 'external'; a symbol named there later is re-marked 'catalyst'. `changed` lists
        positions whose qty or average entry price moved; a new mark price alone is stored quietly.
        """
        _require_aware("at", at)
        by_symbol = {position.symbol: position for position in current}
        if len(by_symbol) != len(current):
            raise ValueError("broker positions list a symbol twice")
        ours = set(catalyst_symbols)
        async with self._transaction("sync_positions") as session:
            existing = {
                row.symbol: row
                for row in await session.execute(select(positions).with_for_update())
            }
            removed = sorted(set(existing) - set(by_symbol))
            if removed:
                await session.execute(delete(positions).where(positions.c.symbol.in_(removed)))
            added: list[str] = []
            changed: list[str] = []
            for symbol in sorted(by_symbol):
                position = by_symbol[symbol]
                old = existing.get(symbol)
                if old is None:
                    added.append(symbol)
                    source = OrderSource.CATALYST if symbol in ours else OrderSource.EXTERNAL
                    stmt = _insert(session, positions).values(
                        symbol=symbol,
                        qty=position.qty,
                        avg_entry_price=position.avg_entry_price,
                        current_price=position.current_price,
                        opened_at=at,
                        updated_at=at,
                        source=source.value,
                    )
                    # A concurrent sync may have added it a moment ago: same facts, keep one row.
                    await session.execute(
                        stmt.on_conflict_do_update(
                            index_elements=[positions.c.symbol],
                            set_={
                                "qty": stmt.excluded.qty,
                                "avg_entry_price": stmt.excluded.avg_entry_price,
                                "current_price": stmt.excluded.current_price,
                                "updated_at": stmt.excluded.updated_at,
                            },
                        )
                    )
                    continue
                if old.qty != position.qty or old.avg_entry_price != position.avg_entry_price:
                    changed.append(symbol)
                source = OrderSource.CATALYST if symbol in ours else OrderSource(old.source)
                await session.execute(
                    update(positions)
                    .where(positions.c.symbol == symbol)
                    .values(
                        qty=position.qty,
                        avg_entry_price=position.avg_entry_price,
                        current_price=position.current_price,
                        updated_at=at,
                        source=source.value,
                    )
                )
            return PositionDiff(added=tuple(added), removed=tuple(removed), changed=tuple(changed))

    async def list_positions(self) -> list[PositionRecord]:
        """The mirrored positions, by symbol."""
        async with self._transaction("list_positions") as session:
            result = await session.execute(select(positions).order_by(positions.c.symbol))
            return [_position_record(row) for row in result]
