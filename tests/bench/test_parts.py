"""The benchmark's helpers: where pgbench comes from, the memory row, the load generator's
answers, and the profile summary."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bench.__main__ import PgbenchMissing, choose_pgbench, memory_label, memory_section
from bench.events import OrderTrack, Tracker
from bench.loadgen import _read_response
from bench.profiling import summarize


def test_pgbench_from_the_wheel_when_it_is_there(tmp_path: Path):
    bundled = tmp_path / "pgbench"
    bundled.write_text("")
    assert choose_pgbench(bundled, "/usr/bin/pgbench") == bundled


def test_pgbench_falls_back_to_path(tmp_path: Path):
    assert choose_pgbench(tmp_path / "missing", "/usr/bin/pgbench") == Path("/usr/bin/pgbench")
    assert choose_pgbench(None, "/usr/bin/pgbench") == Path("/usr/bin/pgbench")


def test_no_pgbench_is_a_clear_error(tmp_path: Path):
    with pytest.raises(PgbenchMissing, match=r"pgbench is missing.*postgresql-client"):
        choose_pgbench(tmp_path / "missing", None)


def test_memory_short_of_the_target_says_so():
    per = {"order-svc": {"peak_rss_mb": 120.0, "rss_mb": 110.0}}
    short = memory_section(1597, 10_000, per)
    assert short["at_target"] is False
    assert short["note"].startswith("not at target: read after 1597 of 10000")
    assert "NOT AT TARGET" in memory_label(short)
    full = memory_section(10_000, 10_000, per)
    assert full["at_target"] is True
    assert "note" not in full
    assert memory_label(full) == "4. peak RSS after 10,000 orders"


def answer(raw: bytes) -> tuple[int, bytes]:
    async def read() -> tuple[int, bytes]:
        reader = asyncio.StreamReader()
        reader.feed_data(raw)
        reader.feed_eof()
        return await _read_response(reader)

    return asyncio.run(read())


def test_the_load_generator_reads_the_answers_body():
    body = b'{"id":"0b7e","status":"placed"}'
    raw = b"HTTP/1.1 201 Created\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
    assert answer(raw) == (201, body)
    chunked = (
        b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'4\r\n{"id\r\n3\r\n":1\r\n1\r\n}\r\n0\r\n\r\n'
    )
    assert answer(chunked) == (201, b'{"id":1}')


def test_the_profile_summary_ranks_functions_by_samples():
    root = 'process 7:"order-svc api";run (asyncio/base_events.py:1)'
    collapsed = "\n".join(
        [
            f"{root};handle (order_svc/api.py:10);execute (sqlalchemy/engine.py:5) 6",
            f"{root};handle (order_svc/api.py:10) 2",
            f"{root};select (selectors.py:3) 2",
        ]
    )
    got = summarize(collapsed)
    assert got["samples"] == 10
    assert got["self"][0] == {"frame": "execute (sqlalchemy/engine.py:5)", "share": 0.6}
    assert got["total"][0] == {"frame": "run (asyncio/base_events.py:1)", "share": 1.0}
    assert got["innermost_own_code"] == [{"frame": "handle (order_svc/api.py:10)", "share": 0.8}]


def test_samples_in_the_event_loop_itself_are_counted_apart():
    collapsed = (
        'process 7:"svc";main (xborder_platform/cli.py:84);Runner.run (asyncio/runners.py:86) 3\n'
        'process 7:"svc";main (xborder_platform/cli.py:84);handle (order_svc/api.py:10) 1\n'
    )
    assert summarize(collapsed)["event_loop_share"] == 0.75


def test_orders_in_flight_are_counted_by_their_last_event():
    tracker = Tracker("127.0.0.1:9")
    tracker.orders["a"] = OrderTrack(placed_events=1)
    tracker.orders["b"] = OrderTrack(placed_events=1)
    tracker.orders["c"] = OrderTrack(placed_events=1, closings={"OrderCompleted": 1})
    tracker.stage.update(a="PaymentSettled", b="PaymentSettled", c="OrderCompleted")
    assert tracker.in_flight_stages() == {"PaymentSettled": 2}


class _Record:
    def __init__(self, key: str, ce_type: str, offset: int) -> None:
        self.topic, self.partition, self.offset = "xborder.shipping.v1", 0, offset
        self.key, self.headers, self.value = key.encode(), [("ce_type", ce_type.encode())], b"{}"


def test_an_eta_revision_does_not_hide_the_step_an_order_is_at():
    tracker = Tracker("127.0.0.1:9")
    tracker._add(_Record("o1", "xborder.ParcelInTransit.v1", 0), 0.0)
    tracker._add(_Record("o1", "xborder.DeliveryEstimateRevised.v1", 1), 0.0)
    assert tracker.stage == {"o1": "ParcelInTransit"}
    assert tracker.ends == {("xborder.shipping.v1", 0): 2}
