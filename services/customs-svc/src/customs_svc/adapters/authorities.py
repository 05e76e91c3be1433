"""Authority adapters: the sandbox authority and external (webhook-driven) authorities.

Both file declarations the same way and hear decisions through the same service path. The
sandbox schedules its decisions in the database (`declarations.decision_due_at`,
`holds.review_due_at`), so a restart resumes them; the service's timer applies them when due.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from customs_svc.adapters.repository import update_declaration, update_hold
from customs_svc.adapters.rules_data import CustomsData
from customs_svc.domain.declaration import Decision
from customs_svc.domain.sandbox import SandboxRates, draw, first_verdict, review_verdict

_SMALLEST = timedelta(milliseconds=1)


class ExternalAuthority:
    """A real authority: the filing is recorded and its decisions arrive over the webhook.

    Transmitting the declaration to a live customs system is the integration's part; the
    service waits for the decision webhook. Hold deadlines are in real days.
    """

    kind = "external"

    async def filed(
        self, conn: AsyncConnection, *, declaration_id: UUID, country: str, at: datetime
    ) -> None:
        """Nothing to schedule: the authority answers over the webhook."""

    async def documents_submitted(
        self, conn: AsyncConnection, *, hold_id: UUID, country: str, at: datetime
    ) -> None:
        """Nothing to schedule: the authority answers over the webhook."""

    def respond_by(self, *, country: str, held_at: datetime, days: Decimal) -> datetime:
        """`days` real days after the hold."""
        return held_at + timedelta(days=float(days))


class SandboxAuthority:
    """Simulated customs per checkpoint country, deterministic under a seed, time compressed."""

    kind = "sandbox"

    def __init__(
        self,
        data: CustomsData,
        *,
        seed: int,
        seconds_per_day: float,
        overrides: Mapping[str, Mapping[str, Decimal]] | None = None,
    ) -> None:
        self._data = data
        self._seed = seed
        self._seconds_per_day = Decimal(str(seconds_per_day))
        self._overrides = overrides or {}

    def rates(self, country: str) -> SandboxRates:
        """The data file's rates for the country, with the settings' overrides applied."""
        rates = self._data.sandbox_rates(country)
        for key in ("*", country):
            fields = {k: v for k, v in self._overrides.get(key, {}).items() if k != "respond_days"}
            rates = replace(rates, **fields)
        return rates

    def _respond_days(self, country: str, days: Decimal) -> Decimal:
        for key in (country, "*"):
            if (value := self._overrides.get(key, {}).get("respond_days")) is not None:
                return value
        return days

    def delay(self, days: Decimal) -> timedelta:
        """Real time of `days` simulated days."""
        return timedelta(seconds=float(days * self._seconds_per_day))

    async def filed(
        self, conn: AsyncConnection, *, declaration_id: UUID, country: str, at: datetime
    ) -> None:
        """Schedule the decision `decision_days` (simulated) after filing."""
        due = at + self.delay(self.rates(country).decision_days)
        await update_declaration(conn, declaration_id, decision_due_at=due)

    async def documents_submitted(
        self, conn: AsyncConnection, *, hold_id: UUID, country: str, at: datetime
    ) -> None:
        """Schedule the review `review_days` (simulated) after submission."""
        due = at + self.delay(self.rates(country).review_days)
        await update_hold(conn, hold_id, review_due_at=due)

    def respond_by(self, *, country: str, held_at: datetime, days: Decimal) -> datetime:
        """`days` simulated days after the hold (never the same instant)."""
        return held_at + max(self.delay(self._respond_days(country, days)), _SMALLEST)

    def first_decision(
        self,
        *,
        declaration_id: UUID,
        order_id: UUID,
        checkpoint: str,
        country: str,
        prohibited: str | None,
        restricted_documents: tuple[str, ...],
        hold_documents: tuple[str, ...],
        respond_days: Decimal,
        now: datetime,
    ) -> Decision:
        """The decision on a filed declaration (the draw keys on order and checkpoint)."""
        u = draw(self._seed, str(order_id), checkpoint, "first")
        verdict = first_verdict(
            self.rates(country), u, prohibited=prohibited,
            restricted_documents=restricted_documents, hold_documents=hold_documents,
        )  # fmt: skip
        held = verdict.outcome == "hold"
        return Decision(
            decision_id=f"sandbox:{declaration_id}:first",
            declaration_id=declaration_id,
            outcome=verdict.outcome,
            decided_at=now,
            reason=verdict.reason,
            detail=verdict.detail,
            reference=f"SBX-{str(declaration_id)[:8].upper()}",
            required_documents=verdict.documents,
            respond_by=self.respond_by(country=country, held_at=now, days=respond_days)
            if held
            else None,
        )

    def review_decision(
        self,
        *,
        hold_id: UUID,
        declaration_id: UUID,
        order_id: UUID,
        checkpoint: str,
        country: str,
        now: datetime,
    ) -> Decision:
        """The decision after reviewing a hold's documents."""
        u = draw(self._seed, str(order_id), checkpoint, "review")
        verdict = review_verdict(self.rates(country), u)
        return Decision(
            decision_id=f"sandbox:{hold_id}:review",
            declaration_id=declaration_id,
            outcome=verdict.outcome,
            decided_at=now,
            reason=verdict.reason,
            detail=verdict.detail,
        )
