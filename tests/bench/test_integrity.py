"""The integrity section compares what HTTP accepted with what the topics say, and the consumer
groups' committed offsets with what was actually read (never a lag gauge)."""

from __future__ import annotations

from bench.checks import Accepted, offset_problems, order_problems
from bench.events import OrderTrack


def finished(placed_events: int = 1) -> OrderTrack:
    return OrderTrack(
        placed_at=1.0,
        placed_events=placed_events,
        closings={"OrderCompleted": 1},
        payment_ids={"p"},
        shipment_ids={"s"},
    )


def test_every_accepted_order_published_once_and_completed_passes():
    orders = {"a": finished(), "b": finished()}
    assert order_problems(Accepted(ids=["a", "b"]), orders) == []


def test_an_order_accepted_over_http_but_never_published_fails():
    orders = {"a": finished()}
    problems = order_problems(Accepted(ids=["a", "b"]), orders)
    assert problems == ["1 accepted orders never published (e.g. b)"]


def test_an_order_published_twice_fails():
    problems = order_problems(Accepted(ids=["a"]), {"a": finished(placed_events=2)})
    assert problems == ["1 orders published more than once (e.g. a)"]


def test_the_same_id_answered_twice_fails():
    problems = order_problems(Accepted(ids=["a", "a"]), {"a": finished()})
    assert problems == ["1 order ids answered twice with 201"]


def test_orders_published_without_a_201_fail_beyond_the_unanswered_requests():
    orders = {"a": finished(), "x": finished(), "y": finished()}
    assert order_problems(Accepted(ids=["a"], unanswered=2), orders) == []
    problems = order_problems(Accepted(ids=["a"], unanswered=1), orders)
    assert len(problems) == 1
    assert problems[0].startswith("2 orders published that no 201")


def test_unfinished_duplicated_and_unpaid_orders_fail():
    orders = {
        "open": OrderTrack(placed_at=1.0, placed_events=1, payment_ids={"p"}, shipment_ids={"s"}),
        "twice": OrderTrack(
            placed_at=1.0,
            placed_events=1,
            closings={"OrderCompleted": 2},
            payment_ids={"p", "q"},
            shipment_ids={"s"},
        ),
    }
    problems = order_problems(Accepted(ids=["open", "twice"]), orders)
    assert problems == [
        "1 orders unfinished (e.g. open)",
        "1 orders closed twice (e.g. twice)",
        "1 orders with more than one payment (e.g. twice)",
    ]


ENDS = {("orders", 0): 26, ("orders", 1): 24, ("payments", 0): 10}


def test_groups_committed_up_to_what_was_read_pass():
    committed = {
        "order-svc": {("orders", 0): 26, ("orders", 1): 24, ("payments", 0): 10},
        "payment-svc": {("orders", 0): 26, ("orders", 1): 24, ("payments", 0): None},
    }
    problems, lag = offset_problems(committed, ENDS, ["order-svc", "payment-svc"])
    assert problems == []
    assert lag == {"order-svc": 0, "payment-svc": 0}


def test_lag_zero_by_the_brokers_end_offset_is_not_enough():
    # Tansu reports a partition's end as the last batch's base offset + 1 (here 1 and 1): a
    # group that committed those would show lag 0 on the gauge, yet 48 records are unread.
    committed = {"order-svc": {("orders", 0): 1, ("orders", 1): 1, ("payments", 0): None}}
    problems, lag = offset_problems(committed, ENDS, ["order-svc"])
    assert lag == {"order-svc": 48}
    assert problems == ["consumer group order-svc is 48 records behind what was read"]


def test_an_uncommitted_partition_of_a_consumed_topic_counts_from_zero():
    committed = {"order-svc": {("orders", 0): 26, ("orders", 1): None}}
    problems, lag = offset_problems(committed, ENDS, ["order-svc"])
    assert lag == {"order-svc": 24}
    assert problems


def test_a_service_whose_group_committed_nothing_fails():
    problems, _lag = offset_problems({}, ENDS, ["customs-svc"])
    assert problems == ["consumer group customs-svc has committed no offset"]


def test_a_commit_past_the_records_read_fails():
    committed = {"order-svc": {("orders", 0): 30, ("orders", 1): 24}}
    problems, _lag = offset_problems(committed, ENDS, ["order-svc"])
    assert problems == ["order-svc committed 30 on orders[0], past 26"]
