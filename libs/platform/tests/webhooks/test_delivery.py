"""The sender against a real HTTP receiver on loopback and real PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import json
import ssl
import time
from collections.abc import AsyncIterator

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from prometheus_client import CollectorRegistry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from xborder_platform.webhooks import WebhookMetrics, WebhookSender, WebhookSettings

from .support import (
    CUSTOMS_HOLD,
    STATUS_CHANGED,
    Receiver,
    attempts,
    build_app,
    client_for,
    count,
    deliveries,
    endpoints,
    enqueue,
    eventually,
    fake_resolver,
    fast_settings,
    issue,
)

pytestmark = pytest.mark.integration

BASE = "/v1/webhook-endpoints"


@contextlib.asynccontextmanager
async def running(*senders: WebhookSender) -> AsyncIterator[None]:
    for sender in senders:
        sender.start()
    try:
        yield
    finally:
        for sender in senders:
            await sender.stop()


async def register(engine, settings: WebhookSettings, url: str, **body) -> tuple[dict, object]:
    """Register an endpoint of merchant m-1 over the API; (the endpoint, an unopened client)."""
    app = build_app(engine, settings)
    key = await issue(engine, "storefront", "m-1")
    async with client_for(app, key) as client:
        answer = await client.post(
            BASE, json={"url": url, "event_types": [STATUS_CHANGED, CUSTOMS_HOLD], **body}
        )
    assert answer.status_code == 201, answer.text
    return answer.json(), client_for(app, key)


def verify(secret: str, received) -> dict:
    return Webhook(secret).verify(received.body, received.headers)


async def test_deliveries_arrive_signed_and_in_order_with_two_senders(
    engine: AsyncEngine, receiver: Receiver
) -> None:
    settings = fast_settings()
    endpoint, client = await register(engine, settings, receiver.url())
    events = [
        await enqueue(engine, order_id=f"o-{n % 3}", payload={"order_id": f"o-{n % 3}", "n": n})
        for n in range(12)
    ]
    senders = [WebhookSender(engine, settings=settings) for _ in range(2)]
    async with running(*senders):
        await eventually(lambda: len(receiver.requests) >= 12)
        await asyncio.sleep(0.2)  # nothing more comes
    assert len(receiver.requests) == 12  # each exactly once, though two senders ran
    assert sorted(r.headers["webhook-id"] for r in receiver.requests) == sorted(map(str, events))
    by_order: dict[str, list[int]] = {}
    for received in receiver.requests:
        body = verify(endpoint["secret"], received)
        assert body["type"] == "order.status_changed"
        n = body["data"]["n"]
        assert body["data"] == {"order_id": f"o-{n % 3}", "n": n}
        assert received.headers["webhook-id"] == str(events[n])
        assert received.headers["content-type"] == "application/json"
        assert received.path == "/hook"
        by_order.setdefault(body["data"]["order_id"], []).append(n)
    # Each order's deliveries arrive in the order they were queued.
    assert by_order == {f"o-{k}": list(range(k, 12, 3)) for k in range(3)}
    async with client:
        page = (await client.get(f"{BASE}/{endpoint['id']}/deliveries")).json()
    assert [item["status"] for item in page["items"]] == ["delivered"] * 12
    assert all(len(item["attempts"]) == 1 for item in page["items"])
    assert page["items"][0]["attempts"][0]["status_code"] == 200
    assert page["items"][0]["next_attempt_at"] is None


async def test_a_failing_receiver_gets_the_delivery_once_after_retries(engine: AsyncEngine) -> None:
    receiver = await Receiver.started(script=[500, 500, 500])
    settings = fast_settings()
    endpoint, client = await register(engine, settings, receiver.url())
    first = await enqueue(engine)
    second = await enqueue(engine)
    registry = CollectorRegistry()
    metrics = WebhookMetrics(registry, service="test-svc")
    try:
        async with running(WebhookSender(engine, settings=settings, metrics=metrics)):
            await eventually(lambda: len(receiver.accepted) >= 2)
    finally:
        await receiver.close()
    assert [r.status for r in receiver.requests] == [500, 500, 500, 200, 200]
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert ids == [str(first)] * 4 + [str(second)]  # the second waited for the first
    async with client:
        page = (await client.get(f"{BASE}/{endpoint['id']}/deliveries")).json()
        one = (await client.get(f"{BASE}/{endpoint['id']}")).json()
    older = page["items"][1]
    assert older["event_id"] == str(first)
    assert older["status"] == "delivered"
    assert older["attempt_count"] == 4
    assert [a["status_code"] for a in older["attempts"]] == [500, 500, 500, 200]
    assert [a["error"] for a in older["attempts"]] == ["HTTP 500"] * 3 + [None]
    assert all(a["latency_ms"] >= 0 for a in older["attempts"])
    times = [dt.datetime.fromisoformat(a["attempted_at"]) for a in older["attempts"]]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert all(gap >= 0.05 * 0.9 for gap in gaps)  # the (scaled) schedule was kept
    assert one["failing_since"] is None
    for outcome, expected in (("delivered", 2), ("failed", 3), ("refused", 0)):
        labels = {"service": "test-svc", "outcome": outcome}
        assert (registry.get_sample_value("xborder_webhook_attempts_total", labels) or 0) == (
            expected
        )


async def test_an_endpoint_down_past_the_window_is_disabled_and_loses_nothing(
    engine: AsyncEngine,
) -> None:
    receiver = await Receiver.started(down=True)
    settings = fast_settings(disable_after_s=0.5)
    endpoint, client = await register(engine, settings, receiver.url())
    sent = [await enqueue(engine, payload={"n": n}) for n in range(3)]
    sender = WebhookSender(engine, settings=settings)
    async with client, running(sender):
        await eventually(
            lambda: count(engine, endpoints, endpoints.c.enabled.is_(False)), timeout=10
        )
        sent.append(await enqueue(engine, payload={"n": 3}))  # queued while disabled
        await asyncio.sleep(0.3)
        state = (await client.get(f"{BASE}/{endpoint['id']}")).json()
        assert (state["enabled"], state["disabled_reason"]) == (False, "failing")
        page = (await client.get(f"{BASE}/{endpoint['id']}/deliveries")).json()
        assert [item["status"] for item in page["items"]] == ["pending"] * 4
        failed = page["items"][-1]
        assert failed["attempt_count"] >= 2
        assert all(a["status_code"] is None and a["error"] for a in failed["attempts"])
        assert all(item["attempt_count"] == 0 for item in page["items"][:-1])  # order kept

        receiver.down = False
        enabled = await client.patch(f"{BASE}/{endpoint['id']}", json={"enabled": True})
        assert enabled.status_code == 200
        assert enabled.json()["enabled"] is True
        assert enabled.json()["failing_since"] is None
        await eventually(lambda: len(receiver.accepted) >= 4)
    await receiver.close()
    assert [r.headers["webhook-id"] for r in receiver.requests] == [str(e) for e in sent]
    assert [json.loads(r.body)["data"]["n"] for r in receiver.requests] == [0, 1, 2, 3]
    assert await count(engine, deliveries, deliveries.c.status == "pending") == 0


async def test_the_old_secret_signs_during_the_grace_period_only(
    engine: AsyncEngine, receiver: Receiver
) -> None:
    settings = fast_settings(secret_grace_s=1.0)
    endpoint, client = await register(engine, settings, receiver.url())
    old = endpoint["secret"]
    async with client:
        rotated = (await client.post(f"{BASE}/{endpoint['id']}/rotate-secret")).json()
    new = rotated["secret"]
    assert new != old
    sender = WebhookSender(engine, settings=settings)
    await enqueue(engine)
    assert await sender.run_once() == 1
    during = receiver.requests[-1]
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    verify(new, during)
    verify(old, during)

    expires = dt.datetime.fromisoformat(rotated["previous_secret_expires_at"])
    await asyncio.sleep(max(0.0, (expires - dt.datetime.now(dt.UTC)).total_seconds()) + 0.1)
    await enqueue(engine)
    assert await sender.run_once() == 1
    await sender.stop()
    after = receiver.requests[-1]
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    verify(new, after)
    with pytest.raises(WebhookVerificationError):
        verify(old, after)


async def test_a_name_resolving_to_a_private_address_is_refused_at_send_time(
    engine: AsyncEngine, receiver: Receiver
) -> None:
    settings = fast_settings(allow_list=())
    # Registration cannot tell: the name looks public. At send time it resolves to loopback.
    endpoint, client = await register(
        engine, settings, f"https://hooks.example.test:{receiver.port}/hook"
    )
    resolver = fake_resolver({"hooks.example.test": ["127.0.0.1"]})
    sender = WebhookSender(engine, settings=settings, resolver=resolver)
    await enqueue(engine)
    assert await sender.run_once() == 1
    await sender.stop()
    assert receiver.requests == []
    async with client:
        page = (await client.get(f"{BASE}/{endpoint['id']}/deliveries")).json()
    (delivery,) = page["items"]
    assert delivery["status"] == "pending"
    (attempt,) = delivery["attempts"]
    assert attempt["status_code"] is None
    assert "destination refused" in attempt["error"]
    assert "loopback" in attempt["error"]


async def test_an_allow_listed_name_is_sent_to_the_address_it_was_checked_at(
    engine: AsyncEngine, receiver: Receiver
) -> None:
    settings = fast_settings(allow_list=("hooks.internal",))
    await register(engine, settings, f"http://hooks.internal:{receiver.port}/hook?x=1")
    resolver = fake_resolver({"hooks.internal": ["127.0.0.1"]})
    sender = WebhookSender(engine, settings=settings, resolver=resolver)
    await enqueue(engine)
    assert await sender.run_once() == 1
    await sender.stop()
    (received,) = receiver.requests
    assert received.headers["host"] == f"hooks.internal:{receiver.port}"
    assert received.path == "/hook?x=1"


def self_signed(tmp_path, name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server TLS context with a certificate for `name`, and a client context trusting it."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    return server, ssl.create_default_context(cafile=str(cert_file))


async def test_https_to_a_pinned_address_checks_the_certificate_of_the_name(
    engine: AsyncEngine, tmp_path
) -> None:
    server_tls, client_tls = self_signed(tmp_path, "hooks.internal")
    receiver = await Receiver.started(tls=server_tls)
    settings = fast_settings(allow_list=("hooks.internal", "impostor.internal"))
    good, _ = await register(engine, settings, receiver.url("hooks.internal", scheme="https"))
    resolver = fake_resolver({"hooks.internal": ["127.0.0.1"], "impostor.internal": ["127.0.0.1"]})
    sender = WebhookSender(engine, settings=settings, resolver=resolver, tls=client_tls)
    await enqueue(engine)
    assert await sender.run_once() == 1
    (received,) = receiver.requests
    verify(good["secret"], received)

    # Same address, another name: its certificate does not match, so nothing is sent.
    async with engine.begin() as conn:
        await conn.execute(endpoints.delete())
    await register(engine, settings, receiver.url("impostor.internal", scheme="https"))
    await enqueue(engine)
    assert await sender.run_once() == 1
    await sender.stop()
    await receiver.close()
    assert len(receiver.requests) == 1
    async with engine.connect() as conn:
        status = await conn.scalar(select(deliveries.c.status))
        error = await conn.scalar(select(attempts.c.error).order_by(attempts.c.id.desc()))
    assert status == "pending"
    assert "CERTIFICATE_VERIFY_FAILED" in error


async def test_slow_and_huge_answers_are_bounded(engine: AsyncEngine) -> None:
    huge = await Receiver.started(answer_bytes=5_000_000)
    slow = await Receiver.started(hang=True)
    settings = fast_settings(timeout_s=0.5, max_response_bytes=1024)
    big, client = await register(engine, settings, huge.url(), event_types=[STATUS_CHANGED])
    hung, _ = await register(engine, settings, slow.url(), event_types=[CUSTOMS_HOLD])
    await enqueue(engine)
    await enqueue(engine, event_type=CUSTOMS_HOLD)
    sender = WebhookSender(engine, settings=settings)
    started = time.monotonic()
    assert await sender.run_once() == 2
    assert time.monotonic() - started < 2.0
    await sender.stop()
    for server in (huge, slow):
        await server.close()
    async with client:
        (read,) = (await client.get(f"{BASE}/{big['id']}/deliveries")).json()["items"]
        (waited,) = (await client.get(f"{BASE}/{hung['id']}/deliveries")).json()["items"]
    assert read["status"] == "delivered"
    assert waited["status"] == "pending"
    assert waited["attempts"][0]["error"] == "timed out after 0.5 s"
    assert 400 <= waited["attempts"][0]["latency_ms"] < 1500


async def test_an_endless_answer_is_cut_off_at_64_kb(engine: AsyncEngine) -> None:
    """A receiver streaming an answer without end: the sender stops reading at the cap and
    hangs up, long before its timeout (reading on would end in "timed out")."""
    endless = await Receiver.started(endless=True)
    settings = fast_settings(timeout_s=5.0)
    assert settings.max_response_bytes == 65_536
    endpoint, client = await register(engine, settings, endless.url(), event_types=[STATUS_CHANGED])
    await enqueue(engine)
    sender = WebhookSender(engine, settings=settings)
    assert await sender.run_once() == 1
    await asyncio.wait_for(endless.hung_up.wait(), timeout=2)
    await sender.stop()
    await endless.close()
    async with client:
        (delivery,) = (await client.get(f"{BASE}/{endpoint['id']}/deliveries")).json()["items"]
    assert delivery["status"] == "delivered"
    (attempt,) = delivery["attempts"]
    assert attempt["error"] is None
    assert attempt["latency_ms"] < 2000
    assert endless.sent_bytes >= 65_536


async def test_redelivering_a_delivered_delivery_sends_it_again(
    engine: AsyncEngine, receiver: Receiver
) -> None:
    settings = fast_settings()
    endpoint, client = await register(engine, settings, receiver.url())
    event_id = await enqueue(engine)
    sender = WebhookSender(engine, settings=settings)
    assert await sender.run_once() == 1
    async with client:
        (delivery,) = (await client.get(f"{BASE}/{endpoint['id']}/deliveries")).json()["items"]
        answer = await client.post(f"{BASE}/{endpoint['id']}/deliveries/{delivery['id']}/redeliver")
        assert answer.status_code == 202
        assert answer.json()["status"] == "pending"
        assert await sender.run_once() == 1
        again = (await client.get(f"{BASE}/{endpoint['id']}/deliveries")).json()["items"][0]
    await sender.stop()
    assert [r.headers["webhook-id"] for r in receiver.requests] == [str(event_id)] * 2
    assert again["status"] == "delivered"
    assert again["attempt_count"] == 2


async def test_redelivering_a_later_delivery_sends_the_earlier_pending_ones_first(
    engine: AsyncEngine,
) -> None:
    """The head delivery failed and waits an hour for its retry, holding two more behind it;
    redelivering the last one makes them all due, and they go in their order."""
    receiver = await Receiver.started(script=[500])
    settings = fast_settings(retry_schedule_s=(3_600.0,), time_scale=1.0)
    endpoint, client = await register(engine, settings, receiver.url())
    sent = [await enqueue(engine, payload={"n": 0})]
    sender = WebhookSender(engine, settings=settings)
    assert await sender.run_once() == 1  # the 500: next try in an hour
    sent += [await enqueue(engine, payload={"n": n}) for n in (1, 2)]
    assert await sender.run_once() == 0  # the later ones wait behind the head
    async with client:
        items = (await client.get(f"{BASE}/{endpoint['id']}/deliveries")).json()["items"]
        last = next(item for item in items if item["event_id"] == str(sent[-1]))
        answer = await client.post(f"{BASE}/{endpoint['id']}/deliveries/{last['id']}/redeliver")
        assert answer.status_code == 202, answer.text
        async with running(sender):
            await eventually(lambda: len(receiver.accepted) >= 3)
        items = (await client.get(f"{BASE}/{endpoint['id']}/deliveries")).json()["items"]
    await receiver.close()
    assert [r.headers["webhook-id"] for r in receiver.requests] == [
        str(sent[0]),
        str(sent[0]),
        str(sent[1]),
        str(sent[2]),
    ]
    assert [json.loads(r.body)["data"]["n"] for r in receiver.accepted] == [0, 1, 2]
    assert {item["status"] for item in items} == {"delivered"}


async def test_one_orders_failing_delivery_holds_back_only_that_orders_later_ones(
    engine: AsyncEngine,
) -> None:
    """Ordering is per order: a delivery about one order failing (and waiting an hour for its
    retry) keeps that order's later deliveries waiting, not another order's."""
    receiver = await Receiver.started(status_for=lambda body: 500 if b"o-stuck" in body else None)
    settings = fast_settings(retry_schedule_s=(3_600.0,), time_scale=1.0)
    endpoint, client = await register(engine, settings, receiver.url())
    stuck = await enqueue(engine, order_id="o-stuck", payload={"order_id": "o-stuck", "n": 0})
    sender = WebhookSender(engine, settings=settings)
    assert await sender.run_once() == 1  # the 500: next try in an hour
    behind = await enqueue(engine, order_id="o-stuck", payload={"order_id": "o-stuck", "n": 1})
    others = [
        await enqueue(engine, order_id="o-fine", payload={"order_id": "o-fine", "n": n})
        for n in range(3)
    ]
    async with running(sender):
        await eventually(lambda: len(receiver.accepted) >= 3)
        await asyncio.sleep(0.3)  # nothing more comes
    await receiver.close()
    assert [r.headers["webhook-id"] for r in receiver.requests] == [str(stuck)] + [
        str(e) for e in others
    ]
    async with client:
        items = (await client.get(f"{BASE}/{endpoint['id']}/deliveries")).json()["items"]
        state = (await client.get(f"{BASE}/{endpoint['id']}")).json()
    by_event = {item["event_id"]: item for item in items}
    assert (by_event[str(stuck)]["status"], by_event[str(stuck)]["attempt_count"]) == ("pending", 1)
    assert (by_event[str(behind)]["status"], by_event[str(behind)]["attempt_count"]) == (
        "pending",
        0,
    )
    assert all(by_event[str(e)]["status"] == "delivered" for e in others)
    assert state["enabled"] is True
    assert state["failing_since"] is None  # the other order's successes ended the failing run
