"""API keys on real PostgreSQL: issue, authenticate, revoke, roles, merchants, the command."""

import argparse
import asyncio
import io
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from xborder_platform.http.api_key_commands import add_api_key_parser, run_api_key_command
from xborder_platform.http.auth import (
    KEY_PREFIX,
    ApiKeyAuthenticator,
    Principal,
    ensure_merchant,
    find_api_key,
    hash_key,
    issue_api_key,
    list_api_keys,
    require_api_key,
    require_operator,
    require_storefront,
    revoke_api_key,
)
from xborder_platform.http.problems import install_problem_handlers

pytestmark = pytest.mark.integration

CACHE_TTL_S = 0.3


def build_app(engine: AsyncEngine) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.state.api_keys = ApiKeyAuthenticator.for_engine(engine, cache_ttl_s=CACHE_TTL_S)

    @app.get("/storefront/orders")
    async def own_orders(
        principal: Annotated[Principal, Depends(require_storefront())],
    ) -> dict[str, str | None]:
        return {"merchant": principal.merchant_id}

    @app.get("/merchants/{merchant_id}")
    async def merchant(
        merchant_id: str,
        principal: Annotated[Principal, Depends(require_api_key("storefront", "operator"))],
    ) -> dict[str, str]:
        ensure_merchant(principal, merchant_id)
        return {"merchant": merchant_id}

    @app.get("/operator/dead-letters")
    async def dead_letters(principal: Annotated[Principal, Depends(require_operator())]) -> str:
        return principal.role

    return app


async def issue(engine: AsyncEngine, role, merchant_id=None, label="test") -> str:
    async with engine.begin() as conn:
        plaintext, _ = await issue_api_key(conn, role=role, merchant_id=merchant_id, label=label)
    return plaintext


async def test_issued_keys_are_stored_only_as_hashes(http_engine: AsyncEngine) -> None:
    async with http_engine.begin() as conn:
        plaintext, record = await issue_api_key(
            conn, role="storefront", merchant_id="m-1", label="checkout"
        )
    assert plaintext.startswith(record.prefix + "_")
    assert record.prefix.startswith(KEY_PREFIX)
    assert len(plaintext) > len(record.prefix) + 40
    assert (record.role, record.merchant_id, record.label) == ("storefront", "m-1", "checkout")
    assert record.revoked_at is None
    async with http_engine.connect() as conn:
        dump = await conn.scalar(text("SELECT string_agg(k::text, '') FROM api_keys k"))
        stored = await find_api_key(conn, prefix=record.prefix)
    secret = plaintext[len(record.prefix) + 1 :]
    assert secret not in dump
    assert plaintext not in dump
    assert stored is not None
    assert stored.key_hash == hash_key(plaintext)


async def test_a_valid_key_is_admitted_by_either_header(client_for, http_engine) -> None:
    key = await issue(http_engine, "storefront", "m-1")
    async with client_for(build_app(http_engine)) as client:
        bearer = await client.get("/storefront/orders", headers={"Authorization": f"Bearer {key}"})
        header = await client.get("/storefront/orders", headers={"X-API-Key": key})
    assert bearer.status_code == 200
    assert bearer.json() == header.json() == {"merchant": "m-1"}


async def test_unknown_and_tampered_keys_get_401(client_for, http_engine) -> None:
    key = await issue(http_engine, "storefront", "m-1")
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
    async with client_for(build_app(http_engine)) as client:
        answers = [
            await client.get("/storefront/orders", headers={"X-API-Key": presented})
            for presented in (tampered, f"{KEY_PREFIX}000000000000_nope", "nope")
        ]
        missing = await client.get("/storefront/orders")
    for response in [*answers, missing]:
        assert response.status_code == 401
        assert response.json()["type"] == "https://xborder.dev/problems/unauthenticated"
    assert len({r.content for r in [*answers, missing]}) == 1


async def test_a_revoked_key_is_refused_once_the_cache_ttl_has_passed(
    client_for, http_engine
) -> None:
    key = await issue(http_engine, "storefront", "m-1")
    headers = {"X-API-Key": key}
    async with client_for(build_app(http_engine)) as client:
        assert (await client.get("/storefront/orders", headers=headers)).status_code == 200
        async with http_engine.begin() as conn:
            assert await revoke_api_key(conn, prefix=key[: len(KEY_PREFIX) + 12]) is True
        # Within the TTL, the cached lookup still admits it: the documented bound.
        assert (await client.get("/storefront/orders", headers=headers)).status_code == 200
        await asyncio.sleep(CACHE_TTL_S + 0.1)
        assert (await client.get("/storefront/orders", headers=headers)).status_code == 401


async def test_roles_and_merchants_are_enforced(client_for, http_engine) -> None:
    storefront = {"X-API-Key": await issue(http_engine, "storefront", "m-1")}
    operator = {"X-API-Key": await issue(http_engine, "operator")}
    async with client_for(build_app(http_engine)) as client:
        wrong_role = await client.get("/operator/dead-letters", headers=storefront)
        operator_on_storefront = await client.get("/storefront/orders", headers=operator)
        own = await client.get("/merchants/m-1", headers=storefront)
        other = await client.get("/merchants/m-2", headers=storefront)
        operator_any = await client.get("/merchants/m-2", headers=operator)
        operator_ok = await client.get("/operator/dead-letters", headers=operator)
    assert wrong_role.status_code == 403
    assert wrong_role.json()["type"] == "https://xborder.dev/problems/forbidden"
    assert operator_on_storefront.status_code == 403
    assert own.status_code == 200
    assert other.status_code == 403
    assert other.json()["detail"] == "This API key belongs to another merchant."
    assert operator_any.status_code == 200
    assert operator_ok.json() == "operator"


async def test_keys_must_fit_their_role(http_engine: AsyncEngine) -> None:
    async with http_engine.begin() as conn:
        with pytest.raises(ValueError, match="needs the merchant"):
            await issue_api_key(conn, role="storefront")
        with pytest.raises(ValueError, match="give no merchant"):
            await issue_api_key(conn, role="operator", merchant_id="m-1")
    # The table refuses it too, whatever writes to it.
    with pytest.raises(IntegrityError, match="ck_api_keys_storefront_merchant"):
        async with http_engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO api_keys (id, prefix, key_hash, role) "
                    "VALUES (gen_random_uuid(), 'xb_live_x', 'h', 'storefront')"
                )
            )


async def test_revoking_twice_or_an_unknown_prefix_says_so(http_engine: AsyncEngine) -> None:
    async with http_engine.begin() as conn:
        _, record = await issue_api_key(conn, role="operator", label="ops")
        assert await revoke_api_key(conn, prefix=record.prefix) is True
        assert await revoke_api_key(conn, prefix=record.prefix) is False
        assert await revoke_api_key(conn, prefix="xb_live_unknown") is False
        [listed] = await list_api_keys(conn)
    assert listed.revoked_at is not None


def command(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="order-svc")
    add_api_key_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


async def test_the_api_key_command(http_engine: AsyncEngine, capsys) -> None:
    url = http_engine.url.render_as_string(hide_password=False)

    async def run(*argv: str) -> tuple[int, str, str]:
        code = await asyncio.to_thread(run_api_key_command, command(*argv), url)
        out, err = capsys.readouterr()
        return code, out, err

    code, out, err = await run("api-key", "create", "--role", "storefront", "--merchant", "m-9")
    assert code == 0
    plaintext = out.strip()
    assert plaintext.startswith(KEY_PREFIX)
    assert "shown only once" in err
    prefix = plaintext[: len(KEY_PREFIX) + 12]

    code, out, _ = await run("api-key", "list")
    assert code == 0
    assert prefix in out
    assert "m-9" in out
    assert "active" in out
    assert plaintext not in out

    assert (await run("api-key", "revoke", prefix))[0] == 0
    code, out, _ = await run("api-key", "list")
    assert "revoked" in out
    assert (await run("api-key", "revoke", prefix))[0] == 1
    assert (await run("api-key", "create", "--role", "storefront"))[0] == 2

    async with http_engine.connect() as conn:
        stored = await find_api_key(conn, prefix=prefix)
    assert stored is not None
    assert stored.key_hash == hash_key(plaintext)


async def test_a_key_issued_elsewhere_can_be_imported_once(
    client_for, http_engine: AsyncEngine, capsys, monkeypatch
) -> None:
    """One storefront key known to every service: `api-key import` reads it from stdin."""
    url = http_engine.url.render_as_string(hide_password=False)
    async with http_engine.begin() as conn:  # issued by another service's database
        plaintext, _ = await issue_api_key(conn, role="storefront", merchant_id="m-7")
        await conn.execute(text("DELETE FROM api_keys"))

    async def run(stdin: str, *argv: str) -> tuple[int, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin + "\n"))
        code = await asyncio.to_thread(run_api_key_command, command(*argv), url)
        return code, capsys.readouterr().err

    args = ("api-key", "import", "--role", "storefront", "--merchant", "m-7")
    code, err = await run(plaintext, *args)
    assert (code, "registered") == (0, err.split()[0])
    assert (await run(plaintext, *args))[0] == 0  # again: already there, nothing changes
    other = ("api-key", "import", "--role", "storefront", "--merchant", "m-8")
    assert (await run(plaintext, *other))[0] == 1  # same key, other merchant: refused
    assert (await run("not-a-key", *args))[0] == 2
    async with http_engine.connect() as conn:
        assert len(await list_api_keys(conn)) == 1
    async with client_for(build_app(http_engine)) as client:
        answer = await client.get("/storefront/orders", headers={"X-API-Key": plaintext})
        assert answer.json() == {"merchant": "m-7"}
