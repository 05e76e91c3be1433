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


FORBIDDEN_IN_E2E = {*SERVICES, "xborder_platform"}
DEVSTACK = ROOT / "tools/devstack/src/xborder_devstack"


def imported_modules(path: Path, *, module_level_only: bool) -> set[str]:
    """Full names of the modules a file imports (absolute imports; optionally only the
    statements run at import time, not those inside functions)."""
    tree = ast.parse(path.read_text())
    if module_level_only:
        nodes: list[ast.AST] = []
        todo: list[ast.AST] = list(tree.body)
        while todo:  # into if/try/with blocks, not into functions or classes
            node = todo.pop()
            nodes.append(node)
            if isinstance(node, ast.If | ast.Try | ast.With | ast.ExceptHandler):
                todo += list(ast.iter_child_nodes(node))
    else:
        nodes = list(ast.walk(tree))
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def devstack_closure(modules: set[str]) -> dict[str, set[str]]:
    """For each xborder_devstack module reached from `modules` through module-level imports,
    the top-level packages it imports at module level."""
    seen: dict[str, set[str]] = {}
    todo = [m for m in modules if m.startswith("xborder_devstack.")]
    while todo:
        name = todo.pop()
        path = DEVSTACK / (name.removeprefix("xborder_devstack.").replace(".", "/") + ".py")
        if name in seen or not path.is_file():
            continue  # a name imported from a module, not a module of its own
        found = imported_modules(path, module_level_only=True)
        seen[name] = {m.split(".")[0] for m in found}
        todo += [m for m in found if m.startswith("xborder_devstack.")]
    return seen


def test_the_end_to_end_tests_import_no_service_code() -> None:
    files = sorted((ROOT / "tests/e2e").rglob("*.py"))
    assert files
    offenders = {}
    reached: set[str] = set()
    for path in files:
        modules = imported_modules(path, module_level_only=False)
        direct = {m.split(".")[0] for m in modules} & FORBIDDEN_IN_E2E
        through = {
            f"{m} imports {sorted(roots & FORBIDDEN_IN_E2E)}"
            for m, roots in devstack_closure(modules).items()
            if roots & FORBIDDEN_IN_E2E
        }
        reached |= set(devstack_closure(modules))
        if direct or through:
            offenders[str(path.relative_to(ROOT))] = sorted(direct) + sorted(through)
    assert offenders == {}
    assert "xborder_devstack.demo" in reached  # the storefront the tests drive the system with


def test_the_import_scanner_follows_the_devstack_modules(tmp_path: Path) -> None:
    # Guard against a check that cannot fail: a service import one module away must be found,
    # and one inside a function (run only when called) must not.
    test = tmp_path / "test_x.py"
    test.write_text("from xborder_devstack.demo import Storefront\n")
    closure = devstack_closure(imported_modules(test, module_level_only=False))
    assert "xborder_devstack.demo" in closure
    assert "xborder_devstack.config" not in closure  # demo imports it inside main() only
    assert devstack_closure({"xborder_devstack.config"})["xborder_devstack.config"] >= {
        "order_svc", "xborder_platform"
    }  # fmt: skip
    lazy = tmp_path / "lazy.py"
    lazy.write_text("import os\n\ndef f():\n    import order_svc\n")
    assert imported_modules(lazy, module_level_only=True) == {"os"}
    assert imported_modules(lazy, module_level_only=False) == {"os", "order_svc"}
