"""The integrity rules of `make bench`, as pure functions of what was observed.

Two sources are compared: what the HTTP clients were told (the ids of the 201 answers) and what
the topics say (read back from offset 0 by `bench.events.Tracker`). Consumer progress is judged
by each group's committed offsets against the offsets actually read, never by a lag gauge: on
Tansu a partition's reported end is the last batch's base offset + 1, so "lag 0" can be false.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from bench.events import OrderTrack

#: (topic, partition)
Partition = tuple[str, int]


@dataclass(frozen=True)
class Accepted:
    """What the clients were told: the ids of the 201 answers, and how many requests got no
    answer at all (those orders may or may not exist)."""

    ids: Collection[str]
    unanswered: int = 0


def order_problems(accepted: Accepted, orders: Mapping[str, OrderTrack]) -> list[str]:
    """Every accepted order published exactly once and completed exactly once, with one payment
    and one shipment; nothing published that no client was told about (beyond the requests that
    got no answer)."""
    problems: list[str] = []
    ids = set(accepted.ids)
    if len(ids) != len(accepted.ids):
        problems.append(f"{len(accepted.ids) - len(ids)} order ids answered twice with 201")
    placed = {oid: o for oid, o in orders.items() if o.placed_events}
    never = sorted(ids - set(placed))
    if never:
        problems.append(f"{len(never)} accepted orders never published (e.g. {never[0]})")
    unknown = sorted(set(placed) - ids)
    if len(unknown) > accepted.unanswered:
        problems.append(
            f"{len(unknown)} orders published that no 201 answered "
            f"(only {accepted.unanswered} requests went unanswered; e.g. {unknown[0]})"
        )
    checks = (
        ("published more than once", lambda o: o.placed_events > 1),
        ("unfinished", lambda o: not o.closings),
        (
            "closed otherwise than OrderCompleted",
            lambda o: bool(o.closings) and set(o.closings) != {"OrderCompleted"},
        ),
        ("closed twice", lambda o: sum(o.closings.values()) > 1),
        ("with more than one payment", lambda o: len(o.payment_ids) > 1),
        ("without a payment", lambda o: not o.payment_ids),
        ("with more than one shipment", lambda o: len(o.shipment_ids) > 1),
        ("without a shipment", lambda o: not o.shipment_ids),
    )
    for label, bad in checks:
        found = sorted(oid for oid, o in placed.items() if bad(o))
        if found:
            problems.append(f"{len(found)} orders {label} (e.g. {found[0]})")
    return problems


def offset_problems(
    committed: Mapping[str, Mapping[Partition, int | None]],
    ends: Mapping[Partition, int],
    expected_groups: Collection[str],
) -> tuple[list[str], dict[str, int]]:
    """Each consumer group has committed, on every partition of the topics it consumes, the
    offset after the last record read from that partition (so lag is really zero).

    A group consumes a topic when it committed on any of its partitions; each expected group
    must have committed somewhere. Returns the problems and each group's remaining lag (records
    between its committed offsets and the ends read)."""
    problems: list[str] = []
    lag: dict[str, int] = {}
    for group in sorted(expected_groups):
        if not any(v is not None for v in (committed.get(group) or {}).values()):
            problems.append(f"consumer group {group} has committed no offset")
    for group, offsets in sorted(committed.items()):
        topics = {tp[0] for tp, off in offsets.items() if off is not None}
        behind = 0
        for tp in sorted(p for p in ends if p[0] in topics):
            end, got = ends[tp], offsets.get(tp)
            position = got if got is not None else 0
            if position > end:
                problems.append(f"{group} committed {position} on {tp[0]}[{tp[1]}], past {end}")
            behind += max(0, end - position)
        lag[group] = behind
        if behind:
            problems.append(f"consumer group {group} is {behind} records behind what was read")
    return problems, lag
