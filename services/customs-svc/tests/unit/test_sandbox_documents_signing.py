"""The sandbox authority's draws, document sniffing and webhook signatures."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from customs_svc.adapters.authorities import SandboxAuthority
from customs_svc.adapters.rules_data import load_rules
from customs_svc.domain.documents import DocumentRefused, sniff
from customs_svc.domain.sandbox import SandboxRates, draw, first_verdict, review_verdict
from customs_svc.domain.signing import sign, verify

DATA = load_rules()
NOW = datetime(2026, 3, 2, tzinfo=UTC)
RATES = SandboxRates(Decimal("0.2"), Decimal("0.5"), Decimal("0.1"), Decimal(1), Decimal(1))


def test_draws_are_deterministic_under_a_seed_and_spread() -> None:
    assert draw(7, "order", "import") == draw(7, "order", "import")
    assert draw(7, "order", "import") != draw(8, "order", "import")
    values = [draw(7, str(n)) for n in range(2000)]
    assert all(0 <= v < 1 for v in values)
    assert 0.45 < float(sum(values)) / len(values) < 0.55


def test_first_verdicts_by_draw() -> None:
    kw = {"prohibited": None, "restricted_documents": (), "hold_documents": ("proof_of_value",)}
    assert first_verdict(RATES, Decimal("0.05"), **kw).outcome == "confiscate"  # type: ignore[arg-type]
    held = first_verdict(RATES, Decimal("0.15"), **kw)  # type: ignore[arg-type]
    assert (held.outcome, held.documents) == ("hold", ("proof_of_value",))
    assert first_verdict(RATES, Decimal("0.31"), **kw).outcome == "clear"  # type: ignore[arg-type]


def test_prohibited_goods_are_always_confiscated_and_restricted_ones_held() -> None:
    never = SandboxRates(Decimal(0), Decimal(0), Decimal(0), Decimal(1), Decimal(1))
    verdict = first_verdict(never, Decimal("0.99"), prohibited="arms", restricted_documents=(),
                            hold_documents=())  # fmt: skip
    assert (verdict.outcome, verdict.reason) == ("confiscate", "prohibited_goods")
    licence = ("import_licence",)
    verdict = first_verdict(never, Decimal("0.99"), prohibited=None,
                            restricted_documents=licence, hold_documents=())  # fmt: skip
    assert (verdict.outcome, verdict.reason) == ("hold", "restricted_goods")


def test_review_returns_rejected_documents() -> None:
    assert review_verdict(RATES, Decimal("0.49")).outcome == "return"
    assert review_verdict(RATES, Decimal("0.5")).outcome == "clear"


def test_hard_lanes_hold_more_and_settings_override_the_data() -> None:
    sandbox = SandboxAuthority(DATA, seed=1, seconds_per_day=0.01,
                               overrides={"*": {"hold_rate": Decimal(1)},
                                          "RU": {"return_rate": Decimal(0)}})  # fmt: skip
    assert DATA.sandbox_rates("RU").hold_rate > DATA.sandbox_rates("US").hold_rate
    assert DATA.sandbox_rates("BR").hold_rate > DATA.sandbox_rates("US").hold_rate
    assert sandbox.rates("US").hold_rate == 1
    assert sandbox.rates("RU").return_rate == 0
    assert sandbox.rates("RU").hold_rate == 1


def test_the_same_seed_and_order_decide_the_same() -> None:
    order_id, decl = UUID(int=42), uuid4()
    outcomes = set()
    for _ in range(2):
        sandbox = SandboxAuthority(DATA, seed=5, seconds_per_day=0.01)
        decision = sandbox.first_decision(
            declaration_id=decl, order_id=order_id, checkpoint="import", country="RU",
            prohibited=None, restricted_documents=(), hold_documents=("proof_of_value",),
            respond_days=Decimal(15), now=NOW,
        )  # fmt: skip
        outcomes.add(decision.outcome)
    assert len(outcomes) == 1


def test_respond_by_is_compressed_in_the_sandbox() -> None:
    sandbox = SandboxAuthority(DATA, seed=1, seconds_per_day=2.0)
    assert (sandbox.respond_by(country="US", held_at=NOW, days=Decimal(10)) - NOW).seconds == 20


@pytest.mark.parametrize(
    ("head", "media_type"),
    [(b"%PDF-1.7\n", "application/pdf"), (b"\x89PNG\r\n\x1a\n", "image/png"),
     (b"\xff\xd8\xff\xe0", "image/jpeg")],
)  # fmt: skip
def test_allowed_documents_are_recognised_by_content(head: bytes, media_type: str) -> None:
    assert sniff(head, size=100) == media_type


@pytest.mark.parametrize(
    ("head", "size", "code"),
    [(b"", 0, "document-empty"), (b"MZ\x90\x00", 100, "document-executable"),
     (b"\x7fELF\x02", 100, "document-executable"), (b"hello", 100, "document-type-not-allowed")],
)  # fmt: skip
def test_other_content_is_refused(head: bytes, size: int, code: str) -> None:
    with pytest.raises(DocumentRefused) as refused:
        sniff(head, size=size)
    assert refused.value.code == code


def test_signatures() -> None:
    body = b'{"decision_id": "d1"}'
    header = sign(b"secret", body, timestamp=1000)
    assert verify((b"secret",), body, header, now=1010, tolerance_s=300)
    assert not verify((b"other",), body, header, now=1010, tolerance_s=300)
    assert not verify((b"secret",), body + b" ", header, now=1010, tolerance_s=300)
    assert not verify((b"secret",), body, header, now=2000, tolerance_s=300)
    assert not verify((b"secret",), body, None, now=1010, tolerance_s=300)
