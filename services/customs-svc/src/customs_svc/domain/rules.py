"""Country rules as values: each with an id, a source note and the days it is in force.

The rule book answers "which rule applies to this country on this day". Periods are half-open
(`effective_from` inclusive, `effective_to` exclusive) and dated in UTC days; the data loader
refuses two rules of one kind in force for one country on the same day.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal, Protocol, TypeVar

#: What a de minimis threshold relieves: duties only (taxes still due) or duties and taxes.
Relief = Literal["duty", "duty_and_tax"]
#: Which value is compared with a threshold: the goods alone, or goods and transport.
ValueBasis = Literal["goods", "goods_and_shipping"]
#: Where a tax is collected: by the seller at checkout (IOSS, UK, AU) or by customs at import.
Collection = Literal["checkout", "import"]
#: What happens when a hold's respond-by passes without documents.
DeadlineOutcome = Literal["return", "confiscate"]


@dataclass(frozen=True, slots=True)
class RuleRef:
    """Where a figure comes from: the rule's id, its source and its period."""

    id: str
    source: str
    effective_from: date
    effective_to: date | None = None
    illustrative: bool = False

    def in_force(self, on: date) -> bool:
        """Whether the rule applies on `on`."""
        return self.effective_from <= on and (self.effective_to is None or on < self.effective_to)


class Dated(Protocol):
    """A rule with a reference and the countries it covers."""

    @property
    def ref(self) -> RuleRef: ...

    @property
    def countries(self) -> frozenset[str]: ...


T = TypeVar("T", bound=Dated)


@dataclass(frozen=True, slots=True)
class Band:
    """One value band of a banded regime (Brazil): up to `upto`, `rate` minus `deduction`."""

    upto: Decimal
    rate: Decimal
    deduction: Decimal


@dataclass(frozen=True, slots=True)
class ThresholdRegime:
    """A de minimis threshold: at or below it, `relieves` is not charged.

    `threshold` None means no de minimis at all (the US from 2025-08-29). Below the threshold a
    flat duty per distinct 6-digit subheading may still apply (the EU from 2026-07-01).
    """

    ref: RuleRef
    countries: frozenset[str]
    currency: str
    threshold: Decimal | None
    basis: ValueBasis
    relieves: Relief
    below_tax_collection: Collection = "import"
    flat_duty_per_subheading: Decimal = Decimal(0)
    duty_basis: ValueBasis = "goods_and_shipping"


@dataclass(frozen=True, slots=True)
class ExcessRegime:
    """A value and weight allowance per parcel, duty on the excess (Russia, EAEU).

    Above either allowance the duty is `rate` of the excess value, but at least `per_kg` per kg
    of excess weight.
    """

    ref: RuleRef
    countries: frozenset[str]
    currency: str
    value_allowance: Decimal
    weight_allowance_kg: Decimal
    rate: Decimal
    per_kg: Decimal
    basis: ValueBasis = "goods"


@dataclass(frozen=True, slots=True)
class BandedRegime:
    """Import tax by value band over the consignment (Brazil's Remessa Conforme)."""

    ref: RuleRef
    countries: frozenset[str]
    currency: str
    bands: tuple[Band, ...]
    basis: ValueBasis = "goods_and_shipping"
    collection: Collection = "checkout"

    @property
    def maximum(self) -> Decimal:
        """The largest consignment value the regime accepts."""
        return self.bands[-1].upto


Regime = ThresholdRegime | ExcessRegime | BandedRegime


@dataclass(frozen=True, slots=True)
class TaxRule:
    """A VAT/GST/ICMS rate. `gross_up`: the tax is part of its own base (Brazil's ICMS)."""

    ref: RuleRef
    countries: frozenset[str]
    kind: Literal["vat", "gst", "icms"]
    rate: Decimal
    gross_up: bool = False


@dataclass(frozen=True, slots=True)
class DutyTable:
    """Ad valorem duty rates by HS chapter, with a default for chapters not listed."""

    ref: RuleRef
    countries: frozenset[str]
    default: Decimal
    chapters: dict[str, Decimal] = field(default_factory=dict)

    def rate(self, hs_code: str) -> Decimal:
        """The rate of the HS code's chapter."""
        return self.chapters.get(hs_code[:2], self.default)


@dataclass(frozen=True, slots=True)
class FeeRule:
    """A fixed handling or processing fee per parcel."""

    ref: RuleRef
    countries: frozenset[str]
    name: str
    amount: Decimal
    currency: str
    above_threshold_only: bool = True


@dataclass(frozen=True, slots=True)
class GoodsRule:
    """Goods a country prohibits or restricts, by HS prefix.

    Restricted goods either fail the pre-check (`refuse_at_precheck`) or are held at the
    checkpoint until `documents` are supplied.
    """

    ref: RuleRef
    countries: frozenset[str]
    direction: Literal["import", "export"]
    prohibited: bool
    hs_prefixes: tuple[str, ...]
    description: str
    documents: tuple[str, ...] = ()
    refuse_at_precheck: bool = False

    def matches(self, hs_code: str) -> bool:
        """Whether the HS code falls under the rule."""
        return any(hs_code.startswith(prefix) for prefix in self.hs_prefixes)


@dataclass(frozen=True, slots=True)
class BuyerIdentifier:
    """An identifier the destination requires of the buyer (e.g. Brazil's CPF)."""

    name: str
    pattern: str
    checksum: Literal["cpf", "none"] = "none"


@dataclass(frozen=True, slots=True)
class Requirements:
    """What a country's customs asks for: documents, buyer identifiers, hold deadlines."""

    ref: RuleRef
    countries: frozenset[str]
    documents: tuple[str, ...]
    hold_documents: tuple[str, ...]
    respond_days: Decimal
    missed_deadline: DeadlineOutcome
    buyer_identifier: BuyerIdentifier | None = None


def in_force(rules: Iterable[T], country: str, on: date) -> list[T]:
    """Every rule of `rules` that covers `country` on `on`."""
    return [r for r in rules if country in r.countries and r.ref.in_force(on)]


def one_in_force(rules: Iterable[T], country: str, on: date) -> T | None:
    """The rule of one kind covering `country` on `on` (the loader ensures there is one at most)."""
    found = in_force(rules, country, on)
    return found[0] if found else None


@dataclass(frozen=True, slots=True)
class RuleBook:
    """Every country rule, queried by country and day."""

    regimes: Sequence[Regime]
    taxes: Sequence[TaxRule]
    duties: Sequence[DutyTable]
    fees: Sequence[FeeRule]
    goods: Sequence[GoodsRule]
    requirements: Sequence[Requirements]

    def regime(self, country: str, on: date) -> Regime | None:
        """The de minimis regime of the destination on `on`."""
        return one_in_force(self.regimes, country, on)

    def tax(self, country: str, on: date) -> TaxRule | None:
        """The destination's import tax on `on` (None: no import VAT/GST)."""
        return one_in_force(self.taxes, country, on)

    def duty_table(self, country: str, on: date) -> DutyTable | None:
        """The destination's duty rates on `on`."""
        return one_in_force(self.duties, country, on)

    def fees_for(self, country: str, on: date) -> list[FeeRule]:
        """The destination's handling fees on `on`."""
        return in_force(self.fees, country, on)

    def goods_rules(
        self, country: str, on: date, *, direction: Literal["import", "export"]
    ) -> list[GoodsRule]:
        """The prohibited and restricted goods of the country, one direction, on `on`."""
        return [g for g in in_force(self.goods, country, on) if g.direction == direction]

    def requirements_for(self, country: str, on: date) -> Requirements | None:
        """What the country's customs requires on `on`."""
        return one_in_force(self.requirements, country, on)

    def next_change(self, country: str, after: date) -> date | None:
        """The first day after `after` on which a rule of the country starts or ends."""
        every: list[Dated] = [
            *self.regimes, *self.taxes, *self.duties, *self.fees, *self.goods, *self.requirements,
        ]  # fmt: skip
        days = [
            day
            for rule in every
            if country in rule.countries
            for day in (rule.ref.effective_from, rule.ref.effective_to)
            if day is not None and day > after
        ]
        return min(days, default=None)


@dataclass(frozen=True, slots=True)
class AuthorityInfo:
    """A customs authority: where declarations of its countries are filed."""

    code: str
    name: str
    countries: frozenset[str]
