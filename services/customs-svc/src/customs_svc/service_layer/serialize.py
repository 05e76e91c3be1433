"""Assessments as JSON: what quotes answer and declarations keep."""

from __future__ import annotations

from typing import Any

from customs_svc.domain.landed_cost import LandedCost, Line
from customs_svc.domain.rules import RuleRef


def rule_json(ref: RuleRef) -> dict[str, Any]:
    """A rule reference."""
    return {
        "rule_id": ref.id,
        "effective_from": ref.effective_from.isoformat(),
        "effective_to": ref.effective_to.isoformat() if ref.effective_to else None,
        "source": ref.source,
        "illustrative": ref.illustrative,
    }


def line_json(line: Line) -> dict[str, Any]:
    """One duty, tax or fee with the rule it comes from."""
    return {
        "kind": line.kind,
        "amount": str(line.amount),
        "description": line.description,
        "hs_code": line.hs_code,
        "sku": line.sku,
        "collected_at": line.collected_at,
        **rule_json(line.rule),
    }


def landed_cost_json(lc: LandedCost) -> dict[str, Any]:
    """The whole assessment: lines, totals, threshold outcome, FX snapshot."""
    c, dm, fx = lc.consignment, lc.de_minimis, lc.fx
    rates = {code: format(fx.rate(c.currency, code), ".10g") for code in lc.converted}
    return {
        "assessed_for": lc.on.isoformat(),
        "currency": c.currency,
        "goods_value": str(c.goods),
        "shipping_cost": str(c.shipping),
        "weight_kg": str(c.weight_kg),
        "de_minimis": {
            **rule_json(dm.rule),
            "currency": dm.currency,
            "threshold": None if dm.threshold is None else str(dm.threshold),
            "compared_value": str(dm.compared_value),
            "within": dm.within,
            "detail": dm.detail,
        },
        "lines": [line_json(line) for line in lc.lines],
        "duties": str(lc.duties),
        "taxes": str(lc.taxes),
        "fees": str(lc.fees),
        "total": str(lc.total),
        "due_at_checkout": str(lc.collected("checkout")),
        "due_at_import": str(lc.collected("import")),
        "fx": {
            "id": fx.id,
            "source": fx.source,
            "as_of": fx.as_of.isoformat(),
            "illustrative": fx.illustrative,
            "rates": {f"{c.currency}/{code}": rate for code, rate in rates.items()},
        },
    }
