"""The lane data file: the packaged one covers the seeds' lanes; broken ones are refused."""

from datetime import date
from pathlib import Path

import pytest

from shipping_svc.adapters.lane_data import LaneDataError, default_lane_file, load_catalog
from shipping_svc.domain.catalog import LaneKey, TrackingQuality

TODAY = date(2026, 6, 1)


def test_the_packaged_lanes_cover_the_seeds():
    catalog = load_catalog()
    lanes = {str(key) for key in catalog.lanes}
    assert {"CN-US", "CN-GB", "CN-RU", "CN-BR", "CN-AE", "CN-SA", "CN-CL", "CN-MX"} <= lanes
    assert {"CN-DE", "CN-FR", "CN-CA", "CN-AU"} <= lanes
    canada = {s.carrier for s in catalog.services_on(LaneKey("CN", "CA"), TODAY)}
    assert {"china-post", "yunexpress", "4px"} <= canada
    australia = {s.carrier for s in catalog.services_on(LaneKey("CN", "AU"), TODAY)}
    assert {"cainiao", "yunexpress", "dhl-ecommerce"} <= australia
    assert catalog.default_service(LaneKey("CN", "US"), TODAY).carrier == "ibexpress"
    assert catalog.default_service(LaneKey("CN", "GB"), TODAY).carrier == "dhl-parcel-uk"
    russia = {s.carrier for s in catalog.services_on(LaneKey("CN", "RU"), TODAY)}
    assert {"sf-express", "cainiao"} <= russia
    brazil = catalog.default_service(LaneKey("CN", "BR"), TODAY).transit
    assert 25 <= brazil.p50_days <= 35
    assert brazil.p90_days - brazil.p50_days >= 20  # swings of weeks
    carriers = set(catalog.carriers)
    assert {"cainiao", "yunexpress", "4px", "yanwen", "china-post", "dhl-ecommerce"} <= carriers


def test_lanes_needing_delivery_tracking_default_to_full_tracking():
    catalog = load_catalog()
    for key, lane in catalog.lanes.items():
        default = catalog.default_service(key, TODAY)
        assert default is not None
        if lane.requires_delivery_tracking:
            assert default.tracking is TrackingQuality.FULL, key


def test_prices_change_on_their_effective_date():
    catalog = load_catalog()
    key = "CN-US/ibexpress/us-priority"
    old, new = catalog.version(key, date(2025, 6, 1)), catalog.version(key, date(2026, 6, 1))
    assert old is not None
    assert new is not None
    assert old.price_for(200, "USD") < new.price_for(200, "USD")


def broken(tmp_path: Path, old: str, new: str) -> Path:
    text = default_lane_file().read_text()
    assert old in text
    path = tmp_path / "lanes.toml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('tracking = "full"\ndefault = true', 'tracking = "none"\ndefault = true',
         "requires delivery tracking"),
        ('USD = ["6.50"', 'USD = ["6.505"', "more decimals than USD"),
        ('effective_to = 2026-01-01', 'effective_to = 2026-02-01', "versions overlap"),
        ('carrier = "ibexpress"', 'carrier = "nobody"', "unknown carrier"),
        ("transit = { min = 7, p50 = 10", "transit = { min = 12, p50 = 10", "min <= p50 <= p90"),
        ('"IB50" = ["returned_to_sender"', '"IB50" = ["in_transit"', "returned_to_sender"),
        ("schema_version = 1", "schema_version = 2", "schema_version"),
    ],
)  # fmt: skip
def test_a_broken_file_is_refused_with_the_reason(tmp_path, old, new, message):
    with pytest.raises(LaneDataError, match=message) as refused:
        load_catalog(broken(tmp_path, old, new))
    assert str(tmp_path) in str(refused.value)


def test_a_file_that_is_not_toml_is_refused(tmp_path):
    path = tmp_path / "lanes.toml"
    path.write_text("[[services]\n")
    with pytest.raises(LaneDataError, match="not valid TOML"):
        load_catalog(path)
