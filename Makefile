# Toolkit Advisor - run `make help` for the list of targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
PY        := $(VENV)/bin/python
RASA      := $(VENV)/bin/rasa
STAMP     := $(VENV)/.installed
MODEL     := models/toolkit-advisor.tar.gz
SPACY     := build/spacy_pipeline/meta.json
CATALOGUE := $(wildcard catalogue/*.yml)
NLU_DATA  := $(shell find data -name '*.yml' 2>/dev/null)
DOMAIN    := $(wildcard domain/*.yml) domain/questions.yml
NODE_DEPS := node_modules/.package-lock.json
CHROMIUM  := /usr/bin/chromium
AUDIT_VENV := build/audit-venv
STOCK_VENV := build/stock-venv

export TF_CPP_MIN_LOG_LEVEL := 3
export PYTHONWARNINGS := ignore
export ACTION_SERVER_URL ?= http://127.0.0.1:5055/webhook


.PHONY: help install build train run shell bench test test-unit test-e2e test-http test-channels lint validate \
        check-catalogue nlu-report clean audit

help: ## List the targets
	@echo "Toolkit Advisor - career guidance assistant (Rasa 3.6)"
	@echo
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | sort | \
	  awk 'BEGIN {FS = ":.*## "}; {printf "  make %-16s %s\n", $$1, $$2}'

# -- install ---------------------------------------------------------------------

install: $(STAMP) $(NODE_DEPS) $(CHROMIUM) ## Create .venv (Python 3.8-3.10), install the pinned Python and npm dependencies, and Debian's chromium

$(STAMP): requirements.lock pyproject.toml scripts/find_python.sh
	@python=$$(scripts/find_python.sh) || exit 1; \
	if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(not ((3,8) <= sys.version_info[:2] <= (3,10)))'; then \
	  echo "Creating $(VENV) with $$python"; rm -rf $(VENV); "$$python" -m venv $(VENV) || exit 1; \
	fi
	$(PY) -m pip install --quiet --upgrade "pip==24.0"
	$(PY) -m pip install --quiet --no-deps -r requirements.lock
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	$(PY) -m pip check
	@touch $@

# socket.io-client (served with the chat page) and playwright-core (browser tests), exactly as locked.
$(NODE_DEPS): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# The browser tests drive Debian's Chromium; Playwright's own browser downloads are never used.
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then apt_get="apt-get"; \
	elif command -v sudo >/dev/null; then apt_get="sudo apt-get"; \
	else echo "error: install Debian's chromium (apt-get install chromium) for the browser tests" >&2; exit 1; fi; \
	$$apt_get update -qq && DEBIAN_FRONTEND=noninteractive $$apt_get install -y -qq chromium

# -- build and train -----------------------------------------------------------------

$(SPACY): $(STAMP) $(CATALOGUE) advisor/spacy_pipeline.py advisor/catalogue.py
	$(PY) -m advisor.spacy_pipeline build/spacy_pipeline

domain/questions.yml: $(STAMP) catalogue/decision_tree.yml advisor/domain_slots.py
	$(PY) -m advisor.domain_slots $@

build: $(SPACY) domain/questions.yml ## Build the spaCy pipeline and the generated domain from the catalogue

# advisor/: the preference reader feeds the classifier (components/cue_featurizer.py) at training time.
$(MODEL): $(SPACY) domain/questions.yml config.yml $(NLU_DATA) $(DOMAIN) $(wildcard components/*.py) $(wildcard advisor/*.py advisor/*.yml)
	$(RASA) train --domain domain --fixed-model-name toolkit-advisor --out models
	@touch $@

train: $(MODEL) ## Train the Rasa model (only when data, config or catalogue changed)

check-catalogue: $(STAMP) ## Validate the catalogue (the same check the action server runs at start)
	$(PY) -m advisor.check_catalogue

validate: build ## rasa data validate --fail-on-warning
	$(RASA) data validate --domain domain --fail-on-warning

# -- run -----------------------------------------------------------------------------

run: train $(NODE_DEPS) ## Start the servers; chat page at http://127.0.0.1:5005/chat/ (+ REST, Slack, HTTP API)
	$(PY) -m ops.stack run

shell: train ## Chat in the terminal: action server + rasa shell
	$(PY) -m ops.stack shell

# Scaled out on loopback (ops/cluster.py; apt-installs postgresql, redis-server, nginx when missing).
.PHONY: cluster test-cluster
cluster: train $(NODE_DEPS) ## PostgreSQL + Redis + 2 Rasa servers + action server behind nginx on loopback; prints the URL, Ctrl-C stops all
	$(PY) -m ops.cluster

# -- quality -------------------------------------------------------------------------

lint: $(STAMP) ## ruff
	$(VENV)/bin/ruff check .

test-unit: build ## Plain tests: catalogue, decision logic, reading, replies, actions
	$(VENV)/bin/pytest -q -m "not servers"

test-e2e: train ## Rasa end-to-end test stories
	$(RASA) test core --stories tests/e2e --fail-on-prediction-errors --out build/results/e2e

test-http: train $(NODE_DEPS) $(CHROMIUM) ## Real servers: HTTP, simulate.py, out of scope, web chat in Chromium, Slack, rasa shell
	$(VENV)/bin/pytest -q -m servers

test-channels: train $(NODE_DEPS) $(CHROMIUM) ## Only the channels: web chat in Chromium, signed Slack requests, rasa shell
	$(VENV)/bin/pytest -q -m servers tests/test_webchat.py tests/test_slack.py tests/test_shell.py

test-cluster: train ## Scale-out tests: 20 conversations over 2 Rasa servers, a killed server, full restart, PostgreSQL outage, SQLite restart
	$(VENV)/bin/pytest -q -m cluster tests/cluster

nlu-report: build ## NLU cross-validation; writes build/results/nlu/*_report.json and nlu_f1.json
	$(PY) -m ops.nlu_report --out build/results/nlu

test: install lint audit check-catalogue validate test-unit train test-e2e test-http nlu-report ## Everything CI runs
	$(PY) -m ops.nlu_report --check build/results/nlu --min-intent-f1 0.95

# pip-audit lives in its own virtualenv: it needs a newer `packaging` than Rasa 3.6 allows.
$(AUDIT_VENV)/.installed: requirements-audit.lock $(STAMP)
	rm -rf $(AUDIT_VENV)
	$(PY) -m venv $(AUDIT_VENV)
	$(AUDIT_VENV)/bin/python -m pip install --quiet --upgrade "pip==24.0"
	$(AUDIT_VENV)/bin/python -m pip install --quiet --no-deps -r requirements-audit.lock
	$(AUDIT_VENV)/bin/python -m pip check
	@touch $@

audit: $(STAMP) $(AUDIT_VENV)/.installed ## Dependency audit: pip-audit over requirements.lock; each known vulnerability fixed or listed in security/vulnerabilities.yml
	$(PY) -m ops.audit

bench: train $(NODE_DEPS) $(STOCK_VENV)/.installed ## Benchmark against the stock rasa init assistant (and its config on this runtime): writes bench/results.{json,md} and the README table
	$(PY) -m ops.bench

# The stock assistant the speed issue measured runs on Rasa as `pip install rasa==3.6.21` leaves it.
$(STOCK_VENV)/.installed: bench/stock-requirements.lock $(STAMP)
	rm -rf $(STOCK_VENV)
	$(PY) -m venv $(STOCK_VENV)
	$(STOCK_VENV)/bin/python -m pip install --quiet --upgrade "pip==24.0"
	$(STOCK_VENV)/bin/python -m pip install --quiet --no-deps -r bench/stock-requirements.lock
	$(STOCK_VENV)/bin/python -m pip check
	@touch $@

clean: ## Remove build artefacts and trained models (keeps .venv)
	rm -rf build models results .pytest_cache domain/questions.yml
