"""Which service a paid order ships on when its quote is good, stale, unknown or wrong."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from shipping_svc.adapters.lane_data import load_catalog
from shipping_svc.domain.booking import QuoteRef, QuoteStatus, choose_service
from shipping_svc.domain.catalog import LaneKey

CATALOG = load_catalog()
US = LaneKey("CN", "US")
DAY = date(2026, 6, 1)
PLACED = datetime(2026, 6, 1, 9, tzinfo=UTC)


def ref(**changes) -> QuoteRef:
    values = {
        "service_key": "CN-US/yunexpress/global-direct",
        "lane": US,
        "weight_grams": 500,
        "price": Decimal("9.28"),
        "currency": "USD",
        "expires_at": PLACED + timedelta(minutes=5),
    }
    return QuoteRef(**{**values, **changes})


def choose(quote, weight=400):
    return choose_service(
        CATALOG, lane=US, weight_grams=weight, quote=quote, placed_at=PLACED, day=DAY,
        currency="USD",
    )  # fmt: skip


def test_a_valid_quote_is_honoured_at_its_price():
    choice = choose(ref())
    assert choice.quote_status is QuoteStatus.HONOURED
    assert choice.service.carrier == "yunexpress"
    assert choice.price == Decimal("9.28")


def test_an_expired_quote_ships_on_its_service_at_the_current_price():
    choice = choose(ref(expires_at=PLACED - timedelta(seconds=1)))
    assert choice.quote_status is QuoteStatus.EXPIRED
    assert choice.service.carrier == "yunexpress"
    assert choice.price == choice.service.price_for(400, "USD")


def test_an_unknown_quote_ships_on_the_lanes_default():
    choice = choose(None)
    assert choice.quote_status is QuoteStatus.UNKNOWN
    assert choice.service.carrier == "ibexpress"


def test_a_heavier_parcel_or_another_lane_is_a_mismatch():
    heavier = choose(ref(), weight=900)
    assert heavier.quote_status is QuoteStatus.MISMATCH
    assert heavier.price == heavier.service.price_for(900, "USD")
    elsewhere = choose(ref(lane=LaneKey("CN", "GB")))
    assert elsewhere.quote_status is QuoteStatus.MISMATCH
    assert elsewhere.service.lane == US


def test_nothing_carries_a_parcel_over_every_limit():
    assert choose(None, weight=40_000) is None
