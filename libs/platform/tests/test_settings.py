"""Settings: prefixes, the shared broker variable, start-up validation."""

import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from xborder_platform.cli import ServiceCommands, main
from xborder_platform.settings import DEV_PASSWORD, BaseServiceSettings


class DemoSettings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_", extra="ignore", frozen=True)


def test_reads_prefixed_variables_and_the_shared_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_DATABASE_URL", "postgresql://u:p@db:5432/demo")
    monkeypatch.setenv("DEMO_PORT", "9100")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9092")
    s = DemoSettings()
    assert s.port == 9100
    assert s.kafka_bootstrap_servers == "k1:9092,k2:9092"
    assert s.async_database_url == "postgresql+asyncpg://u:p@db:5432/demo"


def test_database_url_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEMO_DATABASE_URL", raising=False)
    with pytest.raises(ValidationError, match="database_url is required"):
        DemoSettings()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "not a valid URL"),
        ("mysql://u:p@h/db", "must be a postgresql URL"),
    ],
)
def test_bad_database_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        DemoSettings(database_url=url)  # type: ignore[arg-type]


def test_production_refuses_the_development_password() -> None:
    url = f"postgresql://svc:{DEV_PASSWORD}@db/svc"
    assert DemoSettings(database_url=url).environment == "development"  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="default password"):
        DemoSettings(database_url=url, environment="production")  # type: ignore[arg-type]
    ok = DemoSettings(
        database_url="postgresql://svc:s3cret-from-vault@db/svc", environment="production"
    )  # type: ignore[arg-type]
    assert ok.environment == "production"


def test_wrong_types_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_DATABASE_URL", "postgresql://u:p@db/demo")
    monkeypatch.setenv("DEMO_PORT", "eighty")
    with pytest.raises(ValidationError, match="port"):
        DemoSettings()


def test_cli_exits_with_a_clear_message_on_invalid_settings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DEMO_DATABASE_URL", "postgresql://u:p@db/demo")
    monkeypatch.setenv("DEMO_LOG_LEVEL", "LOUD")

    def no_app(_settings: BaseServiceSettings) -> object:
        raise AssertionError("the app must not be built with invalid settings")

    cmds = ServiceCommands(
        name="demo-svc",
        load_settings=DemoSettings,
        create_app=no_app,
        migrations="x:y",  # type: ignore[arg-type]
    )
    with pytest.raises(SystemExit) as exit_info:
        main(cmds, ["api"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "demo-svc: invalid settings" in err
    assert "log_level" in err


def test_http_kit_settings_have_safe_defaults_and_bounds() -> None:
    s = DemoSettings(database_url="postgresql://u:p@db/demo")  # type: ignore[arg-type]
    assert (s.max_body_bytes, s.idempotency_ttl_s, s.api_key_cache_ttl_s) == (1_048_576, 86_400, 30)
    for bad in ({"max_body_bytes": -1}, {"idempotency_ttl_s": 0}, {"api_key_cache_ttl_s": -1}):
        with pytest.raises(ValidationError, match=next(iter(bad))):
            DemoSettings(database_url="postgresql://u:p@db/demo", **bad)  # type: ignore[arg-type]
