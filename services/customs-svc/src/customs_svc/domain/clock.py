"""Time as the service sees it: a clock it asks, so tests and simulations can move it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Tells the current instant (timezone-aware, UTC)."""

    def now(self) -> datetime:
        """The current instant."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        """The current instant, in UTC."""
        return datetime.now(UTC)
