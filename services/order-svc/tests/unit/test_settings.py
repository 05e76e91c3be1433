"""order-svc refuses to run in production without the keys that encrypt webhook secrets."""

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from order_svc.config import Settings
from xborder_platform.webhooks import WebhookSettings

PRODUCTION_DB = "postgresql://order_svc:s3cret-from-vault@db/order_svc"


def test_production_without_webhook_secret_keys_is_refused() -> None:
    with pytest.raises(ValidationError, match="ORDER_WEBHOOKS__SECRET_KEYS is required"):
        Settings(database_url=PRODUCTION_DB, environment="production")  # type: ignore[arg-type]


def test_production_with_webhook_secret_keys_starts() -> None:
    key = Fernet.generate_key().decode()
    webhooks = WebhookSettings(secret_keys=(key,))  # type: ignore[arg-type]
    settings = Settings(
        database_url=PRODUCTION_DB,  # type: ignore[arg-type]
        environment="production",
        webhooks=webhooks,
    )
    assert settings.webhooks.secret_keys[0].get_secret_value() == key


def test_development_may_store_secrets_in_clear() -> None:
    assert Settings(environment="development").webhooks.secret_keys == ()
