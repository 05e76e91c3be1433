"""Offline checks of xborder's deployment files: the images' Dockerfiles, docker-compose.yml and
the Kubernetes manifests (every Kustomize overlay, rendered). No Docker engine, no cluster.

Run `make deploy-check` (or `python -m deploycheck` with deploy/tools on the path). The tests in
tests/deploy feed broken variants through the same functions and expect them to fail.
"""

from deploycheck.report import Check, Report

__all__ = ["Check", "Report"]
