"""Every variable the deployment files set for a service is one of its settings: the names come
from the services' own Settings classes."""

from __future__ import annotations

import yaml
from deploycheck import compose, dockerfiles
from deploycheck.policy import pod_spec, workloads


def test_names_come_from_the_settings_classes(services):
    order, shipping = services["order-svc"], services["shipping-svc"]
    assert order.prefix == "ORDER_"
    assert {"ORDER_DATABASE_URL", "ORDER_EMBEDDED_WORKER", "ORDER_WORKER_PORT"} <= order.env_names
    # Shared names come from the aliases, without the prefix.
    assert {"KAFKA_BOOTSTRAP_SERVERS", "KAFKA_TOPIC_PREFIX"} <= order.env_names
    assert "ORDER_KAFKA_BOOTSTRAP_SERVERS" not in order.env_names
    assert {"SHIPPING_SANDBOX_ENABLED", "SHIPPING_SANDBOX_TIME_SCALE"} <= shipping.env_names
    assert "SHIPPING_SANDBOX_ENABLED" not in order.env_names


def test_nested_settings_have_their_names(services):
    order = services["order-svc"]
    assert {"ORDER_WEBHOOKS", "ORDER_WEBHOOKS__SECRET_KEYS"} <= order.env_names
    assert order.unknown(["ORDER_WEBHOOKS__SECRET_KEY"]) == ["ORDER_WEBHOOKS__SECRET_KEY"]


def test_nested_values_are_checked_by_the_settings_class(services):
    order = services["order-svc"]
    url = "postgresql://order_svc:placeholder-0123456789@db:5432/order_svc"

    def check(keys: str) -> list[str]:
        return order.invalid_values(
            {"ORDER_DATABASE_URL": url, "ORDER_WEBHOOKS__SECRET_KEYS": keys}
        )

    assert check('["dqNPlmFveuhs3x_CWi2O1M_-OrBDoWjQztI3AaEbgsg="]') == []
    assert check('["not-a-fernet-key"]')
    assert check("not json")


def test_unknown_names_are_reported(services):
    order = services["order-svc"]
    assert order.unknown(["ORDER_DATABSE_URL", "ORDER_PORT", "PYTHONUNBUFFERED"]) == [
        "ORDER_DATABSE_URL"
    ]
    assert order.unknown(["ORDER_SVC_PORT"]) == ["ORDER_SVC_PORT"]


def test_values_are_checked_by_the_settings_class(services):
    order = services["order-svc"]
    url = "postgresql://order_svc:xborder-dev@db:5432/order_svc"
    assert order.invalid_values({"ORDER_DATABASE_URL": url}) == []
    assert order.invalid_values({"ORDER_DATABASE_URL": url, "ORDER_ENVIRONMENT": "production"})
    assert order.invalid_values({"ORDER_DATABASE_URL": url, "ORDER_PORT": "eighty"})


def test_compose_manifests_and_images_set_only_settings(repo, services, rendered):
    compose_file = yaml.safe_load((repo / "docker-compose.yml").read_text())
    seen: dict[str, set[str]] = {name: set() for name in services}
    for container in compose_file["services"].values():
        owner = compose.owner(container, set(services))
        if owner:
            seen[owner] |= set(compose.environment(container))
    for objs in rendered.values():
        configmaps = {
            o["metadata"]["name"]: o.get("data", {}) for o in objs if o["kind"] == "ConfigMap"
        }
        for obj in workloads(objs):
            for container in pod_spec(obj)["containers"]:
                owner = container["image"].rsplit("/", 1)[-1].split(":")[0]
                names = {e["name"] for e in container.get("env", [])}
                for source in container.get("envFrom", []):
                    names |= set(configmaps[source["configMapRef"]["name"]])
                seen[owner] |= names
    for name in services:
        text = (repo / "services" / name / "Dockerfile").read_text()
        seen[name] |= set(dockerfiles.env_names(dockerfiles.parse(text)))
    assert all(seen.values())
    assert {name: services[name].unknown(names) for name, names in seen.items()} == {
        name: [] for name in services
    }
