"""Authority decision webhooks: verified, parsed, then applied like any decision."""

from __future__ import annotations

from typing import Any, Literal, Self, get_args
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from customs_svc.domain.declaration import Decision
from customs_svc.domain.signing import verify
from customs_svc.service_layer.context import CustomsContext
from customs_svc.service_layer.decisions import Receipt, apply_decision
from customs_svc.service_layer.errors import InvalidDecision, InvalidSignature, UnknownAuthority
from xborder_events.customs import (
    DocumentType,
    ParcelConfiscated,
    ParcelHeldAtCustoms,
    ParcelReturnOrdered,
)
from xborder_platform.uow import UnitOfWorkFactory


def _reasons(model: type[BaseModel]) -> tuple[str, ...]:
    return tuple(get_args(model.model_fields["reason"].annotation))


_REASONS: dict[str, tuple[str, ...]] = {
    "hold": _reasons(ParcelHeldAtCustoms),
    "return": _reasons(ParcelReturnOrdered),
    "confiscate": _reasons(ParcelConfiscated),
    "clear": (),
}


class DecisionIn(BaseModel):
    """A decision as an authority posts it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    decision_id: str = Field(min_length=1, max_length=128, description="Unique per authority.")
    declaration_id: UUID
    outcome: Literal["clear", "hold", "return", "confiscate"]
    decided_at: AwareDatetime
    reference: str | None = Field(default=None, min_length=1, max_length=128)
    reason: str | None = Field(
        default=None, description="hold: a ParcelHeldAtCustoms reason; return, confiscate: "
        "the reason of ParcelReturnOrdered, ParcelConfiscated.",
    )  # fmt: skip
    detail: str | None = Field(default=None, min_length=1, max_length=2000)
    required_documents: list[DocumentType] = Field(default_factory=list)
    respond_by: AwareDatetime | None = None

    @model_validator(mode="after")
    def _reason_fits(self) -> Self:
        allowed = _REASONS[self.outcome]
        if self.reason is not None and self.reason not in allowed:
            raise ValueError(f"reason of a {self.outcome} decision must be one of {allowed}")
        if self.outcome == "clear" and (self.reason or self.required_documents):
            raise ValueError("a clear decision has no reason and asks for no documents")
        return self

    def to_domain(self) -> Decision:
        """The domain value."""
        return Decision(
            decision_id=self.decision_id, declaration_id=self.declaration_id,
            outcome=self.outcome, decided_at=self.decided_at, reason=self.reason,
            detail=self.detail, reference=self.reference,
            required_documents=tuple(self.required_documents), respond_by=self.respond_by,
        )  # fmt: skip


def parse_decision(body: bytes) -> DecisionIn:
    """The decision in a webhook body; 422 listing what is wrong."""
    try:
        return DecisionIn.model_validate_json(body)
    except ValidationError as exc:
        errors: list[dict[str, Any]] = [
            {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()
        ]
        raise InvalidDecision("the decision is not valid", errors=errors) from None


async def receive_decision(
    ctx: CustomsContext,
    uow_factory: UnitOfWorkFactory,
    *,
    authority: str,
    body: bytes,
    signature: str | None,
    wall_clock_s: int,
    correlation_id: str | None = None,
    traceparent: str | None = None,
) -> Receipt:
    """Verify a decision webhook and apply it once; a repeated decision id changes nothing."""
    if authority not in ctx.data.authorities:
        raise UnknownAuthority(f"no authority {authority!r}")
    if not verify(ctx.webhook_secrets(authority), body, signature, now=wall_clock_s,
                  tolerance_s=ctx.policy.webhook_tolerance_s):  # fmt: skip
        raise InvalidSignature("the X-Authority-Signature header does not sign this body")
    decision = parse_decision(body).to_domain()
    async with uow_factory(correlation_id=correlation_id, traceparent=traceparent) as uow:
        receipt = await apply_decision(ctx, uow.conn, uow.emit, authority=authority,
                                       decision=decision)  # fmt: skip
        await uow.commit()
    return receipt
