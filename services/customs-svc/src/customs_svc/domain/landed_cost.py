"""The landed-cost engine: duties, taxes and fees of a consignment on a given day.

Every amount is in the consignment's currency, quantized half-even to its minor units line by
line; totals are sums of lines. Thresholds and fixed amounts in other currencies are converted
with the FX set in force (the quote records it). A threshold is compared with the consignment's
value converted exactly (not rounded first: BRL 267.61 is above USD 50.00 at 5.352 BRL/USD);
the value reported is rounded to the threshold currency's minor units towards the side of the
threshold it is on, so the report never contradicts the outcome. Each line names the rule it
comes from, and whether it is collected by the seller at checkout or at import.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Literal

from customs_svc.domain.classification import hs_problem, subheading
from customs_svc.domain.fx import CurrencyNotSupported, FxSet, FxTable
from customs_svc.domain.money import ZERO, minor_unit, quantize
from customs_svc.domain.rules import (
    BandedRegime,
    Collection,
    DutyTable,
    ExcessRegime,
    FeeRule,
    RuleBook,
    RuleRef,
    TaxRule,
    ThresholdRegime,
    ValueBasis,
)

LineKind = Literal["duty", "vat", "gst", "icms", "fee"]
ErrorCode = Literal[
    "unsupported_destination", "invalid_hs_code", "currency_not_supported", "value_above_limit"
]


class LandedCostError(ValueError):
    """The consignment cannot be assessed; `code` says why, `sku` which item if one."""

    def __init__(self, code: ErrorCode, message: str, *, sku: str | None = None) -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        self.sku = sku


@dataclass(frozen=True, slots=True)
class Item:
    """One line of the consignment; `unit_price` in the consignment's currency."""

    hs_code: str
    origin_country: str
    unit_price: Decimal
    quantity: int
    weight_grams: int
    sku: str | None = None

    @property
    def value(self) -> Decimal:
        """quantity x unit price."""
        return self.unit_price * self.quantity


@dataclass(frozen=True, slots=True)
class Consignment:
    """What crosses the border, as a quote request or an order describes it."""

    destination: str
    currency: str
    shipping: Decimal
    items: tuple[Item, ...]

    @property
    def goods(self) -> Decimal:
        """The goods' value."""
        return sum((i.value for i in self.items), ZERO)

    @property
    def weight_kg(self) -> Decimal:
        """The parcel's weight in kilograms."""
        return Decimal(sum(i.weight_grams * i.quantity for i in self.items)) / 1000

    def value(self, basis: ValueBasis) -> Decimal:
        """The goods, with transport when `basis` says so."""
        return self.goods + (self.shipping if basis == "goods_and_shipping" else ZERO)


@dataclass(frozen=True, slots=True)
class Line:
    """One duty, tax or fee, and the rule it comes from."""

    kind: LineKind
    amount: Decimal
    description: str
    rule: RuleRef
    hs_code: str | None = None
    sku: str | None = None
    collected_at: Collection = "import"


@dataclass(frozen=True, slots=True)
class DeMinimis:
    """How the consignment stands against the destination's threshold."""

    rule: RuleRef
    currency: str
    threshold: Decimal | None
    compared_value: Decimal
    within: bool
    detail: str


@dataclass(frozen=True, slots=True)
class LandedCost:
    """The assessment: lines, the threshold outcome, the FX set used and the day it holds for."""

    consignment: Consignment
    on: date
    lines: tuple[Line, ...]
    de_minimis: DeMinimis
    fx: FxSet
    valid_until: date | None
    #: The currencies of the thresholds and fixed amounts converted (the FX snapshot's pairs).
    converted: tuple[str, ...] = ()

    def _sum(self, *kinds: LineKind) -> Decimal:
        return quantize(
            sum((ln.amount for ln in self.lines if ln.kind in kinds), ZERO),
            self.consignment.currency,
        )

    @property
    def duties(self) -> Decimal:
        """Customs duties."""
        return self._sum("duty")

    @property
    def taxes(self) -> Decimal:
        """VAT, GST, ICMS."""
        return self._sum("vat", "gst", "icms")

    @property
    def fees(self) -> Decimal:
        """Handling and processing fees."""
        return self._sum("fee")

    @property
    def total(self) -> Decimal:
        """Everything owed."""
        return self.duties + self.taxes + self.fees

    def collected(self, at: Collection) -> Decimal:
        """What is collected at checkout (by the seller) or at import (by customs)."""
        return quantize(
            sum((ln.amount for ln in self.lines if ln.collected_at == at), ZERO),
            self.consignment.currency,
        )


def _pct(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}%"


def _shown(value: Decimal, currency: str, limit: Decimal | None) -> Decimal:
    """`value` in `currency`'s minor units, rounded towards its side of `limit`."""
    if limit is None:
        return quantize(value, currency)
    return value.quantize(
        minor_unit(currency), rounding=ROUND_CEILING if value > limit else ROUND_FLOOR
    )


@dataclass(frozen=True, slots=True)
class _Assessor:
    book: RuleBook
    fx: FxSet
    c: Consignment
    on: date

    def convert_in(self, amount: Decimal, currency: str) -> Decimal:
        """An amount of `currency` in the consignment's currency."""
        return self.fx.convert(amount, currency, self.c.currency)

    def compared(self, basis: ValueBasis, currency: str) -> Decimal:
        """The consignment's value in a threshold's currency, converted exactly (unrounded)."""
        return self.fx.exact(self.c.value(basis), self.c.currency, currency)

    def ad_valorem(self, basis: ValueBasis) -> list[Line]:
        """Duty per item at its chapter's rate, transport apportioned by value when CIF."""
        table = self.book.duty_table(self.c.destination, self.on)
        if table is None:
            return []
        return [self._item_duty(table, item, basis) for item in self.c.items]

    def _item_duty(self, table: DutyTable, item: Item, basis: ValueBasis) -> Line:
        base = item.value
        if basis == "goods_and_shipping":
            goods, count = self.c.goods, len(self.c.items)
            base += self.c.shipping * item.value / goods if goods else self.c.shipping / count
        rate = table.rate(item.hs_code)
        return Line(
            "duty",
            quantize(base * rate, self.c.currency),
            f"duty {_pct(rate)} (HS chapter {item.hs_code[:2]})",
            table.ref,
            hs_code=item.hs_code,
            sku=item.sku,
        )

    def flat_duty(self, regime: ThresholdRegime) -> list[Line]:
        """A fixed duty per distinct 6-digit subheading of the parcel.

        Collected through the same channel as the tax due below the threshold: with the VAT at
        checkout under IOSS (the EU from 2026-07-01), with it at import otherwise.
        """
        if not regime.flat_duty_per_subheading:
            return []
        each = self.convert_in(regime.flat_duty_per_subheading, regime.currency)
        return [
            Line(
                "duty",
                each,
                f"flat duty {regime.flat_duty_per_subheading} {regime.currency} per subheading",
                regime.ref,
                hs_code=sub,
                collected_at=regime.below_tax_collection,
            )
            for sub in sorted({subheading(i.hs_code) for i in self.c.items})
        ]

    def tax(self, duties: Sequence[Line], collected_at: Collection = "import") -> list[Line]:
        """The import tax on goods, transport and duties (grossed up where the rule says)."""
        rule: TaxRule | None = self.book.tax(self.c.destination, self.on)
        if rule is None:
            return []
        base = self.c.goods + self.c.shipping + sum((d.amount for d in duties), ZERO)
        amount = base * rule.rate / (1 - rule.rate) if rule.gross_up else base * rule.rate
        how = " (in its own base)" if rule.gross_up else ""
        return [
            Line(
                rule.kind,
                quantize(amount, self.c.currency),
                f"{rule.kind.upper()} {_pct(rule.rate)}{how}",
                rule.ref,
                collected_at=collected_at,
            )
        ]

    def fees(self, *, above: bool) -> list[Line]:
        """Fixed fees: those for parcels above the threshold only when it is."""
        rules: list[FeeRule] = self.book.fees_for(self.c.destination, self.on)
        return [
            Line("fee", self.convert_in(f.amount, f.currency), f.name, f.ref)
            for f in rules
            if above or not f.above_threshold_only
        ]

    def threshold(self, regime: ThresholdRegime) -> tuple[list[Line], DeMinimis]:
        """A classic de minimis: relief at or below it, full duty and tax above."""
        exact = self.compared(regime.basis, regime.currency)
        within = regime.threshold is not None and exact <= regime.threshold
        value = _shown(exact, regime.currency, regime.threshold)
        if regime.threshold is None:
            detail = "no de minimis: every parcel pays duty"
        else:
            word = "at or below" if within else "above"
            detail = f"{value} {regime.currency} is {word} {regime.threshold} {regime.currency}"
        outcome = DeMinimis(regime.ref, regime.currency, regime.threshold, value, within, detail)
        if within and regime.relieves == "duty_and_tax":
            return self.fees(above=False), outcome
        if within:
            duties = self.flat_duty(regime)
            return [*duties, *self.tax(duties, regime.below_tax_collection)], outcome
        duties = self.ad_valorem(regime.duty_basis)
        return [*duties, *self.tax(duties), *self.fees(above=True)], outcome

    def excess(self, regime: ExcessRegime) -> tuple[list[Line], DeMinimis]:
        """Duty on what exceeds the value or weight allowance, whichever gives more."""
        exact = self.compared(regime.basis, regime.currency)
        over_value = max(ZERO, exact - regime.value_allowance)
        over_kg = max(ZERO, self.c.weight_kg - regime.weight_allowance_kg)
        within = not over_value and not over_kg
        value = _shown(exact, regime.currency, regime.value_allowance)
        detail = (
            f"{value} {regime.currency} / {self.c.weight_kg} kg against "
            f"{regime.value_allowance} {regime.currency} / {regime.weight_allowance_kg} kg"
        )
        outcome = DeMinimis(
            regime.ref, regime.currency, regime.value_allowance, value, within, detail
        )
        if within:
            return self.fees(above=False), outcome
        by_value, by_weight = regime.rate * over_value, regime.per_kg * over_kg
        words = (
            f"{_pct(regime.rate)} of {quantize(over_value, regime.currency)} {regime.currency} "
            "excess value"
            if by_value >= by_weight
            else f"{regime.per_kg} {regime.currency}/kg on {over_kg} kg excess weight"
        )
        duty = Line("duty", self.convert_in(max(by_value, by_weight), regime.currency),
                    f"duty {words}", regime.ref)  # fmt: skip
        return [duty, *self.tax([duty]), *self.fees(above=True)], outcome

    def banded(self, regime: BandedRegime) -> tuple[list[Line], DeMinimis]:
        """Import tax by value band, less the band's deduction; then the state tax on top."""
        exact = self.compared(regime.basis, regime.currency)
        band = next((b for b in regime.bands if exact <= b.upto), None)
        first = regime.bands[0].upto
        value = _shown(exact, regime.currency, first)
        if band is None:
            raise LandedCostError(
                "value_above_limit",
                f"{_shown(exact, regime.currency, regime.maximum)} {regime.currency} is above "
                f"the {regime.maximum} {regime.currency} limit of {regime.ref.id}",
            )
        amount = self.c.value(regime.basis) * band.rate - self.convert_in(
            band.deduction, regime.currency
        )
        less = f" less {band.deduction} {regime.currency}" if band.deduction else ""
        duty = Line("duty", max(ZERO, quantize(amount, self.c.currency)),
                    f"import tax {_pct(band.rate)}{less} (band up to {band.upto} "
                    f"{regime.currency})", regime.ref, collected_at=regime.collection)  # fmt: skip
        outcome = DeMinimis(regime.ref, regime.currency, first, value, exact <= first,
                            f"band up to {band.upto}")  # fmt: skip
        taxes = self.tax([duty], regime.collection)
        return [duty, *taxes, *self.fees(above=True)], outcome


def _check_items(c: Consignment) -> None:
    for item in c.items:
        if (problem := hs_problem(item.hs_code)) is not None:
            raise LandedCostError("invalid_hs_code", problem, sku=item.sku)


def assess(
    book: RuleBook, fx_table: FxTable, c: Consignment, *, on: date, at: datetime
) -> LandedCost:
    """Duties, taxes and fees of `c` under the rules in force on `on`, FX as of `at`."""
    _check_items(c)
    regime = book.regime(c.destination, on)
    if regime is None:
        raise LandedCostError(
            "unsupported_destination", f"no customs rules for {c.destination} on {on}"
        )
    fx = fx_table.at(at)
    if not fx.supports(c.currency):
        raise LandedCostError("currency_not_supported", f"no exchange rate for {c.currency}")
    assessor = _Assessor(book, fx, c, on)
    try:
        if isinstance(regime, ThresholdRegime):
            lines, outcome = assessor.threshold(regime)
        elif isinstance(regime, ExcessRegime):
            lines, outcome = assessor.excess(regime)
        else:
            lines, outcome = assessor.banded(regime)
    except CurrencyNotSupported as exc:
        raise LandedCostError("currency_not_supported", str(exc)) from None
    valid_until = book.next_change(c.destination, on)
    fees = book.fees_for(c.destination, on)
    converted = tuple(sorted({regime.currency, *(f.currency for f in fees)} - {c.currency}))
    return LandedCost(c, on, tuple(lines), outcome, fx, valid_until, converted)
