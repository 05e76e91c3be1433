# xborder: `make run` starts the whole system on this machine, `make test` runs every check.
# Both bootstrap what they need from a bare python3: uv (in .tools/), then the locked packages (.venv/).

SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(shell $(PYTHON) -c "import sys; print(sys.executable)")
export UV_PROJECT_ENVIRONMENT := .venv
RUN := $(UV) run --frozen --no-sync
PYTEST := $(RUN) pytest

.DEFAULT_GOAL := help
.PHONY: help bootstrap run start stop status demo test lint fmt schemas unit integration e2e stack-tests lock promtool deploy-check bench

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(UV):
	@echo "bootstrapping uv $(UV_VERSION) into $(TOOLS)/"
	@$(PYTHON) -m venv $(TOOLS)
	@$(TOOLS)/bin/pip install --quiet "uv==$(UV_VERSION)"

.venv/.synced: $(UV) uv.lock pyproject.toml $(wildcard */*/pyproject.toml)
	@$(UV) sync --frozen --all-packages
	@touch $@

bootstrap: .venv/.synced ## create .venv with every package from uv.lock

lock: $(UV) ## refresh uv.lock after changing a pyproject.toml
	$(UV) lock

run: bootstrap ## start everything (embedded PostgreSQL and broker, four services); Ctrl-C stops it
	@$(RUN) xborder-dev run

start: bootstrap ## start everything in the background (see `make status`, `make stop`)
	@$(RUN) xborder-dev start

stop: bootstrap ## stop a stack started with `make start`
	@$(RUN) xborder-dev stop

status: bootstrap ## show each process of a background stack and whether it is ready
	@$(RUN) xborder-dev status

N ?= 200
demo: bootstrap ## place N orders (200) on the running stack (or start it), print outcomes per lane, chart them
	@$(RUN) python -m xborder_devstack.demo --orders $(N)

lint: bootstrap ## ruff, ruff format --check, mypy --strict, import-linter
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy libs/events/src libs/platform/src tools/devstack/src services/*/src
	$(RUN) lint-imports

fmt: bootstrap ## apply ruff's fixes and formatting
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

schemas: bootstrap ## regenerate libs/events/schemas (JSON Schema, AsyncAPI) from the event models
	$(RUN) python -m xborder_events.schemas

unit: bootstrap ## tests that need no I/O
	$(PYTEST) -m "not integration and not stack"

integration: bootstrap ## tests against real PostgreSQL and a Kafka-protocol broker
	$(PYTEST) -m "integration or stack"

e2e: bootstrap ## the end-to-end scenarios against the whole system started as real processes
	$(PYTEST) tests/e2e

deploy-check: bootstrap ## offline checks of the Dockerfiles, docker-compose.yml and deploy/k8s
	@PYTHONPATH=deploy/tools $(RUN) python -m deploycheck

test: lint deploy-check promtool ## the lint gate and the deploy checks, then every test
	$(PYTEST)

bench: bootstrap ## intake, lifecycle, latency, memory and integrity vs same-run baselines (BENCH_ARGS=--quick)
	@$(RUN) python -m bench $(BENCH_ARGS)

promtool: ## fetch promtool (from Debian's prometheus package) for the alert-rule tests
	@bash .ci/fetch-promtool.sh $(TOOLS)
