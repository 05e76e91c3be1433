"""Which environment variables each service reads, from its own pydantic-settings class.

Deployment files may set only these (plus a few that the Python runtime or the OpenTelemetry SDK
read): a misspelt or stale name would be ignored silently by the service.
"""

from __future__ import annotations

import base64
import importlib
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, AliasPath, BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsError

REPO = Path(__file__).resolve().parents[3]
#: Read by the Python runtime in the images, not by the services' settings.
RUNTIME_VARIABLES = frozenset({"PATH", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE"})
#: Read by the OpenTelemetry SDK (README, "Tracing").
RUNTIME_PREFIXES = ("OTEL_",)


@dataclass(frozen=True)
class ServiceSettings:
    """One service (folder name, e.g. `order-svc`) and its settings class."""

    name: str
    settings_cls: type[BaseSettings]

    @property
    def prefix(self) -> str:
        """The env prefix, e.g. `ORDER_`."""
        return str(self.settings_cls.model_config.get("env_prefix", "")).upper()

    @property
    def default_port(self) -> int:
        """The HTTP port when none is set."""
        return int(self.settings_cls.model_fields["port"].default)

    @property
    def env_names(self) -> frozenset[str]:
        """Every variable name (upper case) that sets one of the settings."""
        names: set[str] = set()
        delimiter = self.settings_cls.model_config.get("env_nested_delimiter") or ""
        for field_name, info in self.settings_cls.model_fields.items():
            outer = _env_names(self.settings_cls, field_name, info, self.prefix)
            names.update(outer)
            if delimiter:  # a nested model's fields: ORDER_WEBHOOKS__SECRET_KEYS
                for name in outer:
                    names.update(_nested_names(info.annotation, f"{name}{delimiter}", delimiter))
        return frozenset(names)

    def unknown(self, names: Iterator[str] | list[str] | set[str]) -> list[str]:
        """The names that neither the service nor the runtime reads."""
        known = self.env_names
        return sorted(
            n
            for n in set(names)
            if n.upper() not in known
            and n not in RUNTIME_VARIABLES
            and not n.startswith(RUNTIME_PREFIXES)
        )

    def invalid_values(self, env: Mapping[str, str]) -> list[str]:
        """Build the settings from exactly `env`, as the service would; the errors, if any."""
        with _only_env(env, clear=self.env_names):
            try:
                self.settings_cls()
            except ValidationError as exc:
                return [
                    f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}"
                    for e in exc.errors()
                ]
            except SettingsError as exc:  # a value that is not even JSON where JSON is read
                return [str(exc)]
        return []


def _nested_names(annotation: Any, prefix: str, delimiter: str) -> set[str]:
    """`PREFIX<FIELD>` for each field of a nested settings model (and of models nested in it)."""
    if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
        return set()
    names = set()
    for field_name, info in annotation.model_fields.items():
        name = f"{prefix}{field_name}".upper()
        names.add(name)
        names |= _nested_names(info.annotation, f"{name}{delimiter}", delimiter)
    return names


def _env_names(cls: type[BaseSettings], field_name: str, info: FieldInfo, prefix: str) -> set[str]:
    """pydantic-settings' own resolution of a field's variable names, or the documented rule."""
    try:
        source = EnvSettingsSource(cls)
        return {env.upper() for _key, env, _complex in source._extract_field_info(info, field_name)}
    except AttributeError:  # pragma: no cover - a pydantic-settings without the private helper
        pass
    alias: Any = info.validation_alias or info.alias
    if alias is None:
        return {f"{prefix}{field_name}".upper()}
    choices = alias.choices if isinstance(alias, AliasChoices) else [alias]
    names = set()
    for choice in choices:
        first = choice.path[0] if isinstance(choice, AliasPath) else choice
        names.add(str(first).upper())
    return names


@contextmanager
def _only_env(env: Mapping[str, str], *, clear: frozenset[str]) -> Iterator[None]:
    """Set `env` and hide every other variable the settings would read; restore afterwards."""
    saved = dict(os.environ)
    try:
        for key in list(os.environ):
            if key.upper() in clear:
                del os.environ[key]
        os.environ.update(env)
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def discover(repo: Path = REPO) -> dict[str, ServiceSettings]:
    """Every service under services/ with its `Settings` class (`<package>.config.Settings`)."""
    found: dict[str, ServiceSettings] = {}
    for project in sorted((repo / "services").glob("*/pyproject.toml")):
        name = project.parent.name
        module = importlib.import_module(f"{name.replace('-', '_')}.config")
        found[name] = ServiceSettings(name=name, settings_cls=module.Settings)
    return found


def placeholder(name: str) -> str:
    """A stand-in for a secret's value when only its reference is known."""
    if name.endswith("DATABASE_URL"):
        return "postgresql://svc:placeholder-secret-0123456789@db:5432/svc"
    if name.endswith("SECRET_KEYS"):  # a JSON list of Fernet keys (32 bytes, url-safe base64)
        return json.dumps([base64.urlsafe_b64encode(b"placeholder-fernet-key-32-bytes!").decode()])
    return "placeholder-secret-0123456789abcdef"
