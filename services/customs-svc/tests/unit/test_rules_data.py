"""The rules file is validated at start-up: the packaged one loads, broken ones are refused."""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any

import pytest

from customs_svc.adapters.rules_data import RulesDataError, load_rules, parse


def raw() -> dict[str, Any]:
    text = resources.files("customs_svc.data").joinpath("rules.toml").read_text("utf-8")
    return tomllib.loads(text)


def test_the_packaged_rules_load_and_cover_every_lane() -> None:
    data = load_rules()
    for country in ("US", "DE", "FR", "GB", "RU", "BR", "AU", "CA", "AE", "SA", "CL", "MX"):
        assert data.authority_for(country) is not None, country
    assert data.authority_for("CN") is not None  # the export checkpoint
    every = [*data.book.regimes, *data.book.taxes, *data.book.duties, *data.book.fees]
    assert all(rule.ref.source and rule.ref.id for rule in every)
    assert all(t.ref.illustrative for t in data.book.duties)  # chapter tables are illustrative


def test_overlapping_rules_are_refused() -> None:
    bad = raw()
    bad["regimes"].append({**bad["regimes"][0], "id": "US-DM-TWICE"})
    with pytest.raises(RulesDataError, match="US-DM-TWICE"):
        parse(bad)


def test_duplicate_ids_and_unknown_groups_are_refused() -> None:
    bad = raw()
    bad["taxes"].append({**bad["taxes"][0], "countries": ["ZZ"]})
    with pytest.raises(RulesDataError, match="unique"):
        parse(bad)
    bad = raw()
    bad["fees"][0]["countries"] = ["@NOPE"]
    with pytest.raises(RulesDataError, match="unknown group"):
        parse(bad)


def test_bad_values_name_the_entry() -> None:
    bad = raw()
    bad["taxes"][0]["rate"] = "1.5"
    with pytest.raises(RulesDataError, match=r"taxes\.0\.rate"):
        parse(bad)
    bad = raw()
    bad["regimes"][0]["effective_to"] = bad["regimes"][0]["effective_from"]
    with pytest.raises(RulesDataError, match="effective_to"):
        parse(bad)


def test_a_missing_file_names_itself(tmp_path: Any) -> None:
    with pytest.raises(RulesDataError, match=r"nope\.toml"):
        load_rules(tmp_path / "nope.toml")
