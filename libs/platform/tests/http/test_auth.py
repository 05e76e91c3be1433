"""API keys without a database: parsing, the cache, roles, merchants (fakes for the lookup)."""

import uuid
from datetime import UTC, datetime
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI

from xborder_platform.http.auth import (
    KEY_PREFIX,
    ApiKeyAuthenticator,
    ApiKeyRecord,
    Principal,
    Role,
    ensure_merchant,
    hash_key,
    key_prefix,
    require_api_key,
    require_operator,
    require_storefront,
)
from xborder_platform.http.problems import HTTPProblem, install_problem_handlers

STOREFRONT_KEY = f"{KEY_PREFIX}0a1b2c3d4e5f_storefront-secret-storefront-secret"
OPERATOR_KEY = f"{KEY_PREFIX}aaaaaaaaaaaa_operator-secret-operator-secret-op"


class FakeKeys:
    """An in-memory `api_keys` table; counts lookups."""

    def __init__(self) -> None:
        self.rows: dict[str, ApiKeyRecord] = {}
        self.lookups = 0

    def add(self, plaintext: str, role: Role, merchant_id: str | None) -> ApiKeyRecord:
        prefix = key_prefix(plaintext)
        assert prefix is not None
        record = ApiKeyRecord(
            id=uuid.uuid4(),
            prefix=prefix,
            key_hash=hash_key(plaintext),
            role=role,
            merchant_id=merchant_id,
            label="test",
            created_at=datetime.now(UTC),
            revoked_at=None,
        )
        self.rows[prefix] = record
        return record

    def revoke(self, prefix: str) -> None:
        old = self.rows[prefix]
        self.rows[prefix] = ApiKeyRecord(
            **{**{f: getattr(old, f) for f in old.__slots__}, "revoked_at": datetime.now(UTC)}
        )

    async def lookup(self, prefix: str) -> ApiKeyRecord | None:
        self.lookups += 1
        return self.rows.get(prefix)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def keys() -> FakeKeys:
    fake = FakeKeys()
    fake.add(STOREFRONT_KEY, "storefront", "m-1")
    fake.add(OPERATOR_KEY, "operator", None)
    return fake


def test_key_prefix_parses_only_our_keys() -> None:
    assert key_prefix(STOREFRONT_KEY) == f"{KEY_PREFIX}0a1b2c3d4e5f"
    assert key_prefix("xb_live_short") is None
    assert key_prefix("sk_live_0a1b2c3d4e5f_secret") is None
    assert key_prefix(f"{KEY_PREFIX}0a1b2c3d4e5f") is None


def test_hash_is_sha256_hex() -> None:
    assert hash_key("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


async def test_a_valid_key_gives_its_principal(keys: FakeKeys) -> None:
    auth = ApiKeyAuthenticator(keys.lookup)
    principal = await auth.authenticate(STOREFRONT_KEY)
    assert principal == Principal(
        key_id=keys.rows[f"{KEY_PREFIX}0a1b2c3d4e5f"].id, role="storefront", merchant_id="m-1"
    )
    assert principal.scope == "merchant:m-1"


@pytest.mark.parametrize(
    "presented",
    [
        STOREFRONT_KEY + "x",  # right prefix, wrong secret
        f"{KEY_PREFIX}ffffffffffff_unknown-secret",  # unknown prefix
        "not-a-key",  # not even shaped like one
    ],
)
async def test_anything_else_gives_nothing(keys: FakeKeys, presented: str) -> None:
    assert await ApiKeyAuthenticator(keys.lookup).authenticate(presented) is None


async def test_lookups_are_cached_until_the_ttl_then_revocation_applies(keys: FakeKeys) -> None:
    clock = FakeClock()
    auth = ApiKeyAuthenticator(keys.lookup, cache_ttl_s=30, clock=clock)
    assert await auth.authenticate(STOREFRONT_KEY) is not None
    keys.revoke(f"{KEY_PREFIX}0a1b2c3d4e5f")
    clock.now += 29
    assert await auth.authenticate(STOREFRONT_KEY) is not None
    assert keys.lookups == 1
    clock.now += 1
    assert await auth.authenticate(STOREFRONT_KEY) is None
    assert keys.lookups == 2


async def test_the_cache_is_bounded(keys: FakeKeys) -> None:
    auth = ApiKeyAuthenticator(keys.lookup, max_entries=3)
    for i in range(10):
        await auth.authenticate(f"{KEY_PREFIX}{i:012d}_guess")
    assert len(auth._cache) == 3


def test_ensure_merchant() -> None:
    storefront = Principal(key_id=uuid.uuid4(), role="storefront", merchant_id="m-1")
    operator = Principal(key_id=uuid.uuid4(), role="operator", merchant_id=None)
    ensure_merchant(storefront, "m-1")
    ensure_merchant(operator, "m-1")
    ensure_merchant(operator, "m-2")
    with pytest.raises(HTTPProblem) as refused:
        ensure_merchant(storefront, "m-2")
    assert refused.value.status == 403
    assert operator.scope == f"operator:{operator.key_id}"


def test_role_dependencies_are_shared() -> None:
    # One callable per role set, so FastAPI solves it once per request.
    assert require_storefront() is require_api_key("storefront")
    assert require_operator() is require_api_key("operator")


def build_app(keys: FakeKeys) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.state.api_keys = ApiKeyAuthenticator(keys.lookup)

    @app.get("/merchants/{merchant_id}/orders")
    async def orders(
        merchant_id: str,
        principal: Annotated[Principal, Depends(require_api_key("storefront", "operator"))],
    ) -> dict[str, str]:
        ensure_merchant(principal, merchant_id)
        return {"role": principal.role}

    @app.get("/storefront")
    async def storefront(
        principal: Annotated[Principal, Depends(require_storefront())],
    ) -> dict[str, str | None]:
        return {"merchant": principal.merchant_id}

    @app.get("/operator")
    async def operator(principal: Annotated[Principal, Depends(require_operator())]) -> str:
        return principal.role

    return app


async def test_keys_are_read_from_bearer_or_x_api_key(client_for, keys: FakeKeys) -> None:
    async with client_for(build_app(keys)) as client:
        bearer = await client.get(
            "/storefront", headers={"Authorization": f"Bearer {STOREFRONT_KEY}"}
        )
        header = await client.get("/storefront", headers={"X-API-Key": STOREFRONT_KEY})
    assert bearer.json() == header.json() == {"merchant": "m-1"}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer xb_live_ffffffffffff_unknown"},
        {"Authorization": f"Basic {STOREFRONT_KEY}"},
        {"X-API-Key": "garbage"},
    ],
)
async def test_missing_or_unknown_keys_get_one_401(
    client_for, keys: FakeKeys, headers: dict[str, str]
) -> None:
    async with client_for(build_app(keys)) as client:
        response = await client.get("/storefront", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["type"] == "https://xborder.dev/problems/unauthenticated"
    assert response.json()["detail"].startswith("Send a valid API key")


async def test_the_wrong_role_gets_403(client_for, keys: FakeKeys) -> None:
    async with client_for(build_app(keys)) as client:
        as_storefront = await client.get("/operator", headers={"X-API-Key": STOREFRONT_KEY})
        as_operator = await client.get("/storefront", headers={"X-API-Key": OPERATOR_KEY})
        allowed = await client.get("/operator", headers={"X-API-Key": OPERATOR_KEY})
    assert as_storefront.status_code == 403
    assert (
        as_storefront.json()["detail"] == "This endpoint needs an API key with the role operator."
    )
    assert as_operator.status_code == 403
    assert allowed.status_code == 200


async def test_storefront_keys_see_only_their_merchant(client_for, keys: FakeKeys) -> None:
    async with client_for(build_app(keys)) as client:
        own = await client.get("/merchants/m-1/orders", headers={"X-API-Key": STOREFRONT_KEY})
        other = await client.get("/merchants/m-2/orders", headers={"X-API-Key": STOREFRONT_KEY})
        operator = await client.get("/merchants/m-2/orders", headers={"X-API-Key": OPERATOR_KEY})
    assert own.status_code == 200
    assert other.status_code == 403
    assert other.json()["type"] == "https://xborder.dev/problems/forbidden"
    assert operator.json() == {"role": "operator"}


def test_openapi_documents_both_ways_to_send_a_key(keys: FakeKeys) -> None:
    schemes = build_app(keys).openapi()["components"]["securitySchemes"]
    assert schemes["HTTPBearer"]["scheme"] == "bearer"
    assert schemes["APIKeyHeader"]["name"] == "X-API-Key"
