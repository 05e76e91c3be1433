"""Which servers the tests use: the environment's, then testcontainers, then the embedded parts."""

import pytest

from xborder_devstack import backends
from xborder_devstack.backends import TestBackendSettings, choose


def test_environment_urls_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backends, "docker_available", lambda: True)
    assert choose(TestBackendSettings(database_url="postgresql://u:p@h/db")) == "env"
    assert choose(TestBackendSettings(kafka_bootstrap_servers="k:9092")) == "env"


def test_testcontainers_when_docker_answers_else_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backends, "docker_available", lambda: True)
    assert choose(TestBackendSettings()) == "testcontainers"
    monkeypatch.setattr(backends, "docker_available", lambda: False)
    assert choose(TestBackendSettings()) == "embedded"


def test_an_explicit_choice_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backends, "docker_available", lambda: True)
    assert choose(TestBackendSettings(backend="embedded")) == "embedded"


def test_an_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="backend"):
        TestBackendSettings(backend="docker-compose")
