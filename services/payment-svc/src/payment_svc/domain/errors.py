"""The domain's refusals; the HTTP API maps each to a problem document (see entrypoints)."""

from __future__ import annotations

from decimal import Decimal


class PaymentError(Exception):
    """Base of the payment domain's refusals."""


class PaymentNotFound(PaymentError):
    """No such payment (or not the caller's to see)."""


class InvalidTransition(PaymentError):
    """The payment's status does not allow this step."""


class PaymentNotCaptured(PaymentError):
    """Nothing was captured, so nothing can be refunded."""


class RefundExceedsRefundable(PaymentError):
    """A refund larger than what was captured and not refunded yet."""

    def __init__(self, requested: Decimal, refundable: Decimal, currency: str) -> None:
        super().__init__(
            f"a refund of {requested} {currency} exceeds the {refundable} {currency} captured "
            "and not yet refunded"
        )
        self.refundable = refundable


class InvalidAmount(PaymentError):
    """An amount that is not positive or does not fit its currency."""


class CurrencyMismatch(PaymentError):
    """An amount in another currency than the payment's."""


class FeesExceedAmount(PaymentError):
    """Fees and prepaid duties would leave the merchant less than nothing."""


class UnknownAccount(PaymentError):
    """No ledger account has this code."""


class RateConflict(PaymentError):
    """A rate for this pair, source and instant exists already with another value."""
