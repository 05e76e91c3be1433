"""Rules for rendered workloads that no schema expresses: hardening, probes that reach a port,
selectors that select something, references that resolve."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from deploycheck.kube import Obj, ref

WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}


def pod_spec(obj: Obj) -> dict[str, Any]:
    """The pod template's spec of a workload."""
    spec: dict[str, Any] = obj.get("spec", {}).get("template", {}).get("spec", {})
    return spec


def pod_labels(obj: Obj) -> dict[str, str]:
    """The pod template's labels of a workload."""
    labels: dict[str, str] = (
        obj.get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {})
    )
    return labels or {}


def workloads(objs: list[Obj]) -> Iterator[Obj]:
    """Deployments, StatefulSets, DaemonSets and Jobs."""
    return (o for o in objs if o.get("kind") in WORKLOAD_KINDS)


def selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """Whether a label selector (matchLabels, or a Service's plain map) matches the labels."""
    if not selector:
        return False
    match = selector.get("matchLabels", selector if "matchExpressions" not in selector else {})
    return bool(match) and all(labels.get(k) == v for k, v in match.items())


def _containers(obj: Obj) -> list[dict[str, Any]]:
    return list(pod_spec(obj).get("containers") or [])


def hardening_problems(objs: list[Obj]) -> list[str]:
    """Non-root, read-only root, no privilege escalation, capabilities dropped, no service
    links, requests and limits, and pinned images, for every container of every workload."""
    problems = []
    for obj in workloads(objs):
        pod = pod_spec(obj)
        if pod.get("enableServiceLinks") is not False:
            problems.append(f"{ref(obj)}: set enableServiceLinks: false")
        pod_non_root = (pod.get("securityContext") or {}).get("runAsNonRoot") is True
        for c in [*_containers(obj), *(pod.get("initContainers") or [])]:
            where = f"{ref(obj)} container {c.get('name')}"
            sc = c.get("securityContext") or {}
            if not (pod_non_root or sc.get("runAsNonRoot") is True):
                problems.append(f"{where}: runAsNonRoot is not true")
            if sc.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{where}: readOnlyRootFilesystem is not true")
            if sc.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: allowPrivilegeEscalation is not false")
            if sc.get("privileged") is True:
                problems.append(f"{where}: privileged")
            if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
                problems.append(f"{where}: capabilities are not dropped (drop: [ALL])")
            resources = c.get("resources") or {}
            for kind in ("requests", "limits"):
                missing = {"cpu", "memory"} - set(resources.get(kind) or {})
                if missing:
                    problems.append(f"{where}: no {kind} for {', '.join(sorted(missing))}")
            image = str(c.get("image", ""))
            last = image.rsplit("/", 1)[-1]
            if "@sha256:" not in image and (":" not in last or last.endswith(":latest")):
                problems.append(f"{where}: image {image!r} is not pinned to a tag")
    return problems


def _port_known(port: Any, container: dict[str, Any]) -> bool:
    ports = container.get("ports") or []
    if isinstance(port, int):
        return any(p.get("containerPort") == port for p in ports)
    return any(p.get("name") == port for p in ports)


def probe_problems(objs: list[Obj]) -> list[str]:
    """Deployments: startup, liveness (/healthz) and readiness (/readyz) probes, on a declared
    container port."""
    problems = []
    for obj in workloads(objs):
        for c in _containers(obj):
            where = f"{ref(obj)} container {c.get('name')}"
            for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
                probe = c.get(kind)
                if probe is None:
                    if obj["kind"] == "Deployment":
                        problems.append(f"{where}: no {kind}")
                    continue
                action = probe.get("httpGet") or probe.get("tcpSocket") or probe.get("grpc") or {}
                if "port" in action and not _port_known(action["port"], c):
                    problems.append(f"{where}: {kind} uses port {action['port']!r}, not declared")
            wanted = {"livenessProbe": "/healthz", "readinessProbe": "/readyz"}
            for kind, path in wanted.items():
                got = ((c.get(kind) or {}).get("httpGet") or {}).get("path")
                if obj["kind"] == "Deployment" and got != path:
                    problems.append(f"{where}: {kind} must GET {path}, not {got}")
    return problems


def selector_problems(objs: list[Obj]) -> list[str]:
    """Selectors that select the pods they are meant for, and Service ports that exist."""
    problems = []
    pods = [(o, pod_labels(o)) for o in workloads(objs)]
    for obj in objs:
        kind, spec = obj.get("kind"), obj.get("spec") or {}
        if kind == "Deployment" and not selects(spec.get("selector"), pod_labels(obj)):
            problems.append(f"{ref(obj)}: selector does not match its pod template's labels")
        if kind == "Service":
            matched = [o for o, labels in pods if selects(spec.get("selector"), labels)]
            if not matched:
                problems.append(f"{ref(obj)}: selects no pods")
            for port in spec.get("ports") or []:
                target = port.get("targetPort", port.get("port"))
                if matched and not any(_port_known(target, c) for c in _containers(matched[0])):
                    problems.append(f"{ref(obj)}: targetPort {target!r} is no container port")
        if kind in {"PodDisruptionBudget", "NetworkPolicy"}:
            key = "selector" if kind == "PodDisruptionBudget" else "podSelector"
            if not any(selects(spec.get(key), labels) for _o, labels in pods):
                problems.append(f"{ref(obj)}: selects no pods")
        if kind in {"HorizontalPodAutoscaler", "ScaledObject"}:
            target = (spec.get("scaleTargetRef") or {}).get("name")
            if not any(o.get("kind") == "Deployment" and _name(o) == target for o in objs):
                problems.append(f"{ref(obj)}: scales {target!r}, which is no Deployment here")
    for obj in workloads(objs):
        if obj["kind"] == "Deployment" and not any(
            o.get("kind") == "PodDisruptionBudget"
            and selects((o.get("spec") or {}).get("selector"), pod_labels(obj))
            for o in objs
        ):
            problems.append(f"{ref(obj)}: no PodDisruptionBudget")
        if not any(_isolates(o, pod_labels(obj)) for o in objs):
            problems.append(f"{ref(obj)}: no NetworkPolicy limits both its ingress and egress")
    return problems


def _isolates(policy: Obj, labels: dict[str, str]) -> bool:
    spec = policy.get("spec") or {}
    return (
        policy.get("kind") == "NetworkPolicy"
        and selects(spec.get("podSelector"), labels)
        and {"Ingress", "Egress"} <= set(spec.get("policyTypes") or [])
    )


def _name(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def secret_sources(objs: list[Obj]) -> dict[str, set[str] | None]:
    """The Secrets this output makes, by name, with their keys (None: not known here).

    A Secret exists when the overlay generates it, when CloudNativePG creates it (`<cluster>-app`
    of a Cluster in the output), or when an ExternalSecret in the output names it as its target
    (the External Secrets Operator writes it from the secret store; its keys are the `data`
    entries' `secretKey`, unknown when `dataFrom` or a template adds others).
    """
    made: dict[str, set[str] | None] = {}
    for obj in objs:
        kind, spec = obj.get("kind"), obj.get("spec") or {}
        if kind == "Secret":
            made[_name(obj)] = set(obj.get("data") or {}) | set(obj.get("stringData") or {})
        elif kind == "Cluster" and str(obj.get("apiVersion", "")).startswith("postgresql.cnpg.io/"):
            made[f"{_name(obj)}-app"] = None
        elif kind == "ExternalSecret":
            target = spec.get("target") or {}
            keys: set[str] | None = {str(d.get("secretKey")) for d in spec.get("data") or []}
            if spec.get("dataFrom") or target.get("template"):
                keys = None
            made[str(target.get("name") or _name(obj))] = keys
    return made


def _store_problems(objs: list[Obj]) -> tuple[list[str], set[str]]:
    """Each ExternalSecret reads a store: a SecretStore in the output, or a ClusterSecretStore,
    which is cluster-wide and so the operator's to provide."""
    problems, external = [], set()
    stores = {_name(o) for o in objs if o.get("kind") == "SecretStore"}
    for obj in objs:
        if obj.get("kind") != "ExternalSecret":
            continue
        spec = obj.get("spec") or {}
        found = [spec.get("secretStoreRef")]
        found += [(d.get("sourceRef") or {}).get("storeRef") for d in spec.get("data") or []]
        refs: list[dict[str, Any]] = [r for r in found if r]
        if not refs:
            problems.append(f"{ref(obj)}: no secretStoreRef")
        for store in refs:
            kind, name = store.get("kind", "SecretStore"), store.get("name")
            if kind == "ClusterSecretStore":
                external.add(f"ClusterSecretStore/{name}")
            elif name not in stores:
                problems.append(f"{ref(obj)}: SecretStore {name!r} is not defined")
    return problems, external


def reference_problems(objs: list[Obj]) -> tuple[list[str], set[str]]:
    """ConfigMaps that must be in the output, Secret keys that must exist, and what the
    operator must provide: `Secret/<name>` for a Secret nothing here makes (see
    `secret_sources`), `ClusterSecretStore/<name>` for a store an ExternalSecret reads."""
    configmaps = {_name(o) for o in objs if o.get("kind") == "ConfigMap"}
    secrets = secret_sources(objs)
    problems, external = _store_problems(objs)
    for obj in workloads(objs):
        for c in _containers(obj):
            refs = [e.get("configMapRef") or {} for e in c.get("envFrom") or []]
            env = c.get("env") or []
            refs += [(e.get("valueFrom") or {}).get("configMapKeyRef") or {} for e in env]
            for r in refs:
                if r and r.get("name") not in configmaps and not r.get("optional"):
                    problems.append(f"{ref(obj)}: ConfigMap {r.get('name')!r} is not defined")
            for e in c.get("env") or []:
                secret = (e.get("valueFrom") or {}).get("secretKeyRef")
                if not secret:
                    continue
                name, key = str(secret.get("name")), secret.get("key")
                if name not in secrets:
                    external.add(f"Secret/{name}")
                    continue
                keys = secrets[name]
                if keys is not None and key not in keys and not secret.get("optional"):
                    problems.append(
                        f"{ref(obj)}: {e.get('name')} wants key {key!r} of {name}, "
                        f"which has {sorted(keys)}"
                    )
    return problems, external
