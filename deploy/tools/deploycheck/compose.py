"""docker-compose.yml: the Compose specification's JSON schema, then xborder's own rules."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from deploycheck.report import Check
from deploycheck.settings_env import ServiceSettings

Doc = dict[str, Any]


def load_compose_schema() -> Doc | None:
    """The Compose specification's schema as vendored by check-jsonschema, if it is installed."""
    try:
        vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    except ModuleNotFoundError:
        return None
    schema: Doc = json.loads(vendor.joinpath("compose-spec.json").read_text())
    return schema


def schema_problems(compose: Doc, schema: Doc) -> list[str]:
    """Where the file breaks the Compose specification."""
    validator_cls = jsonschema.validators.validator_for(schema)
    validator = validator_cls(schema)
    problems = []
    for error in sorted(validator.iter_errors(compose), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        problems.append(f"{where}: {error.message}")
    return problems


def environment(service: Doc) -> dict[str, str]:
    """A container's environment as a mapping (Compose allows a list of KEY=value too)."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(str(item).partition("=")[::2] for item in env)
    return {str(k): _value(v) for k, v in env.items()}


def _value(value: object) -> str:
    text = "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
    # ${VAR:-default} gives its default: the services never see the braces.
    return re.sub(r"\$\{\w+:?-([^}]*)\}", r"\1", text)


def owner(service: Doc, names: set[str]) -> str | None:
    """The xborder service whose image a Compose service runs, if any."""
    build = service.get("build")
    dockerfile = build.get("dockerfile", "") if isinstance(build, dict) else ""
    match = re.match(r"services/([\w-]+)/Dockerfile$", dockerfile)
    if match and match.group(1) in names:
        return match.group(1)
    image = str(service.get("image", "")).split(":")[0].rsplit("/", 1)[-1]
    return image if image in names else None


def role(service: Doc) -> str:
    """`api`, `worker` or `migrate`: the command a service container runs."""
    command = service.get("command") or ["api"]
    words = command.split() if isinstance(command, str) else [str(c) for c in command]
    return words[0] if words else "api"


def rule_problems(
    compose: Doc, services: Mapping[str, ServiceSettings], topics: tuple[str, ...]
) -> list[str]:
    """xborder's rules: topics, the three roles of every service, start order, settings."""
    containers: Doc = compose.get("services") or {}
    problems = _topic_problems(containers, topics)
    for name, svc in services.items():
        mine = {k: v for k, v in containers.items() if owner(v, set(services)) == name}
        by_role = {role(v): k for k, v in mine.items()}
        for needed in ("migrate", "api", "worker"):
            if needed not in by_role:
                problems.append(f"{name}: no container runs `{name} {needed}`")
        for key, container in mine.items():
            problems += _container_problems(key, container, svc, role(container), by_role)
    for infra in ("kafka", "postgres"):
        if "healthcheck" not in containers.get(infra, {}):
            problems.append(f"{infra}: no healthcheck, so nothing can wait for it to be ready")
    return problems


def _topic_problems(containers: Doc, topics: tuple[str, ...]) -> list[str]:
    creator = containers.get("kafka-topics")
    if creator is None:
        return ["no `kafka-topics` container creates the topics"]
    command = creator.get("command") or []
    listed = set(command.split() if isinstance(command, str) else command)
    missing, extra = set(topics) - listed, {t for t in listed if t.startswith("xborder.")}
    extra -= set(topics)
    problems = [f"kafka-topics does not create {t}" for t in sorted(missing)]
    return problems + [f"kafka-topics creates {t}, which no service uses" for t in sorted(extra)]


def _container_problems(
    key: str, container: Doc, svc: ServiceSettings, role_: str, by_role: dict[str, str]
) -> list[str]:
    problems: list[str] = []
    env = environment(container)
    unknown = svc.unknown(set(env))
    if unknown:
        problems.append(f"{key}: sets variables {svc.name} does not read: {', '.join(unknown)}")
    problems += [f"{key}: {p}" for p in svc.invalid_values(env)]
    deps = container.get("depends_on") or {}
    conditions = (
        {k: (v or {}).get("condition") for k, v in deps.items()}
        if isinstance(deps, dict)
        else dict.fromkeys(deps, "service_started")
    )
    if role_ == "migrate":
        if conditions.get("postgres") != "service_healthy":
            problems.append(f"{key}: must wait for postgres to be healthy")
        return problems
    migrate = by_role.get("migrate")
    if migrate and conditions.get(migrate) != "service_completed_successfully":
        problems.append(f"{key}: must start after {migrate} completed successfully")
    if role_ == "api":
        if "worker" in by_role and env.get(f"{svc.prefix}EMBEDDED_WORKER", "").lower() != "false":
            problems.append(f"{key}: set {svc.prefix}EMBEDDED_WORKER=false (a worker runs)")
        port = int(env.get(f"{svc.prefix}PORT") or svc.default_port)
        published = [str(p).split(":")[-1] for p in container.get("ports") or []]
        if str(port) not in published:
            problems.append(f"{key}: publishes no port {port} (the API's port)")
    if role_ == "worker" and conditions.get("kafka-topics") != "service_completed_successfully":
        problems.append(f"{key}: must start after kafka-topics completed successfully")
    return problems


def check_compose(
    path: Path, services: Mapping[str, ServiceSettings], topics: tuple[str, ...]
) -> list[Check]:
    """The schema check (or why it was skipped) and the rules check of one compose file."""
    compose: Doc = yaml.safe_load(path.read_text())
    spec = Check(f"{path.name}: Compose specification schema")
    schema = load_compose_schema()
    if schema is None:
        spec.skipped = "check-jsonschema (which vendors the Compose schema) is not installed"
    else:
        spec.problems = schema_problems(compose, schema)
        spec.detail = f"schema {schema.get('$id', 'compose-spec.json')}"
    rules = Check(f"{path.name}: topics, roles, start order, settings")
    rules.problems = rule_problems(compose, services, topics)
    rules.detail = f"{len(compose.get('services') or {})} containers"
    return [spec, rules]
