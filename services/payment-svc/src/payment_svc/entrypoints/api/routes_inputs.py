"""What providers and banks send: signed webhooks and bank statements."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Request
from fastapi.responses import JSONResponse, Response

from payment_svc.domain import signing
from payment_svc.entrypoints.api.card_guard import refuse_card_data
from payment_svc.entrypoints.api.deps import IdemKey, IdemStore, OperatorKey, Svc, Uow
from payment_svc.entrypoints.api.schemas import LineOut, StatementIn, StatementOut, WebhookOut
from payment_svc.service_layer.bank import LineResult, StatementLine, import_statement
from payment_svc.service_layer.webhooks import WebhookRejected, receive_webhook
from xborder_events import Money
from xborder_platform.http.idempotency import StoredResponse
from xborder_platform.http.openapi import problem_responses
from xborder_platform.http.problems import HTTPProblem

router = APIRouter(tags=["providers and banks"], dependencies=[Depends(refuse_card_data)])

_WEBHOOK_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["id", "type", "provider_reference", "created"],
                    "properties": {
                        "id": {"type": "string", "description": "The delivery's unique id."},
                        "type": {
                            "type": "string",
                            "enum": [
                                "payment.approved",
                                "payment.declined",
                                "payment.cancelled",
                                "authentication.succeeded",
                                "authentication.failed",
                            ],
                        },
                        "provider_reference": {"type": "string"},
                        "created": {"type": "string", "format": "date-time"},
                    },
                }
            }
        },
    }
}
_VERDICTS = {
    signing.Verdict.MISSING: "The X-Provider-Signature header is missing.",
    signing.Verdict.MALFORMED: "The X-Provider-Signature header is not t=<unix>,v1=<hex>.",
    signing.Verdict.STALE: "The signature's timestamp is too far from now.",
    signing.Verdict.MISMATCH: "The signature does not match the body.",
}


def _money(amount: object, currency: str) -> Money | None:
    if not amount:
        return None
    return Money.model_validate({"amount": amount, "currency": currency})


def _line_out(result: LineResult, currency: str) -> LineOut:
    return LineOut(
        line_id=result.line_id,
        result=result.result,
        payment_id=result.payment_id,
        payment_status=result.payment_status,
        applied=_money(result.applied, currency),
        returned=_money(result.returned, currency),
        outstanding=None
        if result.outstanding is None
        else Money(amount=result.outstanding, currency=result.payment_currency or currency),
    )


@router.post(
    "/v1/providers/{provider}/webhooks",
    response_model=WebhookOut,
    summary="Receive a payment provider's webhook",
    responses=problem_responses(401, 413, 422),
    openapi_extra=_WEBHOOK_BODY,
)
async def provider_webhook(
    provider: Annotated[str, Path(pattern=r"^[a-z0-9_-]{1,32}$")],
    request: Request,
    uow: Uow,
    svc: Svc,
) -> WebhookOut:
    """A provider's notification about one of its payments (approved, declined, cancelled,
    step-up passed or failed), signed `X-Provider-Signature: t=<unix>,v1=<hex HMAC-SHA256 of
    "<t>.<body>">` with the provider's secret. A replay of a delivery (same `id`) is ignored."""
    body = await request.body()
    async with uow:
        try:
            result = await receive_webhook(
                uow,
                svc,
                provider=provider,
                body=body,
                signature=request.headers.get(signing.HEADER),
                now=svc.clock.now(),
            )
        except WebhookRejected as exc:
            raise HTTPProblem(
                401,
                slug=f"webhook-signature-{exc.verdict.value}",
                title="Webhook signature refused",
                detail=_VERDICTS[exc.verdict],
            ) from None
        await uow.commit()
    return WebhookOut(status=result.status, payment_id=result.payment_id, detail=result.detail)


@router.post(
    "/v1/bank-transfers/statements",
    status_code=201,
    response_model=StatementOut,
    summary="Post a bank statement",
    responses=problem_responses(400, 401, 403, 409, 413, 422),
)
async def post_statement(
    body: Annotated[StatementIn, Body()],
    principal: OperatorKey,
    key: IdemKey,
    store: IdemStore,
    uow: Uow,
    svc: Svc,
) -> Response:
    """Match each credit line to a bank wire payment by its RF reference: exact, partial
    (held; the rest still due), overpaid (settled; the excess returned), returned (the payment
    no longer waits), unknown reference (held unapplied), or duplicate (a line seen before).
    Operator key; requires an `Idempotency-Key`."""
    async with uow:
        replay = await store.begin(uow.conn, scope=principal.scope, key=key)
        if replay is not None:
            return replay.to_response()
        lines = [
            StatementLine(
                line_id=line.line_id,
                reference=line.reference,
                amount=line.amount.amount,
                currency=line.amount.currency,
                booked_at=line.booked_at,
            )
            for line in body.lines
        ]
        results = await import_statement(uow, svc, statement_id=body.statement_id, lines=lines)
        out = StatementOut(
            statement_id=body.statement_id,
            lines=[_line_out(r, line.currency) for r, line in zip(results, lines, strict=True)],
        )
        response = JSONResponse(out.model_dump(mode="json"), status_code=201)
        await store.complete(
            uow.conn, scope=principal.scope, key=key, response=StoredResponse.of(response)
        )
        await uow.commit()
    return response
