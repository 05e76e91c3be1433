"""`make deploy-check` itself (`python -m deploycheck REPO`), run as a command on a copy of the
repository: it passes on the tree as it is, and a deliberately broken manifest makes it exit 1."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

#: What the checks never read, left out of the copy.
SKIP = shutil.ignore_patterns(
    ".git", ".venv", ".tools", ".xborder", "__pycache__", ".*_cache", ".hypothesis", "results"
)


@pytest.fixture
def tree(tmp_path: Path, repo: Path, kubectl: str) -> Path:
    """A private copy of the repository, to break."""
    copy = tmp_path / "repo"
    shutil.copytree(repo, copy, ignore=SKIP, symlinks=True)
    return copy


def deploy_check(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree / "deploy" / "tools")}
    return subprocess.run(
        [sys.executable, "-m", "deploycheck", str(tree)],
        cwd=tree, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_the_command_passes_on_an_unbroken_copy(tree: Path):
    result = deploy_check(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 failed" in result.stdout.splitlines()[-1]


def test_a_deployment_without_a_selector_and_a_probe_on_a_missing_port_fail_the_command(
    tree: Path,
):
    api = tree / "deploy/k8s/base/order-svc/api.yaml"
    docs = list(yaml.safe_load_all(api.read_text()))
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    del deployment["spec"]["selector"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["livenessProbe"]["httpGet"]["port"] = "metrics"
    api.write_text(yaml.safe_dump_all(docs, sort_keys=False))

    result = deploy_check(tree)

    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "FAIL k8s dev: Kubernetes 1.31 and 1.37 schemas, strict" in out
    missing = "Deployment/order-svc-api (Kubernetes 1.31): spec: 'selector' is a required property"
    assert missing in out
    assert "FAIL k8s prod: probes" in out
    assert "livenessProbe uses port 'metrics', not declared" in out
    assert "failed" in out.splitlines()[-1]
    assert " 0 failed" not in out.splitlines()[-1]
