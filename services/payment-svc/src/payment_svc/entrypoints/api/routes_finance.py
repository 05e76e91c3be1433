"""Finance: exchange rates, ledger accounts and the reconciliation report."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query

from payment_svc.domain.fx import NoRate, Rate
from payment_svc.entrypoints.api.card_guard import refuse_card_data
from payment_svc.entrypoints.api.convert import account_out, fx_out, reconciliation_out
from payment_svc.entrypoints.api.deps import ApiKey, OperatorKey, ReadConn, Svc, Uow
from payment_svc.entrypoints.api.schemas import (
    AccountOut,
    ConversionOut,
    RateList,
    RateOut,
    RatesAdded,
    RatesIn,
    ReconciliationOut,
)
from payment_svc.service_layer.fx import quote_for, rates
from payment_svc.service_layer.views import ledger_account, parse_account, reconcile
from xborder_events import Money
from xborder_events.base import CurrencyCode, UtcDatetime
from xborder_platform.errors import Invalid
from xborder_platform.http.auth import Forbidden
from xborder_platform.http.openapi import problem_responses

router = APIRouter(tags=["finance"], dependencies=[Depends(refuse_card_data)])


@router.put(
    "/v1/fx/rates",
    response_model=RatesAdded,
    summary="Add exchange rates",
    responses=problem_responses(400, 401, 403, 409, 413, 422),
)
async def put_rates(
    body: Annotated[RatesIn, Body()], principal: OperatorKey, uow: Uow, svc: Svc
) -> RatesAdded:
    """Add rates (1 base = rate quote, quoted by source at as_of). Sending a rate again is
    harmless; a different value for the same base, quote, source and as_of is refused (409):
    a rate that priced a payment is never changed. Operator key."""
    new = []
    for index, r in enumerate(body.rates):
        if r.base == r.quote:
            raise Invalid(f"rates.{index}: base and quote must differ", field=f"rates.{index}")
        new.append(Rate(base=r.base, quote=r.quote, rate=r.rate, as_of=r.as_of, source=r.source))
    async with uow:
        added, unchanged = await rates(uow.conn, svc).add(new)
        await uow.commit()
    return RatesAdded(added=added, unchanged=unchanged)


@router.get(
    "/v1/fx/rates",
    response_model=RateList,
    summary="List exchange rates",
    responses=problem_responses(401, 422),
)
async def get_rates(
    principal: ApiKey,
    conn: ReadConn,
    svc: Svc,
    at: Annotated[UtcDatetime | None, Query(description="Default: now.")] = None,
    base: Annotated[CurrencyCode | None, Query()] = None,
    quote: Annotated[CurrencyCode | None, Query()] = None,
) -> RateList:
    """The latest rate of each pair quoted at or before `at`."""
    when = at or svc.clock.now()
    found = await rates(conn, svc).latest(at=when, base=base, quote=quote)
    return RateList(
        at=when,
        rates=[
            RateOut(
                base=r.base, quote=r.quote, rate=format(r.rate, "f"), as_of=r.as_of, source=r.source
            )
            for r in found
        ],
    )


@router.get(
    "/v1/fx/conversions",
    response_model=ConversionOut,
    summary="Convert an amount",
    responses=problem_responses(401, 422),
)
async def convert_amount(
    principal: ApiKey,
    conn: ReadConn,
    svc: Svc,
    amount: Annotated[Decimal, Query(ge=0, max_digits=20, description='e.g. "12.50"')],
    source: Annotated[CurrencyCode, Query(alias="from")],
    target: Annotated[CurrencyCode, Query(alias="to")],
    at: Annotated[UtcDatetime | None, Query(description="Default: now.")] = None,
) -> ConversionOut:
    """`amount` of `from` in `to`, with the rate payment-svc would use at `at` and its
    rounding rule (half to even, to the target currency's minor units)."""
    when: datetime = at or svc.clock.now()
    try:
        original = Money(amount=amount, currency=source)
        fx = await quote_for(conn, svc, source=source, target=target, at=when)
    except NoRate as exc:
        raise Invalid(str(exc)) from None
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    snapshot = fx_out(fx)
    assert snapshot is not None
    return ConversionOut(
        amount=original, converted=Money(amount=fx.convert(amount), currency=target), fx=snapshot
    )


@router.get(
    "/v1/ledger/accounts/{account}",
    response_model=AccountOut,
    summary="Get a ledger account",
    responses=problem_responses(400, 401, 403, 404),
)
async def get_account(
    account: Annotated[str, Path(max_length=200, examples=["merchant_payable:demo-merchant"])],
    principal: ApiKey,
    conn: ReadConn,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> AccountOut:
    """An account's balances per currency (debits: into it; credits: out of it) and its
    latest entries. `merchant_payable` alone sums every merchant's. Operators see every
    account; a storefront key sees its own `merchant_payable:<merchant>` only."""
    parsed, whole = parse_account(account)
    if principal.role == "storefront" and (
        whole or parsed.code != f"merchant_payable:{principal.merchant_id}"
    ):
        raise Forbidden("A storefront key sees only its own merchant_payable account.")
    return account_out(await ledger_account(conn, account, limit=limit, cursor=cursor))


@router.get(
    "/v1/reconciliation",
    response_model=ReconciliationOut,
    summary="Reconcile a day",
    responses=problem_responses(400, 401, 403, 422),
)
async def get_reconciliation(
    principal: OperatorKey,
    conn: ReadConn,
    day: Annotated[date, Query(alias="date", description="A UTC day, e.g. 2025-11-28.")],
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> ReconciliationOut:
    """Per payment (a page) and in total for the day: captured, refunded, fees, duties payable,
    merchant payable, wired funds unapplied and returned, and whether the entries balance in
    every currency; `ledger_balanced` checks the whole ledger. Operator key."""
    return reconciliation_out(await reconcile(conn, day, limit=limit, cursor=cursor))
