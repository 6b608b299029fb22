# Two commands for people: `make run` and `make test`. Everything else here serves them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app survey
# The browser tests (tests/browser) need Debian's Chromium and axe-core from npm (see package.json).
CHROMIUM := /usr/bin/chromium
NODE_STAMP := node_modules/.installed
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: run test lint migrate demo clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Debian's build, because `playwright install` downloads a browser of its own, which fails on closed networks.
$(CHROMIUM):
	$(SUDO) apt-get update -q
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium

# `npm ci` empties node_modules first, so a stamp inside it means a complete install of the locked versions.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

## Set up from nothing, migrate the SQLite database, load demo data when empty, serve on http://127.0.0.1:5000
run: $(STAMP)
	$(FLASK) db upgrade
	$(FLASK) demo
	$(FLASK) run --host 127.0.0.1 --port 5000

## Set up when needed and run every test (on PostgreSQL too when TEST_DATABASE_URL is set)
# Two test processes (pytest-xdist), one per core; each has its own databases and Redis key prefix.
test: $(STAMP) $(CHROMIUM) $(NODE_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2

migrate: $(STAMP)
	$(FLASK) db upgrade

clean:
	rm -rf $(VENV) instance .pytest_cache node_modules test-artifacts
