"""The double-entry ledger: every money movement is a balanced set of entries.

Convention: an entry moves `amount` of one currency INTO its account (positive) or OUT of it
(negative). A transaction is a set of transfers, so its entries sum to zero in every currency;
an account's balance is the net amount that moved into it. Entries are never updated or deleted:
a correction is a new transaction.

Where the money goes for one payment (C: the buyer's currency, S: the merchant's settlement
currency):

    authorize   buyer_funds -> authorization_holds                      (C)
    capture     authorization_holds (cards, wallets)                    (C)
                or unapplied_funds (bank wires) -> provider_clearing
                provider_clearing -> provider_fees                      (C)  the provider's fee
                provider_clearing -> duties_payable                     (C)  DDP prepaid duties
                provider_clearing -> fx_conversion (C), fx_conversion -> merchant_payable (S)
    release     authorization_holds -> buyer_funds                      (void, failed capture)
    receipt     buyer_funds -> unapplied_funds                          (a bank wire arrived)
    return      unapplied_funds -> payer_returns                        (money sent back unused)
    refund      merchant_payable -> fx_conversion (S), fx_conversion -> provider_clearing (C)
                duties_payable -> provider_clearing                     (C)  prepaid duties back
                provider_clearing -> buyer_refunds                      (C)

When C and S are the same, the fx_conversion legs are skipped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID, uuid4

from payment_svc.domain.money import ZERO, fits


class AccountName(StrEnum):
    """The ledger's accounts; some are kept per party (a provider, a merchant)."""

    BUYER_FUNDS = "buyer_funds"
    AUTHORIZATION_HOLDS = "authorization_holds"
    PROVIDER_CLEARING = "provider_clearing"
    PROVIDER_FEES = "provider_fees"
    DUTIES_PAYABLE = "duties_payable"
    FX_CONVERSION = "fx_conversion"
    MERCHANT_PAYABLE = "merchant_payable"
    BUYER_REFUNDS = "buyer_refunds"
    UNAPPLIED_FUNDS = "unapplied_funds"
    PAYER_RETURNS = "payer_returns"


#: Accounts kept per party, and what the party is.
PARTY_OF: Mapping[AccountName, str] = {
    AccountName.PROVIDER_CLEARING: "provider",
    AccountName.PROVIDER_FEES: "provider",
    AccountName.MERCHANT_PAYABLE: "merchant",
}


class TransactionKind(StrEnum):
    """What a transaction records."""

    AUTHORIZE = "authorize"
    CAPTURE = "capture"
    RELEASE = "release"
    RECEIPT = "receipt"
    RETURN = "return"
    REFUND = "refund"


class UnbalancedTransaction(ValueError):
    """Entries that do not sum to zero in some currency."""


@dataclass(frozen=True, slots=True)
class Account:
    """An account, e.g. `merchant_payable:demo-merchant` or `duties_payable`."""

    name: AccountName
    party: str = ""

    def __post_init__(self) -> None:
        if (self.name in PARTY_OF) != bool(self.party):
            kind = PARTY_OF.get(self.name)
            raise ValueError(
                f"{self.name} is kept per {kind}" if kind else f"{self.name} has no party"
            )

    @property
    def code(self) -> str:
        """The account's code: `name` or `name:party`."""
        return f"{self.name.value}:{self.party}" if self.party else self.name.value

    @classmethod
    def parse(cls, code: str) -> Account:
        """The account of a code; ValueError when it names none."""
        name, _, party = code.partition(":")
        try:
            account_name = AccountName(name)
        except ValueError:
            raise ValueError(f"unknown account {name!r}") from None
        return cls(account_name, party)


BUYER_FUNDS = Account(AccountName.BUYER_FUNDS)
AUTHORIZATION_HOLDS = Account(AccountName.AUTHORIZATION_HOLDS)
DUTIES_PAYABLE = Account(AccountName.DUTIES_PAYABLE)
FX_CONVERSION = Account(AccountName.FX_CONVERSION)
BUYER_REFUNDS = Account(AccountName.BUYER_REFUNDS)
UNAPPLIED_FUNDS = Account(AccountName.UNAPPLIED_FUNDS)
PAYER_RETURNS = Account(AccountName.PAYER_RETURNS)


def provider_clearing(provider: str) -> Account:
    """Money held by a payment provider for us."""
    return Account(AccountName.PROVIDER_CLEARING, provider)


def provider_fees(provider: str) -> Account:
    """Fees a payment provider kept."""
    return Account(AccountName.PROVIDER_FEES, provider)


def merchant_payable(merchant_id: str) -> Account:
    """What is owed to a merchant, in its settlement currency."""
    return Account(AccountName.MERCHANT_PAYABLE, merchant_id)


@dataclass(frozen=True, slots=True)
class Entry:
    """`amount` of `currency` moved into (positive) or out of (negative) `account`."""

    account: Account
    currency: str
    amount: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class Transaction:
    """One balanced money movement of one payment (or of no payment: an unmatched receipt)."""

    kind: TransactionKind
    payment_id: UUID | None
    posted_at: datetime
    entries: tuple[Entry, ...]
    id: UUID = field(default_factory=uuid4)

    def __post_init__(self) -> None:
        if not self.entries:
            raise UnbalancedTransaction("a transaction has entries")
        for entry in self.entries:
            if not fits(entry.amount, entry.currency):
                raise ValueError(f"{entry.amount} has more decimals than {entry.currency}")
        unbalanced = {c: s for c, s in sums(self.entries).items() if s != 0}
        if unbalanced:
            raise UnbalancedTransaction(f"entries do not sum to zero: {unbalanced}")


def sums(entries: Iterable[Entry]) -> dict[str, Decimal]:
    """The sum of the entries in each currency."""
    total: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for entry in entries:
        total[entry.currency] += entry.amount
    return dict(total)


def balances(entries: Iterable[Entry]) -> dict[tuple[str, str], Decimal]:
    """Balance of each (account code, currency) over `entries`."""
    total: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for entry in entries:
        total[(entry.account.code, entry.currency)] += entry.amount
    return dict(total)


class Journal:
    """Collects transfers into one transaction."""

    def __init__(self) -> None:
        self._entries: list[Entry] = []

    def move(self, amount: Decimal, currency: str, *, source: Account, target: Account) -> None:
        """Move `amount` from `source` to `target` (nothing when it is zero)."""
        if amount == 0:
            return
        self._entries.append(Entry(source, currency, -amount))
        self._entries.append(Entry(target, currency, amount))

    def post(self, kind: TransactionKind, *, payment_id: UUID | None, at: datetime) -> Transaction:
        """The transaction of the transfers so far."""
        return Transaction(
            kind=kind, payment_id=payment_id, posted_at=at, entries=tuple(self._entries)
        )

    @property
    def empty(self) -> bool:
        """Whether nothing was moved."""
        return not self._entries
