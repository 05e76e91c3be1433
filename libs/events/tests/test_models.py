"""Event models: money as decimal strings, validation rules, frozen values, the registry."""

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from xborder_events import (
    CUSTOMS,
    ORDERS,
    PAYMENTS,
    REGISTRY,
    SERVICE_TOPICS,
    SHIPPING,
    Event,
    Money,
    topic_for,
)
from xborder_events.customs import ParcelHeldAtCustoms, ParcelReleased
from xborder_events.orders import OrderPlaced
from xborder_events.payments import PaymentSettled
from xborder_events.shipping import ShipmentCreated
from xborder_events.testing import AT, sample, samples, usd


def placed_fields(**changes: Any) -> dict[str, Any]:
    """The sample OrderPlaced as JSON, with `changes` applied at the top level."""
    return {**sample(OrderPlaced).model_dump(mode="json"), **changes}


def test_money_is_a_decimal_in_python_and_a_string_in_json() -> None:
    money = Money(amount="12.50", currency="USD")
    assert money.amount == Decimal("12.50")
    assert money.model_dump() == {"amount": Decimal("12.50"), "currency": "USD"}
    assert money.model_dump_json() == '{"amount":"12.50","currency":"USD"}'
    assert Money.model_validate_json('{"amount":"12.50","currency":"USD"}') == money
    assert str(money) == "12.50 USD"


def test_money_is_never_written_in_exponent_notation() -> None:
    money = Money(amount=Decimal("1E+3"), currency="JPY")
    assert money.model_dump(mode="json") == {"amount": "1000", "currency": "JPY"}


@pytest.mark.parametrize("number", [12.5, 12, 0.1 + 0.2, True])
def test_money_refuses_numbers(number: object) -> None:
    with pytest.raises(ValidationError, match=r'must be a decimal string such as "12\.50", not'):
        Money.model_validate({"amount": number, "currency": "USD"})


def test_money_refuses_a_json_number() -> None:
    with pytest.raises(ValidationError, match=r"not the number 12\.5"):
        Money.model_validate_json('{"amount": 12.5, "currency": "USD"}')


@pytest.mark.parametrize("text", ["-1.00", "1e3", "12,50", " 12.50", "NaN", "", ".5"])
def test_money_refuses_strings_that_are_not_plain_non_negative_decimals(text: str) -> None:
    with pytest.raises(ValidationError, match="must be a non-negative decimal string"):
        Money.model_validate({"amount": text, "currency": "USD"})


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), Decimal("-0.01")])
def test_money_refuses_decimals_that_are_not_finite_and_non_negative(value: Decimal) -> None:
    with pytest.raises(ValidationError, match="finite, non-negative"):
        Money(amount=value, currency="USD")


@pytest.mark.parametrize(
    ("amount", "currency", "places"),
    [("1.234", "USD", 2), ("100.5", "JPY", 0), ("1.2345", "KWD", 3)],
)
def test_money_has_at_most_the_currencys_minor_units(
    amount: str, currency: str, places: int
) -> None:
    with pytest.raises(ValidationError, match=f"{currency} has {places} decimal places"):
        Money.model_validate({"amount": amount, "currency": currency})
    assert Money.model_validate({"amount": "1.005", "currency": "KWD"}).amount == Decimal("1.005")


@pytest.mark.parametrize(
    ("currency", "message"),
    [("usd", "should match pattern"), ("US", "should match pattern"), ("ABC", "not an ISO 4217")],
)
def test_money_needs_an_iso_4217_currency(currency: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Money.model_validate({"amount": "1.00", "currency": currency})


@settings(database=None)  # no example database on disk
@given(
    amount=st.decimals(min_value=0, max_value=10**12, places=2),
    currency=st.sampled_from(["USD", "EUR", "CNY", "BRL", "GBP"]),
)
def test_money_survives_json_exactly(amount: Decimal, currency: str) -> None:
    money = Money(amount=amount, currency=currency)
    assert Money.model_validate_json(money.model_dump_json()).amount == amount


def test_events_and_their_values_are_frozen() -> None:
    order = sample(OrderPlaced)
    with pytest.raises(ValidationError, match="frozen"):
        order.currency = "EUR"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        order.totals.grand_total.amount = Decimal(0)  # type: ignore[misc]
    assert isinstance(order.items, tuple)


def test_events_refuse_unknown_fields() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        sample(OrderPlaced, gift_wrap=True)


def test_timestamps_must_be_aware_and_are_kept_in_utc() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        sample(OrderPlaced, placed_at="2025-11-28T09:30:00")
    assert sample(OrderPlaced, placed_at="2025-11-28T17:30:00+08:00").placed_at == AT


def test_an_order_must_add_up() -> None:
    totals = placed_fields()["totals"]
    with pytest.raises(ValidationError, match="grand_total must be items"):
        OrderPlaced.model_validate(
            placed_fields(totals={**totals, "grand_total": usd("35.00").model_dump(mode="json")})
        )
    with pytest.raises(ValidationError, match="sum of quantity x unit_price"):
        OrderPlaced.model_validate(
            placed_fields(
                totals={
                    **totals,
                    "items": usd("20.00").model_dump(mode="json"),
                    "grand_total": usd("31.00").model_dump(mode="json"),
                }
            )
        )


def test_an_order_is_priced_in_its_own_currency() -> None:
    with pytest.raises(ValidationError, match="in the order currency EUR"):
        OrderPlaced.model_validate(placed_fields(currency="EUR"))


def test_incoterm_rules() -> None:
    with pytest.raises(ValidationError, match="a DDP order needs landed_cost_quote_id"):
        sample(OrderPlaced, landed_cost_quote_id=None)
    with pytest.raises(ValidationError, match="a DAP order charges no duties_and_taxes"):
        sample(OrderPlaced, incoterm="DAP")
    totals = {"items": usd("25.00"), "shipping": usd("7.90"), "grand_total": usd("32.90")}
    dap = sample(OrderPlaced, incoterm="DAP", landed_cost_quote_id=None, totals=totals)
    assert dap.totals.duties_and_taxes is None
    assert dap.weight_grams == 160


def test_the_ship_to_address_is_in_the_ship_to_country() -> None:
    address = {**placed_fields()["ship_to"], "country": "GB"}
    with pytest.raises(ValidationError, match=r"ship_to\.country must equal ship_to_country"):
        OrderPlaced.model_validate(placed_fields(ship_to=address))


def test_order_items_need_a_valid_hs_code_and_a_positive_quantity() -> None:
    item = placed_fields()["items"][0]
    with pytest.raises(ValidationError, match=r"items\.0\.hs_code") as caught:
        OrderPlaced.model_validate(placed_fields(items=[{**item, "hs_code": "3926.90"}]))
    assert "items.0.quantity" not in str(caught.value)
    with pytest.raises(ValidationError, match=r"items\.0\.quantity"):
        OrderPlaced.model_validate(placed_fields(items=[{**item, "quantity": -2}]))


def test_settlement_fx_must_match_the_amounts() -> None:
    fx = sample(PaymentSettled).fx.model_dump()
    with pytest.raises(ValidationError, match=r"fx\.target_currency"):
        sample(PaymentSettled, fx={**fx, "target_currency": "EUR"})
    with pytest.raises(ValidationError, match="greater than zero"):
        sample(PaymentSettled, fx={**fx, "rate": "0.000"})
    assert sample(PaymentSettled).model_dump(mode="json")["fx"]["rate"] == "7.1234"


def test_duties_are_owed_by_the_party_the_incoterm_names() -> None:
    with pytest.raises(ValidationError, match="under DDP the seller owes"):
        sample(ParcelReleased, owed_by="buyer")
    with pytest.raises(ValidationError, match="total must be duties"):
        sample(ParcelReleased, total=usd("9.99"))


def test_a_hold_gives_the_merchant_time_to_respond() -> None:
    with pytest.raises(ValidationError, match="respond_by must be later than held_at"):
        sample(ParcelHeldAtCustoms, respond_by=AT)


def test_eta_windows_are_ordered() -> None:
    with pytest.raises(ValidationError, match="p90 must not be earlier than p50"):
        sample(ShipmentCreated, eta={"p50": "2025-12-15", "p90": "2025-12-08"})


def test_event_types() -> None:
    assert OrderPlaced.event_type() == "xborder.OrderPlaced.v1"
    assert OrderPlaced.schema_urn() == "urn:xborder:events:OrderPlaced:v1"
    assert all(model.event_version == 1 for model in REGISTRY.values())
    assert all(REGISTRY[key].event_type() == key for key in REGISTRY)


def test_the_registry_holds_the_whole_lifecycle() -> None:
    names = {model.event_name for model in REGISTRY.values()}
    assert names == {
        *("OrderPlaced", "OrderConfirmed", "OrderCancelled", "OrderCompleted"),
        *("OrderReturned", "OrderConfiscated"),
        *("PaymentAuthorized", "PaymentSettled", "PaymentFailed", "PaymentRefunded"),
        *("PaymentActionRequired", "RefundFailed"),
        *("ShipmentCreated", "ParcelDispatched", "ParcelInTransit", "ParcelArrivedAtDestination"),
        *("ParcelOutForDelivery", "ParcelDelivered", "DeliveryEstimateRevised"),
        *("ParcelDeliveryFailed", "ParcelReturnedToSender"),
        *("ShipmentCancelled", "CustomsPrecheckPassed", "CustomsPrecheckFailed", "ExportCleared"),
        *("ParcelReleased", "ParcelHeldAtCustoms", "CustomsDocumentsSubmitted"),
        *("ParcelReturnOrdered", "ParcelConfiscated"),
    }


@pytest.mark.parametrize(
    ("event_type", "topic"),
    [
        ("xborder.OrderPlaced.v1", ORDERS),
        ("xborder.PaymentSettled.v1", PAYMENTS),
        ("xborder.ParcelDelivered.v1", SHIPPING),
        ("xborder.ParcelHeldAtCustoms.v1", CUSTOMS),
    ],
)
def test_topic_for(event_type: str, topic: str) -> None:
    assert topic_for(event_type) == topic


def test_topic_for_an_unregistered_type() -> None:
    with pytest.raises(KeyError, match=r"xborder\.OrderPlaced\.v9"):
        topic_for("xborder.OrderPlaced.v9")


@pytest.mark.parametrize("model", REGISTRY.values(), ids=lambda m: m.event_type())
def test_each_event_is_published_by_its_producer_on_its_topic(model: type[Event]) -> None:
    assert SERVICE_TOPICS[model.producer] == model.topic
    assert model.model_config.get("frozen") is True
    assert model.model_config.get("extra") == "forbid"
    assert (model.__doc__ or "").strip()


def test_the_testing_module_has_a_valid_sample_of_every_event() -> None:
    assert [type(event) for event in samples()] == list(REGISTRY.values())
