"""Settings: every variable has the service's prefix, plus the shared KAFKA_BOOTSTRAP_SERVERS."""

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from xborder_platform.settings import DEV_PASSWORD, BaseServiceSettings

SERVICE_NAME = "order-svc"
DEV_DATABASE_URL = f"postgresql+asyncpg://order_svc:{DEV_PASSWORD}@127.0.0.1:55432/order_svc"


class Settings(BaseServiceSettings):
    """Validated once at start-up; nothing else reads the environment."""

    model_config = SettingsConfigDict(env_prefix="ORDER_", extra="ignore", frozen=True)

    port: int = Field(default=8001, ge=1, le=65535)
    database_url: SecretStr = SecretStr(DEV_DATABASE_URL)
