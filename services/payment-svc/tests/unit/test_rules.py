"""The small rules: RF references, webhook signatures, the refund policy, order totals."""

from decimal import Decimal

import pytest

from payment_svc.domain import references, signing
from payment_svc.domain.order import Line, Totals, verify_totals
from payment_svc.domain.payment import Breakdown
from payment_svc.domain.policy import RefundTrigger, capped, policy_amount

# -- RF references ---------------------------------------------------------------------------


def test_a_known_iso_11649_reference_is_valid() -> None:
    # The example of ISO 11649: RF18 5390 0754 7034
    assert references.is_valid("RF18 5390 0754 7034")
    assert references.make("539007547034") == "RF18539007547034"


def test_new_references_are_valid_and_normalised_for_matching() -> None:
    ref = references.new_reference()
    assert ref.startswith("RF")
    assert ref[4:6] == "XB"
    assert references.is_valid(ref)
    assert references.normalize(references.printable(ref).lower()) == ref


def test_a_mistyped_reference_fails_its_check_digits() -> None:
    ref = references.new_reference()
    last = "0" if ref[-1] != "0" else "1"
    assert not references.is_valid(ref[:-1] + last)
    assert not references.is_valid("RF")
    assert not references.is_valid("XX18539007547034")


# -- signatures ------------------------------------------------------------------------------

SECRET = b"a-secret-of-sixteen+"


def test_a_signature_verifies_within_the_tolerance() -> None:
    header = signing.sign(SECRET, b"{}", timestamp=1000)
    assert signing.verify((SECRET,), b"{}", header, now=1200, tolerance_s=300) == "valid"


@pytest.mark.parametrize(
    ("header", "body", "now", "verdict"),
    [
        (None, b"{}", 1000, "missing"),
        ("v1=abc", b"{}", 1000, "malformed"),
        ("t=abc,v1=abc", b"{}", 1000, "malformed"),
        (signing.sign(SECRET, b"{}", timestamp=1000), b"{}", 1301, "stale"),
        (signing.sign(SECRET, b"{}", timestamp=1000), b"{ }", 1000, "mismatch"),
        (signing.sign(b"another-secret!!", b"{}", timestamp=1000), b"{}", 1000, "mismatch"),
    ],
)
def test_what_a_signature_check_refuses(
    header: str | None, body: bytes, now: int, verdict: str
) -> None:
    assert signing.verify((SECRET,), body, header, now=now, tolerance_s=300) == verdict


def test_a_rotated_secret_is_accepted_among_several_signatures() -> None:
    old = signing.sign(b"old-secret-0123456", b"{}", timestamp=1000)
    new = signing.sign(SECRET, b"{}", timestamp=1000).split(",")[1]
    assert signing.verify((SECRET,), b"{}", f"{old},{new}", now=1000, tolerance_s=5) == "valid"


# -- the refund policy -----------------------------------------------------------------------

DDP = Breakdown(
    goods=Decimal("25.00"), shipping=Decimal("7.90"), duties=Decimal("3.10"), incoterm="DDP"
)
DAP = Breakdown(goods=Decimal("25.00"), shipping=Decimal("7.90"), duties=Decimal(0), incoterm="DAP")


@pytest.mark.parametrize(
    ("trigger", "breakdown", "total", "duties"),
    [
        (RefundTrigger.ORDER_CANCELLED, DDP, "36.00", "3.10"),
        (RefundTrigger.PARCEL_RETURNED, DDP, "28.10", "3.10"),
        (RefundTrigger.PARCEL_CONFISCATED, DDP, "36.00", "3.10"),
        (RefundTrigger.ORDER_CANCELLED, DAP, "32.90", "0"),
        (RefundTrigger.PARCEL_RETURNED, DAP, "25.00", "0"),
        (RefundTrigger.PARCEL_CONFISCATED, DAP, "32.90", "0"),
    ],
)
def test_the_policy_refunds(
    trigger: RefundTrigger, breakdown: Breakdown, total: str, duties: str
) -> None:
    amount = policy_amount(trigger, breakdown)
    assert (amount.total, amount.duties) == (Decimal(total), Decimal(duties))


def test_the_policy_is_capped_at_what_is_left() -> None:
    amount = capped(policy_amount(RefundTrigger.PARCEL_RETURNED, DDP), refundable=Decimal("2"))
    assert (amount.total, amount.duties) == (Decimal(2), Decimal(2))


# -- order totals ----------------------------------------------------------------------------


def _totals(**changes: object) -> Totals:
    values: dict[str, object] = {
        "currency": "USD",
        "items": Decimal("25.00"),
        "shipping": Decimal("7.90"),
        "duties": Decimal("3.10"),
        "grand_total": Decimal("36.00"),
        "incoterm": "DDP",
        "stated_in": frozenset({"USD"}),
    }
    return Totals(**{**values, **changes})  # type: ignore[arg-type]


LINES = [Line(quantity=2, unit_price=Decimal("12.50"), currency="USD")]


def test_consistent_totals_pass() -> None:
    assert verify_totals(LINES, _totals()) == []


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"items": Decimal("24.00"), "grand_total": Decimal("35.00")}, "sum of the lines"),
        ({"grand_total": Decimal("36.01")}, "items+shipping+duties"),
        ({"stated_in": frozenset({"USD", "EUR"})}, "order currency"),
        ({"shipping": Decimal("7.905"), "grand_total": Decimal("36.005")}, "non-negative amount"),
        ({"duties": None, "grand_total": Decimal("32.90")}, "DDP order"),
        ({"incoterm": "DAP"}, "DAP order"),
    ],
)
def test_inconsistent_totals_are_named(changes: dict[str, object], problem: str) -> None:
    problems = verify_totals(LINES, _totals(**changes))
    assert any(problem in p for p in problems), problems


def test_nothing_to_pay_is_a_problem() -> None:
    zero = [Line(quantity=1, unit_price=Decimal(0), currency="USD")]
    totals = _totals(
        items=Decimal(0), shipping=Decimal(0), duties=Decimal(0), grand_total=Decimal(0)
    )
    assert any("nothing to pay" in p for p in verify_totals(zero, totals))
