"""The country rules data file (TOML): its schema, its checks, and the rule book it becomes.

Validated in full at start-up; a problem stops the service with a message naming the file and
the offending entry, rather than surfacing later as a wrong quote.
"""

from __future__ import annotations

import itertools
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from customs_svc.domain import rules as r
from customs_svc.domain.documents import DOCUMENT_TYPES
from customs_svc.domain.fx import FxSet, FxTable
from customs_svc.domain.sandbox import SandboxRates
from xborder_events.currencies import MINOR_UNITS

Country = Annotated[str, Field(pattern=r"^([A-Z]{2}|@[A-Z]+)$")]
Amount = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]
Rate = Annotated[Decimal, Field(ge=0, le=1, allow_inf_nan=False)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
DocumentType = Literal[
    "commercial_invoice", "proof_of_value", "certificate_of_origin", "import_licence",
    "product_specification", "buyer_identification", "safety_certificate",
]  # fmt: skip
assert set(DocumentType.__args__) == set(DOCUMENT_TYPES)  # type: ignore[attr-defined]


class RulesDataError(ValueError):
    """The rules file cannot be used; the message says where and why."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Rule(_Model):
    id: str = Field(pattern=r"^[A-Z0-9][A-Z0-9-]*$", max_length=64)
    countries: list[Country] = Field(min_length=1)
    effective_from: date
    effective_to: date | None = None
    source: str = Field(min_length=3)
    illustrative: bool = False

    @model_validator(mode="after")
    def _period(self) -> Self:
        if self.effective_to is not None and self.effective_to <= self.effective_from:
            raise ValueError("effective_to must be later than effective_from")
        return self

    def ref(self) -> r.RuleRef:
        """The rule's reference."""
        return r.RuleRef(
            self.id, self.source, self.effective_from, self.effective_to, self.illustrative
        )


class _Threshold(_Rule):
    kind: Literal["threshold"]
    currency: Currency
    threshold: Amount | None = None
    basis: r.ValueBasis
    relieves: r.Relief
    below_tax_collection: r.Collection = "import"
    flat_duty_per_subheading: Amount = Decimal(0)
    duty_basis: r.ValueBasis = "goods_and_shipping"


class _Excess(_Rule):
    kind: Literal["excess"]
    currency: Currency
    value_allowance: Amount
    weight_allowance_kg: Amount
    rate: Rate
    per_kg: Amount
    basis: r.ValueBasis = "goods"


class _Band(_Model):
    upto: Amount
    rate: Rate
    deduction: Amount


class _Bands(_Rule):
    kind: Literal["bands"]
    currency: Currency
    bands: list[_Band] = Field(min_length=1)
    basis: r.ValueBasis = "goods_and_shipping"
    collection: r.Collection = "checkout"

    @model_validator(mode="after")
    def _increasing(self) -> Self:
        if any(b.upto <= a.upto for a, b in itertools.pairwise(self.bands)):
            raise ValueError("bands must have strictly increasing `upto`")
        return self


class _Tax(_Rule):
    kind: Literal["vat", "gst", "icms"]
    rate: Rate
    gross_up: bool = False


class _Duties(_Rule):
    default: Rate
    chapters: dict[Annotated[str, Field(pattern=r"^\d{2}$")], Rate] = Field(default_factory=dict)


class _Fee(_Rule):
    name: str = Field(min_length=1, max_length=100)
    amount: Amount
    currency: Currency
    above_threshold_only: bool = True


class _Goods(_Rule):
    direction: Literal["import", "export"]
    prohibited: bool
    hs_prefixes: list[Annotated[str, Field(pattern=r"^\d{2,10}$")]] = Field(min_length=1)
    description: str = Field(min_length=3, max_length=200)
    documents: list[DocumentType] = Field(default_factory=list)
    refuse_at_precheck: bool = False


class _BuyerId(_Model):
    name: str
    pattern: str
    checksum: Literal["cpf", "none"] = "none"


class _Requirements(_Rule):
    documents: list[DocumentType]
    hold_documents: list[DocumentType] = Field(min_length=1)
    respond_days: Annotated[Decimal, Field(gt=0, le=365)]
    missed_deadline: r.DeadlineOutcome
    buyer_identifier: _BuyerId | None = None


class _Fx(_Model):
    id: str
    base: Currency
    as_of: datetime
    source: str
    illustrative: bool = True
    rates: dict[Currency, Annotated[Decimal, Field(gt=0)]]


class _Authority(_Model):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)
    name: str
    countries: list[Country] = Field(min_length=1)


class _Sandbox(_Model):
    country: Annotated[str, Field(pattern=r"^([A-Z]{2}|\*)$")]
    hold_rate: Rate
    return_rate: Rate
    confiscation_rate: Rate
    decision_days: Annotated[Decimal, Field(ge=0, le=365)]
    review_days: Annotated[Decimal, Field(ge=0, le=365)]

    def to_domain(self) -> SandboxRates:
        """The domain value."""
        return SandboxRates(
            self.hold_rate, self.return_rate, self.confiscation_rate,
            self.decision_days, self.review_days,
        )  # fmt: skip


class _File(_Model):
    schema_version: Literal[1]
    groups: dict[str, list[Annotated[str, Field(pattern=r"^[A-Z]{2}$")]]] = Field(
        default_factory=dict
    )
    fx: list[_Fx] = Field(min_length=1)
    regimes: list[Annotated[_Threshold | _Excess | _Bands, Field(discriminator="kind")]]
    taxes: list[_Tax]
    duty_rates: list[_Duties]
    fees: list[_Fee] = Field(default_factory=list)
    goods: list[_Goods] = Field(default_factory=list)
    requirements: list[_Requirements]
    authorities: list[_Authority]
    sandbox: list[_Sandbox]


@dataclass(frozen=True, slots=True)
class CustomsData:
    """Everything the data file holds, validated."""

    book: r.RuleBook
    fx: FxTable
    authorities: dict[str, r.AuthorityInfo]
    sandbox: dict[str, SandboxRates]

    def authority_for(self, country: str) -> r.AuthorityInfo | None:
        """The authority declarations of `country` are filed with."""
        return next((a for a in self.authorities.values() if country in a.countries), None)

    def sandbox_rates(self, country: str) -> SandboxRates:
        """The sandbox behaviour of the country's customs."""
        return self.sandbox.get(country) or self.sandbox["*"]


def _countries(codes: Iterable[str], groups: dict[str, list[str]], where: str) -> frozenset[str]:
    found: set[str] = set()
    for code in codes:
        if code.startswith("@"):
            if code[1:] not in groups:
                raise RulesDataError(f"{where}: unknown group {code}")
            found.update(groups[code[1:]])
        else:
            found.add(code)
    return frozenset(found)


def _check_currency(code: str, where: str) -> None:
    if code not in MINOR_UNITS:
        raise RulesDataError(f"{where}: {code} is not an ISO 4217 currency in circulation")


def _no_overlaps(table: str, rules: Sequence[Any]) -> None:
    for a, b in itertools.combinations(rules, 2):
        shared = a.countries & b.countries
        if shared and _overlap(a.ref, b.ref):
            raise RulesDataError(
                f"{table}: {a.ref.id} and {b.ref.id} are both in force for "
                f"{', '.join(sorted(shared))} on overlapping days"
            )


def _overlap(a: r.RuleRef, b: r.RuleRef) -> bool:
    a_end, b_end = a.effective_to or date.max, b.effective_to or date.max
    return a.effective_from < b_end and b.effective_from < a_end


def _regime(m: _Threshold | _Excess | _Bands, countries: frozenset[str]) -> r.Regime:
    ref = m.ref()
    if isinstance(m, _Threshold):
        return r.ThresholdRegime(
            ref, countries, m.currency, m.threshold, m.basis, m.relieves,
            m.below_tax_collection, m.flat_duty_per_subheading, m.duty_basis,
        )  # fmt: skip
    if isinstance(m, _Excess):
        return r.ExcessRegime(
            ref, countries, m.currency, m.value_allowance, m.weight_allowance_kg,
            m.rate, m.per_kg, m.basis,
        )  # fmt: skip
    bands = tuple(r.Band(b.upto, b.rate, b.deduction) for b in m.bands)
    return r.BandedRegime(ref, countries, m.currency, bands, m.basis, m.collection)


def _book(f: _File) -> r.RuleBook:
    g = f.groups

    def cs(rule: _Rule) -> frozenset[str]:
        return _countries(rule.countries, g, rule.id)

    for m in [*f.regimes, *f.fees]:
        _check_currency(m.currency, m.id)
    return r.RuleBook(
        regimes=[_regime(m, cs(m)) for m in f.regimes],
        taxes=[r.TaxRule(m.ref(), cs(m), m.kind, m.rate, m.gross_up) for m in f.taxes],
        duties=[r.DutyTable(m.ref(), cs(m), m.default, dict(m.chapters)) for m in f.duty_rates],
        fees=[
            r.FeeRule(m.ref(), cs(m), m.name, m.amount, m.currency, m.above_threshold_only)
            for m in f.fees
        ],
        goods=[
            r.GoodsRule(
                m.ref(),
                cs(m),
                m.direction,
                m.prohibited,
                tuple(m.hs_prefixes),
                m.description,
                tuple(m.documents),
                m.refuse_at_precheck,
            )
            for m in f.goods
        ],
        requirements=[_requirements(m, cs(m)) for m in f.requirements],
    )


def _requirements(m: _Requirements, countries: frozenset[str]) -> r.Requirements:
    buyer = m.buyer_identifier
    return r.Requirements(
        m.ref(), countries, tuple(m.documents), tuple(m.hold_documents), m.respond_days,
        m.missed_deadline,
        r.BuyerIdentifier(buyer.name, buyer.pattern, buyer.checksum) if buyer else None,
    )  # fmt: skip


def _check_book(book: r.RuleBook, f: _File) -> None:
    ids = [m.id for m in [*f.regimes, *f.taxes, *f.duty_rates, *f.fees, *f.goods,
                          *f.requirements, *f.fx]]  # fmt: skip
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise RulesDataError(f"rule ids must be unique: {', '.join(duplicates)}")
    for table, rules in (
        ("regimes", book.regimes),
        ("taxes", book.taxes),
        ("duty_rates", book.duties),
        ("requirements", book.requirements),
    ):
        _no_overlaps(table, rules)  # fmt: skip


def _fx(f: _File) -> FxTable:
    for m in f.fx:
        for code in [m.base, *m.rates]:
            _check_currency(code, m.id)
    sets = sorted(
        (FxSet(m.id, m.base, m.as_of, m.source, dict(m.rates), m.illustrative) for m in f.fx),
        key=lambda s: s.as_of,
    )
    return FxTable(sets)


def _authorities(f: _File) -> dict[str, r.AuthorityInfo]:
    found = {
        a.code: r.AuthorityInfo(a.code, a.name, _countries(a.countries, f.groups, a.code))
        for a in f.authorities
    }
    for a, b in itertools.combinations(found.values(), 2):
        if a.countries & b.countries:
            raise RulesDataError(f"authorities {a.code} and {b.code} share countries")
    return found


def _check_coverage(data: CustomsData) -> None:
    """Every country with a regime has requirements and an authority; the sandbox has `*`."""
    if "*" not in data.sandbox:
        raise RulesDataError('sandbox: a "*" entry (every other country) is required')
    for regime in data.book.regimes:
        for country in sorted(regime.countries):
            if data.authority_for(country) is None:
                raise RulesDataError(f"{regime.ref.id}: no authority for {country}")
            if not any(country in q.countries for q in data.book.requirements):
                raise RulesDataError(f"{regime.ref.id}: no requirements for {country}")


def parse(raw: dict[str, Any]) -> CustomsData:
    """Validate a parsed rules file and build the rule book; RulesDataError if it is wrong."""
    try:
        f = _File.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:10]
        )
        raise RulesDataError(problems) from None
    book = _book(f)
    _check_book(book, f)
    data = CustomsData(
        book=book,
        fx=_fx(f),
        authorities=_authorities(f),
        sandbox={s.country: s.to_domain() for s in f.sandbox},
    )
    _check_coverage(data)
    return data


def load_rules(path: Path | None = None) -> CustomsData:
    """Load the rules file (the packaged one by default); RulesDataError names the file."""
    where = str(path) if path else "customs_svc/data/rules.toml"
    try:
        if path is None:
            text = resources.files("customs_svc.data").joinpath("rules.toml").read_text("utf-8")
        else:
            text = path.read_text("utf-8")
        return parse(tomllib.loads(text))
    except (OSError, tomllib.TOMLDecodeError, RulesDataError) as exc:
        raise RulesDataError(f"{where}: {exc}") from None
