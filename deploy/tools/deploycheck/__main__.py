"""`python -m deploycheck [REPO]`: every deploy check, one line each; exit 1 if one fails."""

from __future__ import annotations

import sys
from pathlib import Path

from deploycheck.compose import check_compose
from deploycheck.dockerfiles import check_dockerfiles
from deploycheck.manifests import check_overlays
from deploycheck.report import Report
from deploycheck.settings_env import REPO, discover


def run(repo: Path = REPO) -> Report:
    """Run every check on the repository and print the results."""
    from xborder_events.topics import ALL_TOPICS

    report = Report(out=sys.stdout)
    services = discover(repo)
    print(f"deploy-check: services {', '.join(services)}; topics from xborder_events.topics")
    print("Dockerfiles")
    report.extend(check_dockerfiles(repo, services))
    print("docker-compose.yml")
    report.extend(check_compose(repo / "docker-compose.yml", services, ALL_TOPICS))
    print("Kubernetes (deploy/k8s)")
    docs = repo / "docs" / "deployment.md"
    report.extend(check_overlays(repo / "deploy" / "k8s", services, ALL_TOPICS, docs=docs))
    print(report.summary())
    return report


def main() -> int:
    """Entry point: the exit status says whether everything passed."""
    repo = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else REPO
    return 1 if run(repo).failed else 0


if __name__ == "__main__":
    sys.exit(main())
