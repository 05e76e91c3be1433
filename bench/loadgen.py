"""A closed-loop HTTP/1.1 keep-alive load generator, run in its own process.

Each connection sends one request, reads the whole answer, and sends the next; requests made
during the warm-up are not counted. Raw asyncio streams (no HTTP library) keep the client's own
cost per request small: `trivial_server` measures that ceiling.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: What a request body is made of: `orders` (order-svc's POST /v1/orders), `baseline` (the
#: FastAPI + asyncpg endpoint) or `trivial` (a GET with no body).
Kind = str


@dataclass
class LoadResult:
    """What one load run measured (latencies in seconds, of the counted requests only)."""

    kind: str
    connections: int
    duration_s: float
    ok: int = 0
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    first_error: str | None = None
    #: The `id` of every 201 answer (`orders` only), warm-up included: each is an accepted order.
    accepted_ids: list[str] = field(default_factory=list)
    #: Requests sent whose answer never came (the connection failed): accepted or not, unknown.
    unanswered: int = 0

    @property
    def rps(self) -> float:
        """Successful requests per second over the counted window."""
        return self.ok / self.duration_s if self.duration_s else 0.0


def order_body(merchant: str, ref: str) -> dict[str, Any]:
    """An order that completes in the sandboxes: a card that settles, DAP (no landed-cost quote),
    an unknown shipping quote (booked on the lane's default service)."""
    return {
        "merchant_id": merchant,
        "merchant_order_ref": ref,
        "buyer": {
            "name": "Ana Souza",
            "email": "ana@example.com",
            "phone": "+49 30 1234567",
        },
        "ship_from_country": "CN",
        "ship_to": {
            "name": "Ana Souza",
            "line1": "Unter den Linden 1",
            "city": "Berlin",
            "postal_code": "10117",
            "country": "DE",
        },
        "items": [
            {
                "sku": "CASE-IP15-BLK",
                "title": "Phone case, silicone",
                "hs_code": "392690",
                "origin_country": "CN",
                "quantity": 2,
                "unit_price": "12.50",
                "weight_grams": 80,
            }
        ],
        "currency": "EUR",
        "incoterm": "DAP",
        "shipping": {"quote_id": str(uuid.uuid4()), "price": "7.90"},
        "payment": {"method": "card", "provider": "adyen", "token": "tok_visa"},
    }


def baseline_body(ref: str) -> dict[str, Any]:
    """The baseline endpoint's body: eleven fields, like a small order."""
    return {
        "merchant_id": "demo-merchant",
        "merchant_order_ref": ref,
        "buyer_name": "Ana Souza",
        "buyer_email": "ana@example.com",
        "ship_to_country": "DE",
        "ship_from_country": "CN",
        "sku": "CASE-IP15-BLK",
        "hs_code": "392690",
        "quantity": 2,
        "unit_price": "12.50",
        "currency": "EUR",
    }


def _request_factory(
    kind: Kind, host: str, path: str, api_key: str, merchant: str
) -> Callable[[int], bytes]:
    prefix = uuid.uuid4().hex[:10]
    if kind == "trivial":
        raw = f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
        return lambda _i: raw

    def make(i: int) -> bytes:
        ref = f"BENCH-{prefix}-{i}"
        if kind == "orders":
            body = json.dumps(order_body(merchant, ref)).encode()
            extra = f"X-API-Key: {api_key}\r\nIdempotency-Key: {ref}\r\n"
        else:
            body = json.dumps(baseline_body(ref)).encode()
            extra = ""
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{extra}\r\n"
        )
        return head.encode() + body

    return make


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """The status and the body of one answer."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        lname = name.strip().lower()
        if lname == b"content-length":
            length = int(value)
        elif lname == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    body = b""
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            body += (await reader.readexactly(size + 2))[:size]
            if size == 0:
                break
    elif length:
        body = await reader.readexactly(length)
    return status, body


async def _run(
    kind: Kind,
    url: str,
    connections: int,
    duration_s: float,
    warmup_s: float,
    api_key: str,
    merchant: str,
) -> LoadResult:
    rest = url.split("://", 1)[1]
    hostport, _, path = rest.partition("/")
    host, _, port = hostport.partition(":")
    make = _request_factory(kind, hostport, "/" + path, api_key, merchant)
    result = LoadResult(kind=kind, connections=connections, duration_s=duration_s)
    start = time.perf_counter()
    counting_from = start + warmup_s
    stop_at = counting_from + duration_s
    counter = iter(range(10**12))

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while True:
                request = make(next(counter))
                sent = time.perf_counter()
                if sent >= stop_at:
                    return
                writer.write(request)
                try:
                    status, body = await _read_response(reader)
                except (asyncio.IncompleteReadError, ConnectionError) as exc:
                    result.errors += 1
                    result.unanswered += 1
                    result.first_error = result.first_error or repr(exc)
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, int(port))
                    continue
                done = time.perf_counter()
                if kind == "orders" and status == 201:
                    result.accepted_ids.append(str(json.loads(body)["id"]))
                if sent < counting_from:
                    continue
                result.statuses[status] = result.statuses.get(status, 0) + 1
                if 200 <= status < 300:
                    result.ok += 1
                    result.latencies.append(done - sent)
                else:
                    result.errors += 1
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return result


def _child(conn: Any, args: tuple[Any, ...]) -> None:
    try:
        conn.send(asyncio.run(_run(*args)))
    except BaseException as exc:  # report any failure to the parent instead of hanging it
        conn.send(exc)
    finally:
        conn.close()


def run_load(
    kind: Kind,
    url: str,
    *,
    connections: int,
    duration_s: float,
    warmup_s: float = 2.0,
    api_key: str = "",
    merchant: str = "",
) -> LoadResult:
    """Run the load in a separate process (so it is not limited by this one) and return it."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    args = (kind, url, connections, duration_s, warmup_s, api_key, merchant)
    proc = ctx.Process(target=_child, args=(child, args), daemon=True)
    proc.start()
    child.close()
    try:
        if not parent.poll(duration_s + warmup_s + 60):
            raise RuntimeError(f"load generator ({kind}) did not finish")
        got = parent.recv()
    finally:
        proc.join(timeout=10)
        if proc.is_alive():
            proc.kill()
    if isinstance(got, BaseException):
        raise RuntimeError(f"load generator ({kind}) failed: {got!r}") from got
    assert isinstance(got, LoadResult)
    return got


# --- the trivial endpoint: what the load generator itself can do ----------------------------


class _Trivial(asyncio.Protocol):
    _reply = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        n = self.buffer.count(b"\r\n\r\n")
        if n:
            self.buffer = self.buffer.rsplit(b"\r\n\r\n", 1)[1]
            self.transport.write(self._reply * n)


async def _serve_trivial(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Trivial, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def _trivial_main(port: int) -> None:
    asyncio.run(_serve_trivial(port))


def start_trivial_server(port: int) -> Any:
    """A GET endpoint that costs next to nothing, in its own process; kill() it when done."""
    proc = mp.get_context("spawn").Process(target=_trivial_main, args=(port,), daemon=True)
    proc.start()
    return proc
