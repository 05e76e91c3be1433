"""The webhook-endpoints API on real PostgreSQL: scoping, pagination, secrets, bad input."""

from __future__ import annotations

import json
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from cryptography.fernet import Fernet
from sqlalchemy import MetaData, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from standardwebhooks.webhooks import Webhook

from xborder_platform.webhooks import (
    create_webhook_tables_v1,
    drop_webhook_tables_v1,
    enqueue_deliveries,
    webhook_tables,
)
from xborder_platform.webhooks.signing import SecretBox

from .support import (
    CUSTOMS_HOLD,
    EVENT_TYPES,
    STATUS_CHANGED,
    build_app,
    client_for,
    count,
    deliveries,
    endpoints,
    enqueue,
    fast_settings,
    issue,
)

pytestmark = pytest.mark.integration

BASE = "/v1/webhook-endpoints"
PROBLEM = "application/problem+json"


def endpoint_body(**overrides):
    body = {"url": "https://hooks.example.com/xborder", "event_types": [STATUS_CHANGED]}
    body.update(overrides)
    return body


async def test_register_list_get_and_delete(engine: AsyncEngine) -> None:
    app = build_app(engine, fast_settings())
    key = await issue(engine, "storefront", "m-1")
    async with client_for(app, key) as client:
        created = []
        for n in range(3):
            answer = await client.post(BASE, json=endpoint_body(description=f"hook {n}"))
            assert answer.status_code == 201, answer.text
            created.append(answer.json())
        first = created[0]
        assert first["merchant_id"] == "m-1"
        assert first["enabled"] is True
        assert first["event_types"] == [STATUS_CHANGED]
        assert first["secret"].startswith("whsec_")
        Webhook(first["secret"])  # a valid Standard Webhooks secret

        pages, cursor = [], None
        while True:
            params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
            page = (await client.get(BASE, params=params)).json()
            pages.append([item["id"] for item in page["items"]])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert pages == [[created[0]["id"], created[1]["id"]], [created[2]["id"]]]

        one = (await client.get(f"{BASE}/{first['id']}")).json()
        assert one["description"] == "hook 0"
        assert "secret" not in one

        assert (await client.delete(f"{BASE}/{first['id']}")).status_code == 204
        gone = await client.get(f"{BASE}/{first['id']}")
        assert gone.status_code == 404
        assert gone.headers["content-type"] == PROBLEM
    assert await count(engine, endpoints) == 2


async def test_operators_name_the_merchant_and_storefronts_see_only_their_own(
    engine: AsyncEngine,
) -> None:
    app = build_app(engine, fast_settings())
    operator = await issue(engine, "operator")
    other = await issue(engine, "storefront", "m-2")
    async with client_for(app, operator) as client:
        missing = await client.post(BASE, json=endpoint_body())
        assert missing.status_code == 422
        assert missing.json()["errors"][0]["loc"] == ["body", "merchant_id"]
        assert (await client.get(BASE)).status_code == 422
        made = await client.post(BASE, json=endpoint_body(merchant_id="m-1"))
        assert made.status_code == 201
        endpoint_id = made.json()["id"]
        listed = (await client.get(BASE, params={"merchant_id": "m-1"})).json()
        assert [item["id"] for item in listed["items"]] == [endpoint_id]
    async with client_for(app, other) as client:
        assert (await client.get(f"{BASE}/{endpoint_id}")).status_code == 404
        assert (await client.delete(f"{BASE}/{endpoint_id}")).status_code == 404
        assert (await client.get(BASE)).json()["items"] == []
        assert (await client.get(BASE, params={"merchant_id": "m-1"})).status_code == 403
        foreign = await client.post(BASE, json=endpoint_body(merchant_id="m-1"))
        assert foreign.status_code == 403
    assert await count(engine, endpoints) == 1


@pytest.mark.parametrize(
    ("body", "where", "says"),
    [
        (endpoint_body(url="http://hooks.example.com/x"), "url", "https"),
        (endpoint_body(url="https://10.0.0.7/x"), "url", "private"),
        (endpoint_body(url="https://127.0.0.1:8443/x"), "url", "loopback"),
        (endpoint_body(url="https://169.254.169.254/latest"), "url", "link-local"),
        (endpoint_body(url="https://[::1]/x"), "url", "loopback"),
        (endpoint_body(url="https://localhost/x"), "url", "loopback"),
        (endpoint_body(url="https://user:pw@hooks.example.com/x"), "url", "credentials"),
        (endpoint_body(url="ftp://hooks.example.com/x"), "url", "https"),
        (endpoint_body(event_types=["order.teleported"]), "event_types", "order.teleported"),
    ],
)
async def test_bad_input_is_a_problem_and_changes_nothing(
    engine: AsyncEngine, body, where: str, says: str
) -> None:
    app = build_app(engine, fast_settings(allow_list=()))
    key = await issue(engine, "storefront", "m-1")
    async with client_for(app, key) as client:
        made = (await client.post(BASE, json=endpoint_body())).json()
        answer = await client.post(BASE, json=body)
        assert answer.status_code == 422
        assert answer.headers["content-type"] == PROBLEM
        problem = answer.json()
        assert problem["errors"][0]["loc"] == ["body", where]
        assert says in problem["detail"]
        patched = await client.patch(f"{BASE}/{made['id']}", json=body | {"description": "new"})
        assert patched.status_code == 422
        after = (await client.get(f"{BASE}/{made['id']}")).json()
    assert await count(engine, endpoints) == 1
    assert (after["url"], after["event_types"], after["description"]) == (
        made["url"],
        made["event_types"],
        made["description"],
    )


async def test_allow_listed_hosts_may_use_http_and_private_addresses(engine: AsyncEngine) -> None:
    app = build_app(engine, fast_settings(allow_list=("10.0.0.7", "*.corp.example")))
    key = await issue(engine, "storefront", "m-1")
    async with client_for(app, key) as client:
        for url in ("http://10.0.0.7:8080/x", "http://hooks.corp.example/x"):
            assert (await client.post(BASE, json=endpoint_body(url=url))).status_code == 201
        refused = await client.post(BASE, json=endpoint_body(url="http://10.0.0.8/x"))
        assert refused.status_code == 422


async def test_redelivering_another_merchants_delivery_is_not_found(engine: AsyncEngine) -> None:
    app = build_app(engine, fast_settings())
    mine = await issue(engine, "storefront", "m-1")
    theirs = await issue(engine, "storefront", "m-2")
    async with client_for(app, mine) as client:
        own = (await client.post(BASE, json=endpoint_body())).json()
    async with client_for(app, theirs) as client:
        their_endpoint = (await client.post(BASE, json=endpoint_body())).json()
    await enqueue(engine, merchant_id="m-1")
    async with engine.connect() as conn:
        before = (await conn.execute(select(deliveries))).one()
    async with client_for(app, theirs) as client:
        for path in (
            f"{BASE}/{own['id']}/deliveries/{before.id}/redeliver",
            f"{BASE}/{their_endpoint['id']}/deliveries/{before.id}/redeliver",
            f"{BASE}/{own['id']}/deliveries",
        ):
            method = client.post if path.endswith("redeliver") else client.get
            answer = await method(path)
            assert answer.status_code == 404, path
            assert answer.headers["content-type"] == PROBLEM
    async with engine.connect() as conn:
        after = (await conn.execute(select(deliveries))).one()
    assert after == before


async def test_redeliver_on_a_disabled_endpoint_is_a_conflict(engine: AsyncEngine) -> None:
    app = build_app(engine, fast_settings())
    key = await issue(engine, "storefront", "m-1")
    async with client_for(app, key) as client:
        made = (await client.post(BASE, json=endpoint_body(enabled=False))).json()
        assert made["disabled_reason"] == "manual"
        await enqueue(engine)
        page = (await client.get(f"{BASE}/{made['id']}/deliveries")).json()
        delivery = page["items"][0]
        answer = await client.post(f"{BASE}/{made['id']}/deliveries/{delivery['id']}/redeliver")
        assert answer.status_code == 409
        assert answer.headers["content-type"] == PROBLEM
        assert "enable" in answer.json()["detail"]
        missing = await client.post(f"{BASE}/{made['id']}/deliveries/{uuid.uuid4()}/redeliver")
        assert missing.status_code == 404


async def test_enqueue_fans_out_to_the_endpoints_that_want_the_event(engine: AsyncEngine) -> None:
    app = build_app(engine, fast_settings())
    key = await issue(engine, "storefront", "m-1")
    async with client_for(app, key) as client:
        both = (await client.post(BASE, json=endpoint_body(event_types=list(EVENT_TYPES)))).json()
        holds = (await client.post(BASE, json=endpoint_body(event_types=[CUSTOMS_HOLD]))).json()
    event_id = await enqueue(engine, event_type=CUSTOMS_HOLD, payload={"documents": ["invoice"]})
    await enqueue(engine, event_type=STATUS_CHANGED)
    await enqueue(engine, merchant_id="m-2", event_type=CUSTOMS_HOLD)
    assert await count(engine, deliveries, deliveries.c.endpoint_id == both["id"]) == 2
    assert await count(engine, deliveries, deliveries.c.endpoint_id == holds["id"]) == 1
    async with engine.begin() as conn:  # the same event again adds nothing
        added = await enqueue_deliveries(
            conn,
            merchant_id="m-1",
            order_id="o-1",
            event_type=CUSTOMS_HOLD,
            event_id=event_id,
            payload={},
        )
    assert added == 0
    assert await count(engine, deliveries) == 3


async def test_secrets_are_encrypted_at_rest_when_keys_are_set(engine: AsyncEngine) -> None:
    keys = (Fernet.generate_key().decode(),)
    app = build_app(engine, fast_settings(secret_keys=keys))
    key = await issue(engine, "storefront", "m-1")
    async with client_for(app, key) as client:
        made = (await client.post(BASE, json=endpoint_body())).json()
        rotated = (await client.post(f"{BASE}/{made['id']}/rotate-secret")).json()
    async with engine.connect() as conn:
        dump = await conn.scalar(text("SELECT string_agg(e::text, '') FROM webhook_endpoints e"))
        row = (await conn.execute(select(endpoints))).one()
    assert made["secret"] not in dump
    assert rotated["secret"] not in dump
    box = SecretBox(keys)
    assert box.open(row.secret) == rotated["secret"]
    assert box.open(row.previous_secret) == made["secret"]


async def test_registering_needs_an_idempotency_key(engine: AsyncEngine) -> None:
    app = build_app(engine, fast_settings())
    key = await issue(engine, "storefront", "m-1")
    async with client_for(app, key, idempotency_keys=False) as client:
        answer = await client.post(BASE, json=endpoint_body())
    assert answer.status_code == 400
    assert answer.headers["content-type"] == PROBLEM
    assert answer.json()["type"].endswith("/idempotency-key-missing")
    assert "Idempotency-Key" in answer.json()["detail"]
    assert await count(engine, endpoints) == 0


async def test_a_retried_registration_answers_the_first_endpoint_and_its_secret_again(
    engine: AsyncEngine,
) -> None:
    keys = (Fernet.generate_key().decode(),)
    app = build_app(engine, fast_settings(secret_keys=keys))
    key = await issue(engine, "storefront", "m-1")
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    async with client_for(app, key) as client:
        first = await client.post(BASE, json=endpoint_body(), headers=headers)
        again = await client.post(BASE, json=endpoint_body(), headers=headers)
        other = await client.post(BASE, json=endpoint_body(description="x"), headers=headers)
    assert first.status_code == 201, first.text
    assert first.headers["location"] == f"{BASE}/{first.json()['id']}"
    assert "idempotent-replayed" not in first.headers
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()  # the same endpoint, and the secret shown once more
    assert again.headers["location"] == first.headers["location"]
    assert other.status_code == 422
    assert other.headers["content-type"] == PROBLEM
    assert await count(engine, endpoints) == 1
    # The answer kept for retries holds the secret sealed, as the endpoint row does.
    async with engine.connect() as conn:
        (kept,) = (await conn.scalars(text("SELECT response_body FROM idempotency_keys"))).all()
    stored = json.loads(kept)
    assert stored["id"] == first.json()["id"]
    assert stored["secret"] != first.json()["secret"]
    assert first.json()["secret"] not in kept.decode()
    assert SecretBox(keys).open(stored["secret"]) == first.json()["secret"]


async def test_a_refused_registration_leaves_its_idempotency_key_unused(
    engine: AsyncEngine,
) -> None:
    app = build_app(engine, fast_settings(allow_list=(), max_endpoints_per_merchant=1))
    key = await issue(engine, "storefront", "m-1")
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    async with client_for(app, key) as client:
        bad = await client.post(BASE, json=endpoint_body(url="http://x.example/"), headers=headers)
        good = await client.post(BASE, json=endpoint_body(), headers=headers)
        over = {"Idempotency-Key": str(uuid.uuid4())}
        too_many = await client.post(BASE, json=endpoint_body(), headers=over)
        assert too_many.status_code == 409
        assert (await client.delete(f"{BASE}/{good.json()['id']}")).status_code == 204
        retried = await client.post(BASE, json=endpoint_body(), headers=over)
    assert bad.status_code == 422
    assert good.status_code == 201, good.text
    assert retried.status_code == 201, retried.text
    assert "idempotent-replayed" not in retried.headers
    assert await count(engine, endpoints) == 1


async def test_the_migration_steps_match_the_declarations(new_database) -> None:
    engine = create_async_engine(await new_database())
    declared = MetaData()
    webhook_tables(declared)

    def migrate(sync_conn, step) -> list:
        context = MigrationContext.configure(sync_conn)
        with Operations.context(context):
            step()
        return list(compare_metadata(MigrationContext.configure(sync_conn), declared))

    try:
        async with engine.begin() as conn:
            assert await conn.run_sync(migrate, create_webhook_tables_v1) == []
            dropped = await conn.run_sync(migrate, drop_webhook_tables_v1)
        added = {diff[1].name for diff in dropped if diff[0] == "add_table"}
        assert added == {"webhook_endpoints", "webhook_deliveries", "webhook_attempts"}
    finally:
        await engine.dispose()
