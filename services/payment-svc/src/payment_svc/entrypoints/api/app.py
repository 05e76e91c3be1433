"""payment-svc's HTTP surface and consumers: what the app factory serves."""

from payment_svc.adapters.tables import inbox, outbox
from payment_svc.config import SERVICE_NAME
from payment_svc.domain.errors import (
    CurrencyMismatch,
    FeesExceedAmount,
    InvalidAmount,
    InvalidTransition,
    PaymentNotCaptured,
    PaymentNotFound,
    RateConflict,
    RefundExceedsRefundable,
    UnknownAccount,
)
from payment_svc.entrypoints.api import routes_finance, routes_inputs, routes_payments
from payment_svc.entrypoints.consumers import payment_consumer
from payment_svc.service_layer.context import Services
from payment_svc.service_layer.views import InvalidCursor
from payment_svc.service_layer.webhooks import InvalidNotice
from xborder_platform.app import ExtraLifespan, ServiceSpec
from xborder_platform.http.problems import ProblemType

#: How the domain's refusals are answered.
PROBLEMS: dict[type[Exception], ProblemType] = {
    PaymentNotFound: ProblemType(404, "payment-not-found", "Payment not found"),
    InvalidTransition: ProblemType(409, "invalid-payment-state", "Not allowed in this state"),
    PaymentNotCaptured: ProblemType(409, "payment-not-captured", "Nothing was captured"),
    RefundExceedsRefundable: ProblemType(
        409, "refund-exceeds-captured", "The refund exceeds what was captured and not refunded"
    ),
    InvalidAmount: ProblemType(422, "invalid-amount", "Invalid amount"),
    CurrencyMismatch: ProblemType(422, "currency-mismatch", "Wrong currency"),
    FeesExceedAmount: ProblemType(422, "fees-exceed-amount", "Fees exceed the amount"),
    UnknownAccount: ProblemType(404, "unknown-account", "No such ledger account"),
    RateConflict: ProblemType(409, "fx-rate-conflict", "The rate is already published"),
    InvalidCursor: ProblemType(400, "invalid-cursor", "Invalid pagination cursor"),
    InvalidNotice: ProblemType(422, "invalid-webhook-body", "Unreadable webhook body"),
}


def service_spec(svc: Services, *, lifespan: ExtraLifespan | None = None) -> ServiceSpec:
    """payment-svc as the platform runs it."""
    return ServiceSpec(
        name=SERVICE_NAME,
        title="xborder Payments",
        description=(
            "Payments in the buyer's currency, settlement in the merchant's, refunds, and a "
            "double-entry ledger. Authenticate with an API key (`Authorization: Bearer <key>` "
            "or `X-API-Key`); provider webhooks are HMAC-signed instead. Card data is never "
            "accepted: a body carrying a card number or security code gets 422. Errors are "
            "RFC 9457 problem documents."
        ),
        routers=[routes_payments.router, routes_inputs.router, routes_finance.router],
        problems=PROBLEMS,
        outbox=outbox,
        inbox=inbox,
        consumers=[payment_consumer(svc)],
        lifespan=lifespan,
    )
