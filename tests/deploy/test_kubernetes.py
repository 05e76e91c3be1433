"""The Kubernetes manifests: every overlay renders and passes every check, and each kind of
breakage the checks exist for makes them fail."""

from __future__ import annotations

import copy
import shutil

import pytest
from deploycheck import kube, manifests, policy, topology

OVERLAYS = ["dev", "prod"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_passes_every_check(overlay, rendered, services, topics, repo):
    checks = manifests.object_checks(
        overlay, rendered[overlay], services, topics, docs=repo / "docs/deployment.md"
    )
    failed = {c.name: c.problems for c in checks if c.failed}
    assert failed == {}
    assert [c.name for c in checks if c.skipped] == []


def test_the_repository_passes_check_overlays(repo, services, topics):
    checks = manifests.check_overlays(
        repo / "deploy/k8s", services, topics, docs=repo / "docs/deployment.md"
    )
    assert {c.name.split(":")[0] for c in checks} == {"k8s dev", "k8s prod"}
    assert [c.problems for c in checks if c.failed] == []


def test_a_kustomization_naming_a_missing_file_does_not_render(tmp_path, repo, kubectl):
    shutil.copytree(repo / "deploy/k8s", tmp_path / "k8s")
    base = tmp_path / "k8s/base/kustomization.yaml"
    base.write_text(base.read_text().replace("  - kafka\n", "  - kafka\n  - missing.yaml\n"))
    with pytest.raises(kube.RenderError, match=r"missing\.yaml"):
        kube.render(tmp_path / "k8s/overlays/dev", kubectl=kubectl)


def test_a_deployment_without_a_selector_fails(dev, get):
    del get(dev, "Deployment", "order-svc-api")["spec"]["selector"]
    problems = kube.builtin_problems(dev)
    assert any("Deployment/order-svc-api" in p and "selector" in p for p in problems)
    assert any("order-svc-api: selector" in p for p in policy.selector_problems(dev))


def test_a_misspelt_field_fails_the_strict_schema(dev, get):
    container = get(dev, "Deployment", "order-svc-api")["spec"]["template"]["spec"]["containers"][0]
    container["imagePulPolicy"] = "Always"
    assert any("imagePulPolicy" in p for p in kube.builtin_problems(dev))


def test_a_probe_on_a_missing_port_fails(dev, get):
    container = get(dev, "Deployment", "payment-svc-worker")["spec"]["template"]["spec"][
        "containers"
    ][0]
    container["readinessProbe"]["httpGet"]["port"] = "metrics"
    problems = policy.probe_problems(dev)
    assert any("payment-svc-worker" in p and "'metrics', not declared" in p for p in problems)


def test_a_deployment_without_probes_fails(dev, get):
    container = get(dev, "Deployment", "customs-svc-api")["spec"]["template"]["spec"]["containers"][
        0
    ]
    del container["startupProbe"]
    container["livenessProbe"]["httpGet"]["path"] = "/readyz"
    problems = policy.probe_problems(dev)
    assert any("no startupProbe" in p for p in problems)
    assert any("livenessProbe must GET /healthz" in p for p in problems)


def test_an_unhardened_container_fails(dev, get):
    spec = get(dev, "Deployment", "shipping-svc-worker")["spec"]["template"]["spec"]
    del spec["securityContext"]["runAsNonRoot"]
    del spec["enableServiceLinks"]
    container = spec["containers"][0]
    container["securityContext"] = {"readOnlyRootFilesystem": False}
    container["image"] = "xborder/shipping-svc:latest"
    del container["resources"]["limits"]
    problems = "\n".join(policy.hardening_problems(dev))
    for expected in [
        "enableServiceLinks",
        "runAsNonRoot",
        "readOnlyRootFilesystem",
        "allowPrivilegeEscalation",
        "capabilities",
        "no limits",
        "not pinned",
    ]:
        assert expected in problems


def test_a_service_pointing_at_no_port_fails(dev, get):
    get(dev, "Service", "order-svc")["spec"]["ports"][0]["targetPort"] = "web"
    assert any("targetPort 'web'" in p for p in policy.selector_problems(dev))


def test_an_autoscaler_of_a_missing_deployment_fails(dev, get):
    get(dev, "HorizontalPodAutoscaler", "order-svc-api")["spec"]["scaleTargetRef"]["name"] = "x"
    assert any("scales 'x'" in p for p in policy.selector_problems(dev))


def test_a_deployment_without_network_policy_or_budget_fails(dev, get):
    dev.remove(get(dev, "NetworkPolicy", "customs-svc"))
    dev.remove(get(dev, "PodDisruptionBudget", "customs-svc-worker"))
    problems = policy.selector_problems(dev)
    assert any("customs-svc-worker: no PodDisruptionBudget" in p for p in problems)
    assert any("customs-svc-api: no NetworkPolicy" in p for p in problems)


def test_a_missing_configmap_fails(dev, get):
    dev.remove(get(dev, "ConfigMap", "order-svc-config"))
    problems, _external = policy.reference_problems(dev)
    assert any("ConfigMap 'order-svc-config-" in p for p in problems)


def references(checks):
    return next(c for c in checks if c.name.endswith("references"))


def test_a_secret_store_the_docs_do_not_mention_fails(rendered, services, topics, tmp_path):
    docs = tmp_path / "deployment.md"
    docs.write_text("no secrets here")
    checks = manifests.object_checks("prod", rendered["prod"], services, topics, docs=docs)
    assert references(checks).problems == [
        "ClusterSecretStore/xborder-secrets must be provided by the operator but deployment.md "
        "does not say so"
    ]


def test_prod_reads_every_service_secret_from_the_store(rendered):
    prod = rendered["prod"]
    problems, external = policy.reference_problems(prod)
    assert problems == []
    assert external == {"ClusterSecretStore/xborder-secrets"}
    targets = {o["spec"]["target"]["name"] for o in prod if o["kind"] == "ExternalSecret"}
    read = {
        e["valueFrom"]["secretKeyRef"]["name"]
        for o in policy.workloads(prod)
        for c in policy.pod_spec(o)["containers"]
        for e in c.get("env", [])
        if "secretKeyRef" in e.get("valueFrom", {})
    }
    assert read - targets == {f"{db}-db-app" for db in ("order", "payment", "shipping", "customs")}
    assert {"order-svc-secrets", "payment-svc-secrets"} <= targets


def test_a_secret_without_its_external_secret_must_be_created_and_documented(
    rendered, get, services, topics, tmp_path
):
    prod = copy.deepcopy(rendered["prod"])
    prod.remove(get(prod, "ExternalSecret", "shipping-svc-secrets"))
    _problems, external = policy.reference_problems(prod)
    assert "Secret/shipping-svc-secrets" in external
    docs = tmp_path / "deployment.md"
    docs.write_text("the ClusterSecretStore xborder-secrets")
    checks = manifests.object_checks("prod", prod, services, topics, docs=docs)
    assert references(checks).problems == [
        "Secret/shipping-svc-secrets must be provided by the operator but deployment.md does "
        "not say so"
    ]


def test_an_external_secret_without_the_key_a_container_reads_fails(rendered, get):
    prod = copy.deepcopy(rendered["prod"])
    get(prod, "ExternalSecret", "payment-svc-secrets")["spec"]["data"][0]["secretKey"] = "hmac"
    problems, _external = policy.reference_problems(prod)
    assert any(
        "Deployment/payment-svc-api: PAYMENT_WEBHOOK_SECRET wants key 'webhook-secret' of "
        "payment-svc-secrets, which has ['hmac']" in p
        for p in problems
    )


def test_a_generated_secret_without_the_key_a_container_reads_fails(dev, get):
    secret = get(dev, "Secret", "order-svc-secrets")
    secret["data"] = {"keys": secret["data"].pop("webhook-secret-keys")}
    problems, _external = policy.reference_problems(dev)
    assert any("ORDER_WEBHOOKS__SECRET_KEYS wants key 'webhook-secret-keys'" in p for p in problems)


def test_an_external_secret_on_a_missing_secret_store_fails(rendered, get):
    prod = copy.deepcopy(rendered["prod"])
    store = get(prod, "ExternalSecret", "order-svc-secrets")["spec"]["secretStoreRef"]
    store["kind"] = "SecretStore"
    problems, _external = policy.reference_problems(prod)
    assert problems == [
        "ExternalSecret/order-svc-secrets: SecretStore 'xborder-secrets' is not defined"
    ]


def test_a_broken_external_secret_fails_its_schema(rendered, get):
    prod = copy.deepcopy(rendered["prod"])
    spec = get(prod, "ExternalSecret", "customs-svc-secrets")["spec"]
    spec["data"][0]["remoteRef"]["propery"] = spec["data"][0]["remoteRef"].pop("property")
    spec["target"]["creationPolicy"] = "Always"
    problems = kube.custom_problems(prod)
    assert any("ExternalSecret/customs-svc-secrets" in p and "propery" in p for p in problems)
    assert any("ExternalSecret/customs-svc-secrets" in p and "'Always'" in p for p in problems)


def test_a_missing_topic_or_an_impossible_replication_fails(dev, get, topics):
    dev.remove(get(dev, "KafkaTopic", "xborder-customs-dlq-v1"))
    get(dev, "KafkaTopic", "xborder-orders-v1")["spec"]["replicas"] = 3
    problems = topology.topic_problems(dev, topics)
    assert "topic xborder.customs.dlq.v1 has no KafkaTopic" in problems
    assert any("xborder-orders-v1: 3 replicas but 1 broker(s)" in p for p in problems)


def test_more_workers_than_partitions_fails(dev, get):
    get(dev, "ScaledObject", "order-svc-worker")["spec"]["maxReplicaCount"] = 7
    assert any("maxReplicaCount 7 exceeds the 6" in p for p in topology.scaling_problems(dev))


def test_a_lag_trigger_on_a_missing_listener_fails(dev, get):
    trigger = get(dev, "ScaledObject", "order-svc-worker")["spec"]["triggers"][0]
    trigger["metadata"]["bootstrapServers"] = "xborder-kafka-kafka-bootstrap:9094"
    assert any("port 9094" in p for p in topology.scaling_problems(dev))


@pytest.mark.parametrize(
    ("kind", "name", "breakage", "expected"),
    [
        ("ScaledObject", "order-svc-worker", ("triggers", 0, "metadata", "lagThreshold", 9), "9"),
        ("Kafka", "xborder-kafka", ("kafka", "replicas", 3), "replicas"),
        ("KafkaTopic", "xborder-orders-v1", ("partitions", 0), "0"),
        ("Cluster", "order-db", ("instance", 1), "instance"),
        ("KafkaNodePool", "dual-role", ("roles", ["zookeeper"]), "zookeeper"),
    ],
)
def test_a_broken_custom_resource_fails(dev, get, kind, name, breakage, expected):
    target = get(dev, kind, name)["spec"]
    *path, key, value = breakage
    for step in path:
        target = target[step]
    target[key] = value
    problems = kube.custom_problems(dev)
    assert any(f"{kind}/{name}" in p and expected in p for p in problems), problems


def test_a_kafka_user_in_the_old_acl_form_fails(dev, get):
    acl = get(dev, "KafkaUser", "analytics")["spec"]["authorization"]["acls"][0]
    acl["operation"] = acl.pop("operations")[0]
    assert any("KafkaUser/analytics" in p for p in kube.custom_problems(dev))


def test_a_setting_no_service_reads_fails(dev, get, services):
    get(dev, "ConfigMap", "order-svc-config")["data"]["ORDER_DATABSE_URL"] = "postgresql://x"
    problems = topology.service_problems(dev, services)
    assert any("ORDER_DATABSE_URL" in p for p in problems)


def test_a_setting_with_a_value_the_service_refuses_fails(dev, get, services):
    get(dev, "ConfigMap", "customs-svc-config")["data"]["CUSTOMS_ENVIRONMENT"] = "prod"
    problems = topology.service_problems(dev, services)
    assert any("customs-svc" in p and "environment" in p for p in problems)


def test_an_api_port_that_differs_from_the_settings_fails(dev, get, services):
    get(dev, "ConfigMap", "payment-svc-config")["data"]["PAYMENT_PORT"] = "9000"
    problems = topology.service_problems(dev, services)
    assert any("`api` listens on 9000" in p for p in problems)


def test_a_network_policy_opening_another_database_fails(dev, get, services):
    rule = get(dev, "NetworkPolicy", "order-svc")["spec"]["egress"][0]
    rule["to"][0]["podSelector"]["matchLabels"]["cnpg.io/cluster"] = "payment-db"
    problems = topology.service_problems(dev, services)
    assert any("lets order-svc reach database payment-db" in p for p in problems)


def test_a_service_without_its_worker_fails(dev, get, services):
    dev.remove(get(dev, "Deployment", "shipping-svc-worker"))
    assert "shipping-svc: no workload runs `shipping-svc worker`" in topology.service_problems(
        dev, services
    )


def test_more_pods_than_the_database_admits_fails(dev, get, services):
    get(dev, "HorizontalPodAutoscaler", "order-svc-api")["spec"]["maxReplicas"] = 30
    problems = topology.connection_problems(dev, services)
    assert problems == [
        "order-svc: up to 34 pods + the migration Job with pools of 5 (+5 overflow) need 350 "
        "connections; order-db allows 200"
    ]
