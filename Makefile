# The two commands a newcomer needs: `make run` and `make test`. Both bootstrap .venv themselves.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8283
STAMP := $(VENV)/.installed
# letta-client 1.7.0 is the package `letta_client` too, so it cannot share the venv with 0.1.138: it lives in its
# own folder, which the compatibility tests put first on PYTHONPATH of the scripts they run (tests/compat/sdk_scripts).
SDK_1_7 := $(VENV)/sdk-1.7.0

.PHONY: run test lint format typecheck unit bench bench-cold-start bench-peer clean venv sam artifacts

venv: $(STAMP)

# The SAM CLI lives in its own venv: it pins boto3 and cfn-lint versions that differ from the app's.
SAM_VENV := .venv-sam
SAM_STAMP := $(SAM_VENV)/.installed
SAM_CLI_VERSION := 1.170.0

sam: $(SAM_STAMP)  ## The SAM CLI in .venv-sam (sam build for the packaged-artifact tests and deploys)

$(SAM_STAMP):
	@test -x $(SAM_VENV)/bin/python || "$$(scripts/find-python.sh)" -m venv $(SAM_VENV)
	@$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip
	@$(SAM_VENV)/bin/python -m pip install --quiet aws-sam-cli==$(SAM_CLI_VERSION)
	@touch $(SAM_STAMP)

$(STAMP): pyproject.toml package.json
	@test -x $(PY) || "$$(scripts/find-python.sh)" -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet -e ".[dev]"
	@$(PY) -m pip install --quiet --no-warn-conflicts --upgrade --target $(SDK_1_7) letta-client==1.7.0
	@# asl-validator (npm) checks the state machine definitions in the test suite; @letta-ai/letta-client is Letta's
	@# TypeScript SDK, driven over HTTP by the compatibility tests.
	@if command -v npm >/dev/null; then npm install --silent --no-audit --no-fund >/dev/null; else echo "npm not found: ASL validation and TypeScript SDK tests will be skipped"; fi
	@touch $(STAMP)

run: $(STAMP)  ## Serve the whole API on 127.0.0.1:$(PORT) with embedded AWS emulation; agents use their configured models
	PORT=$(PORT) $(PY) -m lettagroups_local

test: $(STAMP) $(SAM_STAMP) lint typecheck artifacts  ## Lint, type-check, build the Lambda artifacts, run every test offline
	$(PY) -m pytest -q

# `sam build` of the template for this machine's architecture and for arm64 (as deployed), cached under
# .aws-sam/packaged/ by a hash of their inputs; the packaged-artifact tests import them (tests/packaged/).
artifacts: $(STAMP) $(SAM_STAMP)
	@$(PY) -m lettagroups_local.artifacts host arm64

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

typecheck: $(STAMP)
	$(VENV)/bin/mypy layers/common/lettagroups local/lettagroups_local

unit: $(STAMP)
	$(PY) -m pytest -q tests/unit

bench: $(STAMP)  ## CRUD latency on the local server (see README "Performance")
	$(PY) scripts/bench_crud.py

bench-cold-start: $(STAMP) $(SAM_STAMP)  ## Cold import of every function from the built artifacts (README "Cold starts")
	$(PY) scripts/bench_cold_start.py

clean:
	rm -rf $(VENV) $(SAM_VENV) .pytest_cache .mypy_cache .ruff_cache .aws-sam
