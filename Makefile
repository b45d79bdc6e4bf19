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
	show-resil-preset validate-resil-config recommend-resil-preset keys-create keys-list keys-show keys-rotate \
	keys-revoke keys-usage

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-22s %s\n", $$1, $$2}'
	@echo "  (ENV=dev|staging|prod, AWS_REGION=..., PARAMS='Name=value ...' for deploy, FUNCTION=public|internal|worker"
	@echo "   for logs; keys-*: make run's gateway, or URL=..., or the stack of ENV=...; Lambda Python:"
	@echo "   $(or $(LAMBDA_PYTHON),not found))"

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

delete: $(SAM_VENV)/.installed ## Delete the stack of ENV (asks first; the jobs and keys tables and the SSM secrets stay)
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

# keys-*: the deployed stack of ENV when ENV is given, the API at URL=..., else TEXTAPI_URL's or the gateway
# of `make run`. SIGV4=1 signs for IAM auth (a stack deployed with InternalApiIamAuth=true is signed anyway).
# The admin key is TEXTAPI_ADMIN_KEY's, else (a stack) the first in its SSM parameter. See docs/tenants.md.
KEYS_WHERE = $(if $(URL),--url '$(URL)',$(if $(filter command line environment,$(origin ENV)),--env $(ENV)))\
	$(if $(SIGV4),--sigv4)
KEYS_CLI = @$(PY) infra/keys_cli.py
keys_option = $(if $($(1)),$(2) '$($(1))')

keys-create: $(VENV)/.installed ## Create a key, its secret shown once (NAME=, TENANT=, DAILY_BUDGET=, ...: see docs/tenants.md)
	@test -n "$(NAME)" || { echo "usage: make keys-create NAME=... [TENANT=] [DAILY_BUDGET=] [MONTHLY_BUDGET=] [RATE_LIMIT=] [SCOPES=a,b] [EXPIRES_AT=] [PROMPT_GUARD=log]"; exit 2; }
	$(KEYS_CLI) create '$(NAME)' $(KEYS_WHERE) $(call keys_option,TENANT,--tenant) \
		$(call keys_option,DAILY_BUDGET,--daily-budget) $(call keys_option,MONTHLY_BUDGET,--monthly-budget) \
		$(call keys_option,RATE_LIMIT,--rate-limit) $(call keys_option,SCOPES,--scopes) \
		$(call keys_option,EXPIRES_AT,--expires-at) $(call keys_option,PROMPT_GUARD,--prompt-guard)

keys-list: $(VENV)/.installed ## The keys, every page (TENANT= for one tenant's); never their secrets
	$(KEYS_CLI) list --all $(KEYS_WHERE) $(call keys_option,TENANT,--tenant)

keys-show: $(VENV)/.installed ## One key's record (KEY_ID=...)
	@test -n "$(KEY_ID)" || { echo "usage: make keys-show KEY_ID=key_..."; exit 2; }
	$(KEYS_CLI) show '$(KEY_ID)' $(KEYS_WHERE)

keys-rotate: $(VENV)/.installed ## A new secret for KEY_ID; the old one works GRACE_SECONDS more (default a day)
	@test -n "$(KEY_ID)" || { echo "usage: make keys-rotate KEY_ID=key_... [GRACE_SECONDS=86400]"; exit 2; }
	$(KEYS_CLI) rotate '$(KEY_ID)' $(KEYS_WHERE) $(call keys_option,GRACE_SECONDS,--grace-seconds)

keys-revoke: $(VENV)/.installed ## Revoke KEY_ID for good (401 from then on)
	@test -n "$(KEY_ID)" || { echo "usage: make keys-revoke KEY_ID=key_..."; exit 2; }
	$(KEYS_CLI) revoke '$(KEY_ID)' $(KEYS_WHERE)

keys-usage: $(VENV)/.installed ## KEY_ID's use per UTC day (FROM=, TO=), or every key's on DATE=YYYY-MM-DD
	@test -n "$(KEY_ID)$(DATE)" || { echo "usage: make keys-usage KEY_ID=key_... [FROM=YYYY-MM-DD] [TO=YYYY-MM-DD] | DATE=YYYY-MM-DD"; exit 2; }
	$(KEYS_CLI) usage $(if $(KEY_ID),'$(KEY_ID)') $(KEYS_WHERE) $(call keys_option,FROM,--from) \
		$(call keys_option,TO,--to) $(call keys_option,DATE,--date)

clean: ## Remove build output and caches
	rm -rf .aws-sam build .pytest_cache .ruff_cache .import_linter_cache
