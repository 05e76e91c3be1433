"""What a payment provider answers, whatever the method: the adapters return these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from payment_svc.domain.payment import ActionKind, FailureReason


@dataclass(frozen=True, slots=True, kw_only=True)
class Approved:
    """Authorized (cards) or approved by the buyer (wallets)."""

    reference: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Declined:
    """Refused; `code` is the provider's own."""

    reason: FailureReason
    code: str
    detail: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionRequired:
    """The buyer must act (approve a redirect, pass a step-up) or wire the money."""

    action: ActionKind
    reference: str
    expires_at: datetime
    approval_url: str | None = None
    payment_reference: str | None = None


AuthorizeOutcome = Approved | Declined | ActionRequired


@dataclass(frozen=True, slots=True, kw_only=True)
class Captured:
    """The authorized amount was captured."""

    reference: str


CaptureOutcome = Captured | Declined


@dataclass(frozen=True, slots=True, kw_only=True)
class RefundAccepted:
    """The provider is paying the refund back."""

    reference: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RefundRejected:
    """The provider refused the refund."""

    code: str
    detail: str | None = None


RefundOutcome = RefundAccepted | RefundRejected


#: The kinds of provider notifications (webhooks) payment-svc understands.
NOTICE_TYPES = frozenset(
    {
        "payment.approved",
        "payment.declined",
        "payment.cancelled",
        "authentication.succeeded",
        "authentication.failed",
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    """A verified provider notification about one of its references."""

    delivery_id: str
    type: str
    reference: str
    occurred_at: datetime

    def outcome(self) -> AuthorizeOutcome:
        """What the notice says about the authorization it concerns."""
        match self.type:
            case "payment.approved" | "authentication.succeeded":
                return Approved(reference=self.reference)
            case "authentication.failed":
                return Declined(
                    reason="authentication_failed",
                    code="authentication_failed",
                    detail="the buyer failed the step-up authentication",
                )
            case "payment.cancelled":
                return Declined(
                    reason="declined",
                    code="buyer_cancelled",
                    detail="the buyer cancelled at the provider",
                )
            case _:
                return Declined(
                    reason="declined", code="provider_declined", detail="the provider declined"
                )
