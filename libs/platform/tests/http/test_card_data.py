"""Card data is recognised wherever it hides in a body and refused before a route runs; numbers
that are not cards pass."""

from typing import Any

import pytest
from fastapi import APIRouter, Depends, FastAPI

from xborder_platform.http.card_data import (
    card_data_guard,
    find_card_data,
    looks_like_pan,
    luhn_valid,
)
from xborder_platform.http.problems import PROBLEM_MEDIA_TYPE, install_problem_handlers


@pytest.mark.parametrize(
    "number",
    [
        "4111111111111111",
        "5555555555554444",
        "378282246310005",
        "6011111111111117",
        "4222222222222",
    ],
)
def test_test_card_numbers_pass_the_luhn_check(number: str) -> None:
    assert luhn_valid(number)
    assert looks_like_pan(number)


@pytest.mark.parametrize(
    "text",
    [
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "card: 4111111111111111, exp 12/29",
        "5555 5555 5555 4444 please",
        "id-4111111111111111",
        "tok_4111111111111111",
    ],
)
def test_grouped_or_embedded_numbers_are_found(text: str) -> None:
    assert looks_like_pan(text)


@pytest.mark.parametrize(
    "text",
    [
        "4111111111111112",  # fails Luhn
        "411111111111",  # 12 digits: too short
        "41111111111111111111",  # 20 digits: too long
        "2025-11-28T09:30:00Z",
        "5b1f2c9e-8a47-4d3b-9c61-0e2f7a8d4b10",
        "RF71XB7K2M9P4Q",  # a bank-wire reference
        "36.00",
        "tok_visa",
        "L4111111111111111",  # glued to a letter: part of an identifier
        "3e04111111111111111fa9c2",  # digits inside a hex id
    ],
)
def test_other_values_are_not_card_numbers(text: str) -> None:
    assert not looks_like_pan(text)


@pytest.mark.parametrize(
    "text",
    [
        "50854097-5310-4165-acbd-1f4791617f3a",  # a quote id refused before: 16 digits, Luhn
        "12345678-1234-4123-8123-123456789012",  # every group digits
        "50854097-5310-4165-ACBD-1F4791617F3A",
    ],
)
def test_uuids_are_not_card_numbers(text: str) -> None:
    assert luhn_valid("5085409753104165")  # what the first three groups read as, ungrouped
    assert not looks_like_pan(text)
    assert find_card_data({"shipping": {"quote_id": text}}) is None


def test_a_card_number_beside_a_uuid_is_still_found() -> None:
    assert looks_like_pan("order 50854097-5310-4165-acbd-1f4791617f3a card 4111 1111 1111 1111")
    assert looks_like_pan("50854097-5310-4165")  # not a UUID: dash-grouped digits that pass Luhn


def test_the_path_of_the_offending_field_is_reported() -> None:
    body = {
        "amount": {"amount": "1.00", "currency": "USD"},
        "lines": [{"ok": "x"}, {"memo": ["fine", "4111 1111 1111 1111"]}],
    }
    assert find_card_data(body) == "lines[1].memo[1]"


@pytest.mark.parametrize(
    "key", ["card_number", "cardNumber", "PAN", "cvv", "CVC2", "security-code", "card no"]
)
def test_keys_naming_card_data_are_refused_whatever_their_value(key: str) -> None:
    assert find_card_data({"payment": {key: None}}) == f"payment.{key}"


def test_a_key_that_is_a_card_number_is_not_repeated() -> None:
    assert find_card_data({"notes": {"4111111111111111": "x"}}) == "notes.<card number>"
    path = find_card_data({"meta": {"4111-1111-1111-1111": "x"}})
    assert path == "meta.<card number>"
    assert not looks_like_pan(path)


def test_numbers_are_checked_as_digits_and_booleans_are_not() -> None:
    assert find_card_data({"n": 4111111111111111}) == "n"
    assert find_card_data({"n": "4111111111111111"}) == "n"
    assert find_card_data({"flag": True, "count": 3}) is None
    assert find_card_data("4111111111111111") == "$"


def test_values_at_the_fields_named_are_not_checked_but_their_keys_are() -> None:
    # A valid GTIN-13 (a barcode used as a SKU) that happens to pass the Luhn check too.
    assert luhn_valid("5901234123440")
    body = {"items": [{"sku": "ABC"}, {"sku": "5901234123440"}], "phone": "5901234123440"}
    ignored = {"items[].sku", "phone"}
    assert find_card_data(body) == "items[1].sku"
    assert find_card_data(body, values_ignored_at=ignored) is None
    assert find_card_data({"items": [{"cvv": "123"}]}, values_ignored_at=ignored) == "items[0].cvv"
    assert find_card_data({"token": "4111111111111111"}, values_ignored_at=ignored) == "token"


def build_app(seen: list[Any]) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    router = APIRouter(dependencies=[Depends(card_data_guard(values_ignored_at={"sku"}))])

    @router.post("/orders")
    async def place(body: dict[str, Any]) -> dict[str, str]:
        seen.append(body)
        return {"ok": "yes"}

    app.include_router(router)
    return app


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"payment": {"token": "4111 1111 1111 1111"}}, "payment.token"),
        ({"payment": {"token": 4111111111111111}}, "payment.token"),
        ({"card_number": "x"}, "card_number"),
    ],
)
async def test_a_body_with_card_data_is_refused_before_the_route_runs(
    client_for, body: dict[str, Any], field: str
) -> None:
    seen: list[Any] = []
    async with client_for(build_app(seen)) as client:
        response = await client.post("/orders", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    problem = response.json()
    assert problem["type"].endswith("/card-data-refused")
    assert problem["field"] == field
    assert field in problem["detail"]
    assert "4111" not in response.text
    assert seen == []


async def test_other_bodies_reach_the_route(client_for) -> None:
    seen: list[Any] = []
    async with client_for(build_app(seen)) as client:
        fine = await client.post("/orders", json={"sku": "5901234123440", "token": "tok_visa"})
        not_json = await client.post(
            "/orders", content=b"{", headers={"content-type": "application/json"}
        )
    assert fine.status_code == 200, fine.text
    assert seen == [{"sku": "5901234123440", "token": "tok_visa"}]
    assert not_json.status_code == 400
