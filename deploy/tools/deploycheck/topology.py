"""xborder's own rules for the rendered manifests: every topic with partitions and replication,
worker autoscaling bounded by partitions, and each service complete and configured with names
its settings read."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from deploycheck.kube import Obj, ref
from deploycheck.policy import pod_spec, workloads
from deploycheck.settings_env import ServiceSettings, placeholder


def _of(objs: list[Obj], kind: str) -> list[Obj]:
    return [o for o in objs if o.get("kind") == kind]


def _name(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def _brokers(objs: list[Obj], cluster: str) -> int:
    pools = [
        p
        for p in _of(objs, "KafkaNodePool")
        if (p["metadata"].get("labels") or {}).get("strimzi.io/cluster") == cluster
        and "broker" in (p.get("spec") or {}).get("roles", [])
    ]
    return sum(int((p.get("spec") or {}).get("replicas", 0)) for p in pools)


def topic_problems(objs: list[Obj], topics: tuple[str, ...]) -> list[str]:
    """Every topic of ALL_TOPICS as a KafkaTopic with partitions and a replication the cluster
    can hold; min.insync.replicas below the replication, so one broker may fail."""
    problems = []
    clusters = {_name(k) for k in _of(objs, "Kafka")}
    declared = {}
    for topic in _of(objs, "KafkaTopic"):
        spec = topic.get("spec") or {}
        name = spec.get("topicName") or _name(topic)
        declared[name] = topic
        cluster = (topic["metadata"].get("labels") or {}).get("strimzi.io/cluster")
        if cluster not in clusters:
            problems.append(f"{ref(topic)}: its cluster {cluster!r} is no Kafka here")
            continue
        if "partitions" not in spec or "replicas" not in spec:
            problems.append(f"{ref(topic)}: set both partitions and replicas")
            continue
        replicas, brokers = int(spec["replicas"]), _brokers(objs, cluster)
        if replicas > brokers:
            problems.append(f"{ref(topic)}: {replicas} replicas but {brokers} broker(s)")
        min_isr = int((spec.get("config") or {}).get("min.insync.replicas", 1))
        if min_isr > replicas or (replicas > 1 and min_isr >= replicas):
            problems.append(f"{ref(topic)}: min.insync.replicas {min_isr} with {replicas} replicas")
    problems += [f"topic {t} has no KafkaTopic" for t in topics if t not in declared]
    problems += [f"KafkaTopic {t} is not in ALL_TOPICS" for t in declared if t not in topics]
    return problems


def _bootstrap_problems(where: str, servers: str, objs: list[Obj]) -> list[str]:
    problems = []
    for server in servers.split(","):
        match = re.fullmatch(r"([\w-]+)-kafka-bootstrap(?:\.[\w.-]+)?:(\d+)", server.strip())
        kafkas = {_name(k): k for k in _of(objs, "Kafka")}
        if match is None or match.group(1) not in kafkas:
            problems.append(f"{where}: {server!r} is no Kafka bootstrap service here")
            continue
        listeners = kafkas[match.group(1)]["spec"]["kafka"].get("listeners") or []
        if not any(str(listener.get("port")) == match.group(2) for listener in listeners):
            problems.append(f"{where}: no listener of {match.group(1)} on port {match.group(2)}")
    return problems


def scaling_problems(objs: list[Obj]) -> list[str]:
    """Lag triggers that reach a listener, and at most one worker per partition."""
    problems = []
    partitions = [
        int((t.get("spec") or {}).get("partitions", 1))
        for t in _of(objs, "KafkaTopic")
        if ".dlq." not in str((t.get("spec") or {}).get("topicName", _name(t)))
    ]
    for scaled in _of(objs, "ScaledObject"):
        spec = scaled.get("spec") or {}
        for trigger in spec.get("triggers") or []:
            if trigger.get("type") != "kafka":
                continue
            meta = trigger.get("metadata") or {}
            for key in ("bootstrapServers", "consumerGroup", "lagThreshold"):
                if not meta.get(key):
                    problems.append(f"{ref(scaled)}: the kafka trigger has no {key}")
            problems += _bootstrap_problems(ref(scaled), meta.get("bootstrapServers", ""), objs)
        most = int(spec.get("maxReplicaCount", 100))
        if partitions and most > min(partitions):
            problems.append(
                f"{ref(scaled)}: maxReplicaCount {most} exceeds the {min(partitions)} partitions "
                "of a topic: the extra workers would sit idle"
            )
    return problems


def _container_env(container: dict[str, Any], objs: list[Obj]) -> dict[str, str]:
    """What a container's process sees: its ConfigMaps, then its env (secrets as stand-ins)."""
    configmaps = {_name(c): c.get("data") or {} for c in _of(objs, "ConfigMap")}
    env: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        name = str((source.get("configMapRef") or {}).get("name"))
        env.update(configmaps.get(name, {}))
    for item in container.get("env") or []:
        value_from = item.get("valueFrom") or {}
        if "value" in item:
            env[item["name"]] = str(item["value"])
        elif "configMapKeyRef" in value_from:
            key_ref = value_from["configMapKeyRef"]
            env[item["name"]] = configmaps.get(key_ref.get("name"), {}).get(key_ref.get("key"), "")
        else:
            env[item["name"]] = placeholder(item["name"])
    return env


def _service_of(container: dict[str, Any], names: set[str]) -> str | None:
    image = str(container.get("image", "")).rsplit("/", 1)[-1].split("@")[0].split(":")[0]
    return image if image in names else None


def service_problems(objs: list[Obj], services: Mapping[str, ServiceSettings]) -> list[str]:
    """Each service: the api, worker and migrate workloads on the ports its settings name, with
    variables its settings read and values they accept, and its own database only."""
    problems = []
    seen: dict[str, set[str]] = {name: set() for name in services}
    for obj in workloads(objs):
        for container in pod_spec(obj).get("containers") or []:
            name = _service_of(container, set(services))
            if name is None:
                continue
            svc, where = services[name], f"{ref(obj)} container {container.get('name')}"
            args = container.get("args") or container.get("command") or ["api"]
            role = str(args[0])
            seen[name].add(role)
            env = _container_env(container, objs)
            unknown = svc.unknown(set(env))
            if unknown:
                problems.append(f"{where}: sets variables {name} does not read: {unknown}")
            problems += [f"{where}: {p}" for p in svc.invalid_values(env)]
            problems += _port_problems(where, role, container, env, svc)
    for name, roles in seen.items():
        for role in {"api", "worker", "migrate"} - roles:
            problems.append(f"{name}: no workload runs `{name} {role}`")
    return problems + _database_problems(objs, services)


def _port_problems(
    where: str, role: str, container: dict[str, Any], env: dict[str, str], svc: ServiceSettings
) -> list[str]:
    if role not in {"api", "worker"}:
        return []
    port = int(env.get(f"{svc.prefix}PORT") or svc.default_port)
    if role == "worker":
        port = int(env.get(f"{svc.prefix}WORKER_PORT") or 0) or port + 100
    declared = {p.get("containerPort") for p in container.get("ports") or []}
    if port not in declared:
        return [f"{where}: `{role}` listens on {port}, which is no declared container port"]
    return []


def _database_problems(objs: list[Obj], services: Mapping[str, ServiceSettings]) -> list[str]:
    """A service's DATABASE_URL comes from its own CloudNativePG cluster, and its network policy
    lets it reach that cluster only."""
    problems = []
    clusters = {_name(c) for c in _of(objs, "Cluster")}
    for name, svc in services.items():
        wanted = f"{name.removesuffix('-svc')}-db"
        if wanted not in clusters:
            problems.append(f"{name}: no CloudNativePG Cluster {wanted}")
        for obj in workloads(objs):
            for container in pod_spec(obj).get("containers") or []:
                if _service_of(container, set(services)) != name:
                    continue
                for item in container.get("env") or []:
                    key_ref = (item.get("valueFrom") or {}).get("secretKeyRef") or {}
                    if (
                        item["name"] == f"{svc.prefix}DATABASE_URL"
                        and key_ref.get("name") != f"{wanted}-app"
                    ):
                        problems.append(f"{ref(obj)}: {item['name']} is not {wanted}-app's uri")
        for policy in _of(objs, "NetworkPolicy"):
            selector = ((policy.get("spec") or {}).get("podSelector") or {}).get("matchLabels", {})
            if selector.get("app.kubernetes.io/name") != name:
                continue
            for rule in (policy.get("spec") or {}).get("egress") or []:
                for peer in rule.get("to") or []:
                    db = ((peer.get("podSelector") or {}).get("matchLabels") or {}).get(
                        "cnpg.io/cluster"
                    )
                    if db is not None and db != wanted:
                        problems.append(f"{ref(policy)}: lets {name} reach database {db}")
    return problems


def connection_problems(objs: list[Obj], services: Mapping[str, ServiceSettings]) -> list[str]:
    """Each database admits every connection its service may open at the autoscalers' maximum:
    (API pods + worker pods, each with one surge pod, + the migration Job) x twice the pool
    (the pool may overflow by as much again) <= max_connections."""
    problems = []
    by_name = {(o.get("kind"), _name(o)): o for o in objs}
    for name, svc in services.items():
        api = by_name.get(("Deployment", f"{name}-api"))
        hpa = by_name.get(("HorizontalPodAutoscaler", f"{name}-api"))
        scaled = by_name.get(("ScaledObject", f"{name}-worker"))
        cluster = by_name.get(("Cluster", f"{name.removesuffix('-svc')}-db"))
        if api is None or hpa is None or scaled is None or cluster is None:
            continue  # reported by the other checks
        env = _container_env(pod_spec(api)["containers"][0], objs)
        pool_field = svc.settings_cls.model_fields["db_pool_size"].default
        pool = int(env.get(f"{svc.prefix}DB_POOL_SIZE") or pool_field)
        pods = (int(hpa["spec"]["maxReplicas"]) + 1) + (int(scaled["spec"]["maxReplicaCount"]) + 1)
        wanted = (pods + 1) * 2 * pool
        parameters = ((cluster.get("spec") or {}).get("postgresql") or {}).get("parameters") or {}
        limit = int(parameters.get("max_connections", 100))
        if wanted > limit:
            problems.append(
                f"{name}: up to {pods} pods + the migration Job with pools of {pool} (+{pool} "
                f"overflow) need {wanted} connections; {_name(cluster)} allows {limit}"
            )
    return problems
