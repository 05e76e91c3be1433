"""The dependency rules of STYLE.md, checked on the source (import-linter checks them too)."""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ["order_svc", "payment_svc", "shipping_svc", "customs_svc"]


def imported_roots(package_dir: Path) -> dict[str, set[str]]:
    """Top-level module names each file of a package imports (absolute imports only)."""
    found: dict[str, set[str]] = {}
    for path in package_dir.rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(package_dir))] = names
    return found


def test_events_import_only_pydantic_and_the_standard_library() -> None:
    allowed = set(sys.stdlib_module_names) | {"pydantic", "pydantic_core", "xborder_events"}
    offenders = {
        file: sorted(names - allowed)
        for file, names in imported_roots(ROOT / "libs/events/src/xborder_events").items()
        if names - allowed
    }
    assert offenders == {}


@pytest.mark.parametrize("service", SERVICES)
def test_services_do_not_import_each_other(service: str) -> None:
    folder = ROOT / "services" / service.replace("_", "-") / "src" / service
    others = set(SERVICES) - {service}
    offenders = {f: sorted(n & others) for f, n in imported_roots(folder).items() if n & others}
    assert offenders == {}


def test_platform_holds_no_service_code() -> None:
    offenders = {
        f: sorted(n & set(SERVICES))
        for f, n in imported_roots(ROOT / "libs/platform/src/xborder_platform").items()
        if n & set(SERVICES)
    }
    assert offenders == {}


def test_the_scanner_sees_a_forbidden_import(tmp_path: Path) -> None:
    # Guard against a check that cannot fail: a planted import must be found.
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "m.py").write_text("from payment_svc.config import Settings\nimport os\n")
    assert imported_roots(pkg) == {"m.py": {"payment_svc", "os"}}
