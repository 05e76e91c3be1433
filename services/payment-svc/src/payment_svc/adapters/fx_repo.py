"""Exchange rates: the seed file's (in memory) and the operators' (in PostgreSQL)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from payment_svc.adapters.tables import fx_rates
from payment_svc.domain.errors import RateConflict
from payment_svc.domain.fx import Rate

_T = fx_rates


def _rate(row: Any) -> Rate:
    return Rate(
        base=row.base,
        quote=row.quote,
        rate=Decimal(row.rate).normalize(),
        as_of=row.as_of,
        source=row.source,
    )


def _key(rate: Rate) -> tuple[str, str, str, datetime]:
    return (rate.base, rate.quote, rate.source, rate.as_of)


class FxRepository:
    """Looks rates up for a conversion and stores operators' rates (never updated)."""

    def __init__(self, conn: AsyncConnection, *, seed: Sequence[Rate] = ()) -> None:
        self._conn = conn
        self._seed = seed

    async def rates_between(self, currencies: Collection[str], *, at: datetime) -> list[Rate]:
        """The latest rate at or before `at` of every pair among `currencies`, seed included."""
        wanted = set(currencies)
        query = (
            select(_T)
            .where(_T.c.base.in_(wanted), _T.c.quote.in_(wanted), _T.c.as_of <= at)
            .order_by(_T.c.base, _T.c.quote, _T.c.as_of.desc(), _T.c.id.desc())
            .ext(distinct_on(_T.c.base, _T.c.quote))
        )
        stored = [_rate(row) for row in await self._conn.execute(query)]
        seeded = [r for r in self._seed if r.base in wanted and r.quote in wanted]
        return [*seeded, *stored]

    async def latest(self, *, at: datetime, base: str | None, quote: str | None) -> list[Rate]:
        """The latest rate at or before `at` of each pair (optionally of one base or quote)."""
        query = select(_T).where(_T.c.as_of <= at)
        if base:
            query = query.where(_T.c.base == base)
        if quote:
            query = query.where(_T.c.quote == quote)
        query = query.order_by(_T.c.base, _T.c.quote, _T.c.as_of.desc(), _T.c.id.desc()).ext(
            distinct_on(_T.c.base, _T.c.quote)
        )
        found: dict[tuple[str, str], Rate] = {}
        for rate in [*self._seed, *(_rate(r) for r in await self._conn.execute(query))]:
            if rate.as_of > at or (base and rate.base != base) or (quote and rate.quote != quote):
                continue
            pair = (rate.base, rate.quote)
            if pair not in found or rate.as_of >= found[pair].as_of:
                found[pair] = rate
        return sorted(found.values(), key=lambda r: (r.base, r.quote))

    async def add(self, rates: Sequence[Rate]) -> tuple[int, int]:
        """Store new rates; returns (added, already known). A known key with another value is
        refused (`RateConflict`): a published rate is never changed."""
        seeded = {_key(r): r.rate for r in self._seed}
        keys = [_key(r) for r in rates]
        existing = {
            (row.base, row.quote, row.source, row.as_of): Decimal(row.rate)
            for row in await self._conn.execute(
                select(_T).where(tuple_(_T.c.base, _T.c.quote, _T.c.source, _T.c.as_of).in_(keys))
            )
        }
        known = {**seeded, **existing}
        added = 0
        for rate, key in zip(rates, keys, strict=True):
            if key in known:
                if known[key] != rate.rate:
                    raise RateConflict(
                        f"{rate.base}/{rate.quote} from {rate.source} at {rate.as_of.isoformat()} "
                        f"is already {known[key].normalize()}; a published rate is never changed"
                    )
                continue
            inserted = await self._conn.scalar(
                insert(_T)
                .values(
                    base=rate.base,
                    quote=rate.quote,
                    rate=rate.rate,
                    as_of=rate.as_of,
                    source=rate.source,
                )
                .on_conflict_do_nothing()
                .returning(_T.c.id)
            )
            if inserted is None:
                raise RateConflict(f"{rate.base}/{rate.quote} was added concurrently; retry")
            known[key] = rate.rate
            added += 1
        return added, len(rates) - added
