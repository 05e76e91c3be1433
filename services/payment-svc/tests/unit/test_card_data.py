"""Card data is recognised wherever it hides in a body, and numbers that are not cards pass."""

import pytest

from xborder_platform.http.card_data import find_card_data, looks_like_pan, luhn_valid


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
        "RF71XB7K2M9P4Q",
        "36.00",
        "tok_visa",
        "L4111111111111111",  # glued to a letter: part of an identifier
        "3e04111111111111111fa9c2",  # digits inside a hex id
    ],
)
def test_other_values_are_not_card_numbers(text: str) -> None:
    assert not looks_like_pan(text)


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


def test_a_key_that_is_a_card_number_is_reported_without_it() -> None:
    path = find_card_data({"meta": {"4111-1111-1111-1111": "x"}})
    assert path == "meta.<card number>"
    assert not looks_like_pan(path)


def test_numbers_are_checked_as_digits_and_booleans_are_not() -> None:
    assert find_card_data({"n": 4111111111111111}) == "n"
    assert find_card_data({"n": "4111111111111111"}) == "n"
    assert find_card_data({"flag": True, "count": 3}) is None
    assert find_card_data("4111111111111111") == "$"
