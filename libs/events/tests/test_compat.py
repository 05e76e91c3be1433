"""breaking_changes: what a published event version may and may not become."""

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from xborder_events.base import Event, Money, UtcDatetime, ValueObject
from xborder_events.compat import breaking_changes
from xborder_events.schemas import ContractSchema


def schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON Schema the exporter publishes for a model."""
    return model.model_json_schema(schema_generator=ContractSchema)


class Parcel(ValueObject):
    weight_grams: int
    label: str | None = None


#: The fields of a v1 event as published: name -> (type, default); ... means required.
PUBLISHED: dict[str, tuple[Any, Any]] = {
    "quantity": (int, ...),
    "carrier": (Literal["dhl", "yunexpress"], ...),
    "price": (Money, ...),
    "parcels": (tuple[Parcel, ...], ...),
    "note": (str | None, None),
    "at": (UtcDatetime, ...),
    "reference": (str, Field(max_length=64)),
}


def version(**changes: tuple[Any, Any] | None) -> dict[str, Any]:
    """The schema of the published event with fields replaced, added, or dropped (None)."""
    fields = {name: spec for name, spec in {**PUBLISHED, **changes}.items() if spec is not None}
    return schema(create_model("Shipped", __base__=Event, **fields))  # type: ignore[call-overload]


OLD = version()


def test_the_same_schema_has_no_breaking_changes() -> None:
    assert breaking_changes(OLD, OLD) == []


def test_adding_an_optional_field_is_not_breaking() -> None:
    newer = version(tracking_url=(str | None, None), gift=(bool, False))
    assert breaking_changes(OLD, newer) == []


def test_removing_a_field_is_breaking() -> None:
    assert breaking_changes(OLD, version(note=None)) == ["note: property removed"]


def test_renaming_a_field_is_breaking() -> None:
    renamed = version(quantity=None, count=(int, ...))
    assert breaking_changes(OLD, renamed) == [
        "quantity: property removed (renamed to count?)",
        "count: new property is now required",
    ]


def test_renaming_an_optional_field_is_breaking_too() -> None:
    renamed = version(note=None, remark=(str | None, None))
    assert breaking_changes(OLD, renamed) == ["note: property removed (renamed to remark?)"]


def test_retyping_a_field_is_breaking() -> None:
    retyped = version(quantity=(str, ...))
    assert breaking_changes(OLD, retyped) == ["quantity: type changed from integer to string"]


def test_changing_a_format_is_breaking() -> None:
    assert breaking_changes(OLD, version(at=(date, ...))) == [
        "at: format changed from date-time to date"
    ]


def test_a_new_required_field_is_breaking() -> None:
    assert breaking_changes(OLD, version(weight=(int, ...))) == [
        "weight: new property is now required"
    ]


def test_making_an_optional_field_required_is_breaking() -> None:
    assert breaking_changes(OLD, version(note=(str, ...))) == [
        "note: type changed from null or string to string",
        "note: existing property is now required",
    ]


def test_making_a_required_field_optional_is_not_breaking() -> None:
    assert breaking_changes(OLD, version(quantity=(int | None, None))) == []


def test_removing_an_enum_value_is_breaking_and_adding_one_is_not() -> None:
    narrowed = version(carrier=(Literal["dhl"], ...))
    widened = version(carrier=(Literal["dhl", "yunexpress", "4px"], ...))
    assert breaking_changes(OLD, narrowed) == ["carrier: values no longer allowed: ['yunexpress']"]
    assert breaking_changes(OLD, widened) == []


def test_tightening_a_constraint_is_breaking_and_loosening_it_is_not() -> None:
    tighter = version(reference=(str, Field(max_length=32)))
    looser = version(reference=(str, Field(max_length=128)))
    assert breaking_changes(OLD, tighter) == ["reference: maxLength lowered from 64 to 32"]
    assert breaking_changes(OLD, looser) == []


class OtherParcel(ValueObject):
    weight_kg: float


class NestedMoney(ValueObject):
    amount: int
    currency: str


def test_changes_inside_array_items_and_referenced_models_are_found() -> None:
    newer = version(parcels=(tuple[OtherParcel, ...], ...), price=(NestedMoney, ...))
    assert breaking_changes(OLD, newer) == [
        "price.amount: type changed from string to integer",
        "parcels[].weight_grams: property removed (renamed to weight_kg?)",
        "parcels[].label: property removed (renamed to weight_kg?)",
        "parcels[].weight_kg: new property is now required",
    ]


def test_retyping_an_array_item_is_breaking() -> None:
    newer = version(parcels=(tuple[str, ...], ...))
    assert breaking_changes(OLD, newer) == ["parcels[]: type changed from object to string"]


class Node(BaseModel):
    name: str
    children: list["Node"] = []


def test_recursive_schemas_terminate() -> None:
    assert breaking_changes(schema(Node), schema(Node)) == []
    newer = schema(Node)
    newer["$defs"]["Node"]["required"] = ["name", "children"]
    assert breaking_changes(schema(Node), newer) == ["children: existing property is now required"]
