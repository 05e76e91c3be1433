"""Each service's role reaches its own database and no other."""

import uuid

import asyncpg
import pytest

from xborder_devstack.postgres import ServiceDatabase, provision
from xborder_devstack.pytest_plugin import admin_connect

pytestmark = pytest.mark.integration


async def test_a_service_role_cannot_connect_to_another_services_database(pg_server) -> None:
    suffix = uuid.uuid4().hex[:8]
    alpha = ServiceDatabase(f"alpha_{suffix}", f"alpha_{suffix}", "alpha-pw")
    beta = ServiceDatabase(f"beta_{suffix}", f"beta_{suffix}", "beta-pw")
    admin = await admin_connect(pg_server)
    try:
        for db in (alpha, beta):
            await provision(admin, db)
        await provision(admin, alpha)  # idempotent: a second `make run` provisions again

        def connect(db: ServiceDatabase, *, as_: ServiceDatabase):
            return asyncpg.connect(
                host=pg_server.host, port=pg_server.port, user=as_.role,
                password=as_.password, database=db.name,
            )  # fmt: skip

        own = await connect(alpha, as_=alpha)
        assert await own.fetchval("SELECT current_user") == alpha.role
        await own.execute("CREATE TABLE t (id int)")  # it owns its database's schema
        await own.close()
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await connect(beta, as_=alpha)
        with pytest.raises(asyncpg.InvalidPasswordError):
            await connect(alpha, as_=ServiceDatabase(alpha.name, alpha.role, "wrong"))
    finally:
        for db in (alpha, beta):
            await admin.execute(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)')
            await admin.execute(f'DROP ROLE IF EXISTS "{db.role}"')
        await admin.close()
