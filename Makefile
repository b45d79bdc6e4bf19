# textapi — run `make` for the list of targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

LAMBDA_PYTHON_VERSION := 3.13
LAMBDA_PYTHON := $(shell infra/find_python.sh $(LAMBDA_PYTHON_VERSION))
VENV_PYTHON := $(or $(LAMBDA_PYTHON),$(shell command -v python3))
VENV := .venv
SAM_VENV := .venv-sam
PY := $(VENV)/bin/python
SAM := $(SAM_VENV)/bin/sam
# The same import roots Lambda gives the code: /opt/python (layer) and /var/task (function).
CODE_PATH := layers/shared:functions/public_api:functions/internal_api
ENV ?= dev
# samconfig.toml's environment: its stack name and parameters reach every sam command through
# --config-env. `make deploy` merges PARAMS into the environment's parameters with the SAM CLI's own
# Python (infra/deploy.py), which fails the deploy when it cannot read them.
SAM_CONFIG_ENV := $(if $(filter dev,$(ENV)),default,$(ENV))
FUNCTION ?= public
LOG_FUNCTION = $(if $(filter internal,$(FUNCTION)),InternalApiFunction,$(if $(filter worker,$(FUNCTION)),PublicApiWorkerFunction,PublicApiFunction))
export SAM_CLI_TELEMETRY := 0
export AWS_REGION ?= us-east-1
export AWS_DEFAULT_REGION ?= $(AWS_REGION)

.PHONY: help install run test test-fast test-artifact fuzz lint format validate build deploy outputs logs delete \
	local bench bench-instructions bench-miss-breakdown guard-report pii-quality clean list-resil-presets \
	show-resil-preset validate-resil-config recommend-resil-preset

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-22s %s\n", $$1, $$2}'
	@echo "  (ENV=dev|staging|prod, AWS_REGION=..., PARAMS='Name=value ...' for deploy, FUNCTION=public|internal|worker"
	@echo "   for logs; Lambda Python: $(or $(LAMBDA_PYTHON),not found))"

install: $(VENV)/.installed $(SAM_VENV)/.installed ## Create .venv (app, tests) and .venv-sam (SAM CLI)

$(VENV)/.installed: requirements-dev.txt constraints.txt layers/shared/requirements.txt
	@test -n "$(VENV_PYTHON)" || { echo "No Python found: install python$(LAMBDA_PYTHON_VERSION) or python3"; exit 1; }
	@$(if $(LAMBDA_PYTHON),echo "Using the Lambda runtime's Python: $(LAMBDA_PYTHON)",echo "python$(LAMBDA_PYTHON_VERSION) not found; using $(VENV_PYTHON)")
	$(VENV_PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	@touch $@

$(SAM_VENV)/.installed: requirements-sam.txt
	python3 -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/pip install --quiet -r requirements-sam.txt
	@touch $@

run: $(VENV)/.installed ## Both APIs on http://127.0.0.1:8000, routed as API Gateway routes them
	PYTHONPATH=$(CODE_PATH) $(PY) infra/local/local_gateway.py --host 127.0.0.1 --port 8000

test: $(VENV)/.installed ## The whole offline suite (real Redis, moto server, fake Gemini, v2 events), as CI runs it
	$(PY) -m pytest --ignore=tests/artifact

test-fast: $(VENV)/.installed ## Unit tests and the API through its handlers on the memory backend; no slow ones
	$(PY) -m pytest tests/unit tests/lambda -m "not slow" -q

test-artifact: build ## The sam build layout, run in isolated python3.13 interpreters (and the IAM check)
	$(PY) -m pytest tests/artifact

fuzz: $(VENV)/.installed ## schemathesis over both OpenAPI documents of the local gateway (FUZZ_SECONDS per API, default 60)
	$(PY) tests/fuzz/run_schemathesis.py

lint: $(VENV)/.installed ## ruff (lint + format check) and the import contracts
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	PYTHONPATH=$(CODE_PATH) $(VENV)/bin/lint-imports

format: $(VENV)/.installed ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

validate: $(SAM_VENV)/.installed ## sam validate --lint (offline)
	$(SAM) validate --lint --region $(AWS_REGION)

build: $(SAM_VENV)/.installed ## sam build (needs python3.13 on PATH; found automatically)
	@test -n "$(LAMBDA_PYTHON)" || { echo "sam build needs python$(LAMBDA_PYTHON_VERSION): none works here (try pyenv install $(LAMBDA_PYTHON_VERSION))"; exit 1; }
	PATH="$(dir $(LAMBDA_PYTHON)):$$PATH" $(SAM) build

deploy: build ## sam deploy to ENV (dev, staging, prod); PARAMS="Name=value ..." adds parameters
	$(SAM_VENV)/bin/python infra/deploy.py --config-env $(SAM_CONFIG_ENV) --region $(AWS_REGION) $(PARAMS)

outputs: $(SAM_VENV)/.installed ## The deployed stack's outputs (API URL, dashboard link) for ENV
	$(SAM) list stack-outputs --config-env $(SAM_CONFIG_ENV) --region $(AWS_REGION) --output table

logs: $(SAM_VENV)/.installed ## Tail a function's logs (FUNCTION=public|internal|worker, ENV=...)
	$(SAM) logs --config-env $(SAM_CONFIG_ENV) --name $(LOG_FUNCTION) --region $(AWS_REGION) --tail

delete: $(SAM_VENV)/.installed ## Delete the stack of ENV (asks first; the jobs table and SSM secrets stay)
	$(SAM) delete --config-env $(SAM_CONFIG_ENV) --region $(AWS_REGION)

local: build ## sam local start-api (needs a Docker engine)
	@docker info >/dev/null 2>&1 || { echo "sam local needs a running Docker engine; use 'make run' without Docker"; exit 1; }
	$(SAM) local start-api --env-vars infra/env/local.json --port 3000

BENCH_SCRIPTS := bench_cold_start bench_hot_path bench_text_processing bench_local_provider bench_prompt_guard bench_pii bench_cache bench_resilience bench_jobs

bench: $(VENV)/.installed ## Cold start, hot path and per-request overhead vs a bare FastAPI+Mangum handler; fails when a target is missed
	@missed=""; for script in $(BENCH_SCRIPTS); do \
		echo "== $$script"; $(PY) tests/bench/$$script.py || missed="$$missed $$script"; \
	done; \
	if [ -n "$$missed" ]; then echo "make bench: a target was missed in:$$missed"; exit 1; fi

bench-instructions: $(VENV)/.installed ## Cold start counted in CPU instructions (valgrind): machine load cannot move it
	$(PY) tests/bench/bench_cold_start.py --instructions

bench-miss-breakdown: $(VENV)/.installed ## Where a cache miss's time goes, segment by segment (a diagnostic, no target)
	$(PY) tests/bench/miss_breakdown.py

guard-report: $(VENV)/.installed ## The prompt guard's detection and false positives on every corpus (FAMILIES=1 adds a row per family)
	$(PY) tests/unit/prompt_guard_report.py $(if $(FAMILIES),--families)

pii-quality: $(VENV)/.installed ## PII detectors: recall per type and look-alike false positives on the PII corpus (three sets); fails under target
	$(PY) tests/quality/pii_quality.py

list-resil-presets: $(VENV)/.installed ## The bundled resilience presets
	PYTHONPATH=$(CODE_PATH) $(PY) infra/resilience_cli.py list

show-resil-preset: $(VENV)/.installed ## One preset and each operation's policy (PRESET=...)
	@test -n "$(PRESET)" || { echo "usage: make show-resil-preset PRESET=simple|development|production"; exit 2; }
	PYTHONPATH=$(CODE_PATH) $(PY) infra/resilience_cli.py show $(PRESET)

validate-resil-config: $(VENV)/.installed ## Check RESILIENCE_PRESET and RESILIENCE_CUSTOM_CONFIG
	PYTHONPATH=$(CODE_PATH) $(PY) infra/resilience_cli.py validate

recommend-resil-preset: $(VENV)/.installed ## The preset for an environment (ENV=...)
	PYTHONPATH=$(CODE_PATH) $(PY) infra/resilience_cli.py recommend $(ENV)

clean: ## Remove build output and caches
	rm -rf .aws-sam build .pytest_cache .ruff_cache .import_linter_cache
