"""The list's cursor: opaque to clients, exact for the service, refused when forged."""

import uuid
from datetime import UTC, datetime

import pytest

from order_svc.views import Cursor, InvalidCursor


def test_a_cursor_round_trips() -> None:
    cursor = Cursor(datetime(2025, 11, 28, 9, 30, 0, 123456, tzinfo=UTC), uuid.uuid4())
    text = cursor.encode()
    assert "=" not in text
    assert Cursor.decode(text) == cursor


@pytest.mark.parametrize(
    "text", ["nonsense", "", "W10", "WyIyMDI1LTExLTI4VDA5OjMwOjAwIiwgIngiXQ", "!!!"]
)
def test_a_forged_cursor_is_refused(text: str) -> None:
    with pytest.raises(InvalidCursor):
        Cursor.decode(text)
