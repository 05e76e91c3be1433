"""API keys of the development stack: one storefront key and one operator key, known to every
service, kept in `<home>/dev-keys.json` so they survive restarts."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import create_async_engine

from xborder_platform.http.auth import find_api_key, generate_api_key, issue_api_key, key_prefix

#: The merchant the development storefront key acts for.
DEV_MERCHANT = "demo-merchant"


@dataclass(frozen=True)
class DevKeys:
    """The two keys `make run` prints."""

    storefront: str
    operator: str
    merchant: str = DEV_MERCHANT

    @classmethod
    def load_or_create(cls, home: Path) -> DevKeys:
        """Read the keys of an earlier run, or make new ones (file readable by its owner only)."""
        path = home / "dev-keys.json"
        if path.exists():
            return cls(**json.loads(path.read_text()))
        keys = cls(storefront=generate_api_key(), operator=generate_api_key())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(asdict(keys), out, indent=2)
        return keys

    async def register(self, database_urls: Iterable[str]) -> None:
        """Make sure every service's database knows both keys (idempotent)."""
        wanted = [
            (self.storefront, "storefront", self.merchant),
            (self.operator, "operator", None),
        ]
        for url in database_urls:
            engine = create_async_engine(url)
            try:
                async with engine.begin() as conn:
                    for plaintext, role, merchant in wanted:
                        if await find_api_key(conn, prefix=key_prefix(plaintext) or "") is None:
                            await issue_api_key(
                                conn,
                                role=role,  # type: ignore[arg-type]
                                merchant_id=merchant,
                                label="development stack",
                                plaintext=plaintext,
                            )
            finally:
                await engine.dispose()
