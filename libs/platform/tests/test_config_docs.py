"""The configuration tables of the READMEs match the settings classes, so the docs cannot drift.

Every variable a service reads (as enumerated by deploycheck's `settings_env`, from the settings
class itself) is documented in the root README's tables or in the service's README, and nothing
documented there is a variable the service does not read. The shared rows (written with
order-svc's `ORDER_` prefix) also state the defaults the settings classes have.
"""

from __future__ import annotations

import re
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from pydantic_settings import BaseSettings

from xborder_devstack.config import StackSettings
from xborder_platform.settings import BaseServiceSettings
from xborder_platform.webhooks import WebhookSettings

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "deploy" / "tools"))

from deploycheck.settings_env import ServiceSettings, discover  # noqa: E402

NAME = re.compile(r"`([A-Z][A-Z0-9_]*)`")
SHARED_PREFIX = "ORDER_"


def config_tables(readme: Path, heading: str) -> list[dict[str, str]]:
    """The tables of the README's section `heading`: variable name -> default cell.

    A row documents every `NAME` in its first cell (a variable and its aliases).
    """
    text = readme.read_text()
    match = re.search(rf"^## {heading}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, f"{readme} has no {heading} section"
    tables: list[dict[str, str]] = []
    in_table = False
    for line in match.group(1).splitlines():
        if not line.startswith("|"):
            in_table = False
            continue
        if not in_table:
            tables.append({})
            in_table = True
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or set(cells[0]) <= {"-", " "}:
            continue
        for name in NAME.findall(cells[0]):
            tables[-1][name] = cells[1]
    return [t for t in tables if t]


ROOT_TABLES = config_tables(REPO / "README.md", "Configuration")
SERVICES = discover(REPO)


def root_names(service: ServiceSettings) -> dict[str, str]:
    """What the root README documents for `service`: the shared rows (the first table) under
    its own prefix, and the other tables' variables as written."""
    names: dict[str, str] = {}
    for index, table in enumerate(ROOT_TABLES):
        for name, default in table.items():
            if index == 0 and name.startswith(SHARED_PREFIX):
                name = service.prefix + name.removeprefix(SHARED_PREFIX)
            names[name] = default
    return names


def service_names(service: ServiceSettings) -> dict[str, str]:
    """What the service's own README documents (its "Settings" section)."""
    found: dict[str, str] = {}
    for table in config_tables(REPO / "services" / service.name / "README.md", "Settings"):
        found.update(table)
    return found


def states(cell: str, default: Any) -> bool:
    """Whether a default cell says `default` (numbers compared as numbers)."""
    text = cell.replace("`", "").strip().lower()
    if default is None or default in ("", ()):
        return text.startswith(("unset", "empty", "(empty)", "(none)", "none"))
    if isinstance(default, bool):
        return text.startswith(str(default).lower())
    if isinstance(default, int | float):
        first = re.match(r"-?[\d.]+", text)
        try:
            return first is not None and Decimal(first.group()) == Decimal(str(default))
        except InvalidOperation:
            return False
    if isinstance(default, tuple):
        return text.startswith("[" + ", ".join(str(v) for v in default) + "]")
    return text.startswith(str(default).lower())


def defaults(cls: type[BaseSettings] | type[WebhookSettings]) -> dict[str, Any]:
    return {name: info.default for name, info in cls.model_fields.items()}


def test_the_readme_tables_are_found() -> None:
    assert len(ROOT_TABLES) == 3  # shared settings, order-svc's webhooks, the development stack
    assert set(SERVICES) == {"order-svc", "payment-svc", "shipping-svc", "customs-svc"}


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_variable_of_a_service_is_documented_and_nothing_else(name: str) -> None:
    service = SERVICES[name]
    documented = root_names(service) | service_names(service)
    reads = service.env_names
    assert sorted(reads - documented.keys()) == [], "undocumented variables"
    # Nothing documented with the service's prefix is a variable it does not read.
    mine = {n for n in documented if n.startswith(service.prefix)}
    assert sorted(mine - reads) == [], "documented but not read"


def test_the_shared_rows_state_the_defaults_of_the_settings_classes() -> None:
    shared = ROOT_TABLES[0]
    base = defaults(BaseServiceSettings)
    order = SERVICES["order-svc"]
    checked = 0
    for field, default in base.items():
        names = sorted(n for n in shared if n in {f"{SHARED_PREFIX}{field.upper()}", field.upper()})
        assert names, f"{field} has no row in the root README"
        if isinstance(default, SecretStr) or field == "port":
            continue  # per service: checked below
        cell = shared[names[0]]
        assert states(cell, default), (names[0], cell, default)
        checked += 1
    assert checked > 20
    for service in SERVICES.values():
        port = service.default_port
        assert str(port) in shared[f"{SHARED_PREFIX}PORT"], (service.name, port)
    dev_url = order.settings_cls.model_fields["database_url"].default.get_secret_value()
    assert dev_url.split("://", 1)[1] in shared[f"{SHARED_PREFIX}DATABASE_URL"]


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_a_service_that_changes_a_shared_default_says_so(name: str) -> None:
    """Where a service's default differs from the shared one, both READMEs give its value."""
    service = SERVICES[name]
    base = defaults(BaseServiceSettings)
    own = defaults(service.settings_cls)
    shared = ROOT_TABLES[0]
    short = name.removesuffix("-svc")
    for field, default in base.items():
        if field in ("port", "database_url") or own[field] == default:
            continue
        variable = f"{service.prefix}{field.upper()}"
        documented = service_names(service)
        assert variable in documented, f"{variable} differs from the shared default"
        assert states(documented[variable], own[field]), (variable, documented[variable])
        row = shared[f"{SHARED_PREFIX}{field.upper()}"]
        assert f"{short} {own[field]}" in row, (row, short, own[field])


def test_the_webhook_rows_state_their_defaults() -> None:
    rows = ROOT_TABLES[1]
    for field, default in defaults(WebhookSettings).items():
        variable = f"{SHARED_PREFIX}WEBHOOKS__{field.upper()}"
        assert variable in rows, variable
        assert states(rows[variable], default), (variable, rows[variable], default)


def test_the_development_stack_rows_state_their_defaults() -> None:
    rows = ROOT_TABLES[2]
    expected: dict[str, Any] = {}
    for field, info in StackSettings.model_fields.items():
        alias = info.validation_alias
        choices = getattr(alias, "choices", None)
        variable = str(choices[0]) if choices else f"XBORDER_{field.upper()}"
        expected[variable] = info.default
    assert set(rows) == set(expected)
    for variable, default in expected.items():
        if isinstance(default, Path):
            default = str(default)
        assert states(rows[variable], default), (variable, rows[variable], default)
